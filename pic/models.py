from django.db import models

from workers.models import Job
from workers.tools import PIC

from . import replies

# These are shares of 0–1, so their change reads best in percentage points.
ABSOLUTE_METRICS = ("brightness", "clipped")


class PicJob(Job):
    tool = PIC

    image_key = models.CharField(max_length=255, help_text="Storage key of the original.")
    original_name = models.CharField(max_length=255, blank=True,
                                     help_text="The uploaded file's name, for display only.")
    strength = models.FloatField(help_text="Enhancement strength, 0 to 0.30.")
    format = models.CharField(max_length=8)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size = models.PositiveBigIntegerField(help_text="Bytes uploaded.")
    result_key = models.CharField(max_length=255, blank=True)
    metrics = models.JSONField(null=True, blank=True)

    class Meta(Job.Meta):
        verbose_name = "CloudPic job"

    @property
    def megapixels(self) -> float:
        return self.width * self.height / 1e6

    def request_fields(self) -> dict:
        return {"image_key": self.image_key, "strength": self.strength}

    def fields_from_reply(self, reply: dict) -> dict:
        return replies.fields(self, reply)

    @property
    def result_is_own(self) -> bool:
        return bool(self.result_key) and self.result_key == replies.result_key(self)

    @property
    def shown_metrics(self) -> dict | None:
        """The metrics as pages and the status JSON show them (odd stored values: None)."""
        return replies.displayable(self.metrics)

    def metric_rows(self) -> list[dict]:
        """Before, after and change of each metric, for the job page and admin."""
        metrics = self.shown_metrics
        if not metrics:
            return []
        rows = []
        for key in replies.metric_keys():
            before, after = metrics["before"][key], metrics["after"][key]
            if before is None or after is None:
                continue
            if key in ABSOLUTE_METRICS:
                change = f"{(after - before) * 100:+.1f} pt"
            else:
                change = f"{(after / before - 1) * 100:+.1f}%" if before else "—"
            rows.append({"name": key, "before": before, "after": after, "change": change})
        return rows
