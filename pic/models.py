import logging
import uuid
from pathlib import PurePath

from botocore.exceptions import BotoCoreError, ClientError
from django.core.files.storage import default_storage
from django.db import models
from django.urls import reverse

from jobs.models import Job

from . import replies
from .enhance.rules import ABSOLUTE_METRICS, EXTENSIONS, METRIC_KEYS
from .enhance.summary import describe
from .keys import ORIGINALS, original_key, result_key

log = logging.getLogger(__name__)


def display_name(name: str | None) -> str:
    """The upload's own file name, for display only (never in a key); no NUL, which
    PostgreSQL's text refuses."""
    return PurePath((name or "").replace("\x00", "")).name[:255]


class StoreFailed(Exception):
    """The original could not be stored; no job was recorded."""


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

    @classmethod
    def submit_photo(cls, upload, info, strength_percent: int, **ownership) -> "PicJob":
        """Store a checked upload (`info` from pic.enhance.inspect), then submit the job."""
        job_id = uuid.uuid4()
        key = original_key(job_id, info.extension)
        # Upload first, then record: no network I/O inside the transaction.
        try:
            default_storage.save(key, upload)
        except (BotoCoreError, ClientError, OSError) as error:
            log.exception("could not store the original of %s", job_id)
            raise StoreFailed("The photo could not be stored just now; please try again.") \
                from error
        try:
            return cls.submit(
                id=job_id, image_key=key, original_name=display_name(upload.name),
                format=info.format, width=info.width, height=info.height, size=upload.size,
                strength=strength_percent / 100, **ownership)
        except Exception:
            # Refused (an abuse limit) or not recorded: no job will ever name the photo.
            default_storage.delete(key)
            raise

    @property
    def megapixels(self) -> float:
        return self.width * self.height / 1e6

    request_fields = ("image_key", "strength")
    result_fields = ("result_key", "metrics")

    def clean_result(self, reply: dict) -> dict:
        return replies.fields(self, reply)

    def api_result(self, request) -> dict:
        def link(name: str) -> str:
            return request.build_absolute_uri(reverse(f"api:pic_{name}", args=[self.id]))
        return {"metrics": self.shown_metrics, "changes": self.change_summary,
                "original_url": link("original"), "result_url": link("result")}

    def summary(self) -> str:
        name = self.original_name or "photo"
        return f"{name}, {self.width} × {self.height}, strength {self.strength * 100:.0f}%"

    def thumbnail_url(self) -> str | None:
        which = "result" if self.result_is_own else "original"
        if which == "original" and not self.original_is_own:
            return None
        return reverse("pic:thumbnail", args=[self.id, which])

    @property
    def original_is_own(self) -> bool:
        return self.image_key.startswith(f"{ORIGINALS}{self.id}.")

    @property
    def result_is_own(self) -> bool:
        return bool(self.result_key) and self.result_key == self.own_result_key

    @property
    def own_result_key(self) -> str:
        """The one key a result of this job may have: its id and its original's extension."""
        return result_key(self.id, EXTENSIONS.get(self.format, "invalid"))

    @property
    def shown_metrics(self) -> dict | None:
        """The metrics as pages and the status JSON show them (odd stored values: None)."""
        return replies.displayable(self.metrics)

    @property
    def change_summary(self) -> list[str]:
        """Per dimension, what was changed and by how much, or that little was to improve."""
        return describe(self.shown_metrics, self.strength)

    def metric_rows(self) -> list[dict]:
        """Before, after and change of each metric, for the job page and admin."""
        metrics = self.shown_metrics
        if not metrics:
            return []
        rows = []
        for key in METRIC_KEYS:
            before, after = metrics["before"][key], metrics["after"][key]
            if before is None or after is None:
                continue
            if key in ABSOLUTE_METRICS:
                change = f"{(after - before) * 100:+.1f} pt"
            else:
                change = f"{(after / before - 1) * 100:+.1f}%" if before else "—"
            rows.append({"name": key, "before": before, "after": after, "change": change})
        return rows
