from django.db import models

from workers.models import Job

METRIC_KEYS = ("contrast", "colorfulness", "sharpness", "brightness", "clipped")
# These are shares of 0–1, so their change reads best in percentage points.
ABSOLUTE_METRICS = ("brightness", "clipped")


class PicJob(Job):
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
        result_key = reply.get("result_key")
        if not isinstance(result_key, str) or not result_key.startswith("pic/results/"):
            raise ValueError("a done reply needs a result_key under pic/results/")
        metrics = reply.get("metrics")
        if not isinstance(metrics, dict) or not all(
            isinstance(metrics.get(side), dict) for side in ("before", "after")
        ):
            raise ValueError("a done reply needs metrics before and after")
        return {"result_key": result_key, "metrics": metrics}

    def metric_rows(self) -> list[dict]:
        """Before, after and change of each metric, for the job page and admin."""
        if not self.metrics:
            return []
        rows = []
        for key in METRIC_KEYS:
            before = self.metrics["before"].get(key)
            after = self.metrics["after"].get(key)
            if before is None or after is None:
                continue
            if key in ABSOLUTE_METRICS:
                change = f"{(after - before) * 100:+.1f} pt"
            else:
                change = f"{(after / before - 1) * 100:+.1f}%" if before else "—"
            rows.append({"name": key, "before": before, "after": after, "change": change})
        return rows
