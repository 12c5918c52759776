"""The job row every tool shares: its states and how replies change it."""

import logging
import uuid

from botocore.exceptions import BotoCoreError, ClientError
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone

from . import aws, envelope
from .tools import ToolOfApp

log = logging.getLogger(__name__)


class Status(models.TextChoices):
    QUEUED = "queued", "Queued"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class Job(models.Model):
    """One submitted job. Subclasses say what their request and result are; their app
    declares the tool (workers.tools.ToolConfig)."""

    tool = ToolOfApp()  # the Tool its app declares

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED,
                              db_index=True)
    owner = models.CharField(max_length=64, db_index=True, editable=False,
                             help_text="The browser session that submitted the job.")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True,
                                   help_text="When the request last reached the queue.")
    sends = models.PositiveIntegerField(default=0, help_text="How often the request was sent.")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=255, blank=True)
    error = models.TextField(blank=True, help_text="Why the job failed.")
    retries = models.PositiveIntegerField(
        default=0, help_text="Worker attempts that failed transiently and were retried.")
    last_error = models.TextField(blank=True, help_text="The last transient error reported.")

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.id}"

    @property
    def is_terminal(self) -> bool:
        return self.status in (Status.DONE, Status.FAILED)

    @property
    def run_time(self):
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None

    @property
    def turnaround(self):
        if self.finished_at:
            return self.finished_at - self.created_at
        return None

    def request_fields(self) -> dict:
        """The tool's own fields of the request message."""
        raise NotImplementedError

    def fields_from_reply(self, reply: dict) -> dict:
        """Model fields to store from a `done` reply; raise ValueError if it is malformed."""
        raise NotImplementedError

    def request_body(self) -> str:
        return envelope.encode(envelope.request(self.id, **self.request_fields()))

    def enqueue(self) -> None:
        """Send the request once the transaction that made the row has committed."""
        transaction.on_commit(self.send)

    def send(self) -> bool:
        try:
            aws.send(self.tool.request_queue, self.request_body())
        except (BotoCoreError, ClientError):
            # The row stays queued with no sent_at, and the page says it waits to be sent.
            log.exception("could not send %s", self)
            return False
        type(self).objects.filter(pk=self.pk).update(sent_at=timezone.now(),
                                                     sends=F("sends") + 1)
        return True

    def apply_reply(self, reply: dict) -> bool:
        """Record a reply. The first terminal one wins; returns whether this one changed the row."""
        if reply["status"] in envelope.PROGRESS_STATUSES:  # "retrying"
            return self.note_retry(reply)
        if reply["status"] == Status.DONE:
            fields = self.fields_from_reply(reply)
            fields["error"] = ""
        else:
            fields = {"error": reply["error"][:10_000]}
        updated = type(self).objects.filter(pk=self.pk, status=Status.QUEUED).update(
            status=reply["status"],
            worker=str(reply.get("worker", ""))[:255],
            started_at=envelope.parse_timestamp(reply.get("started_at")),
            finished_at=envelope.parse_timestamp(reply.get("finished_at")) or timezone.now(),
            **fields,
        )
        return bool(updated)

    def note_retry(self, reply: dict) -> bool:
        attempt = reply.get("attempt")
        updated = type(self).objects.filter(pk=self.pk, status=Status.QUEUED).update(
            last_error=reply["error"][:2000],
            retries=attempt if isinstance(attempt, int) and attempt > 0 else F("retries") + 1,
            worker=str(reply.get("worker", ""))[:255],
        )
        return bool(updated)

    def mark_failed(self, reason: str) -> bool:
        """End a job that is still queued as failed; returns whether it was still queued."""
        updated = type(self).objects.filter(pk=self.pk, status=Status.QUEUED).update(
            status=Status.FAILED, error=reason[:10_000], finished_at=timezone.now())
        return bool(updated)

    def requeue(self) -> bool:
        """Run the job again (say, after a bug fix); `sends` keeps counting."""
        type(self).objects.filter(pk=self.pk).update(
            status=Status.QUEUED, error="", last_error="", retries=0, started_at=None,
            finished_at=None, worker="")
        self.refresh_from_db()
        return self.send()

    @property
    def progress_note(self) -> str:
        """What a user waiting on a queued job should know."""
        if self.is_terminal:
            return ""
        if self.sent_at is None:
            return "waiting to be sent to the queue"
        if self.last_error:
            return f"attempt {self.retries} hit a temporary error ({self.last_error}); retrying"
        return "waiting for a worker"
