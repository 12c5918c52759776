"""The job row every tool shares: its states, its request, and how replies change it.

A tool's model subclasses Job and says what is its own (docs/design.md §9): the fields
its request carries, the fields a done reply fills and how that reply is checked
(`clean_result`), and, if the default will not do, how its result looks in the API.
"""

import logging
import secrets
import uuid

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone

from workers import aws, envelope

from . import replies
from .replies import token_digest
from .tools import ToolOfApp

log = logging.getLogger(__name__)


class Status(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


# A job not yet ended: a worker's reply may still change it.
ACTIVE = (Status.QUEUED, Status.RUNNING)


class Job(models.Model):
    """One submitted job. Subclasses say what their request and result are; their app
    declares the tool (jobs.tools.ToolConfig)."""

    tool = ToolOfApp()  # the Tool its app declares

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED,
                              db_index=True)
    owner = models.CharField(max_length=64, db_index=True, editable=False,
                             help_text="The browser session that submitted the job.")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+", editable=False,
                             help_text="The account that submitted the job, if any.")
    # The submitting client's address: the queued quota counts per address too, so a
    # client that drops its cookies does not start afresh (cloudsite.limits).
    client = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
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
    # The SHA-256 of the current send's reply token (docs/design.md §4): only a reply that
    # echoes it is applied, so a reply is bound to the request that caused it.
    reply_token_hash = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.id}"

    @property
    def is_terminal(self) -> bool:
        return self.status in (Status.DONE, Status.FAILED, Status.CANCELLED)

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

    @classmethod
    def submit(cls, admit=None, **fields) -> "Job":
        """The one way a job is made, by pages and API alike: the row, then its request.

        `admit(model)`, if given, runs in the same transaction just before the insert and
        raises to refuse the job (cloudsite.limits.Admission): a limit checked there holds
        however many submissions race, since it holds its lock until the row commits."""
        with transaction.atomic():
            if admit is not None:
                admit(cls)
            job = cls.objects.create(**fields)
            job.enqueue()
        job.refresh_from_db()  # the send after commit has set sent_at
        return job

    def clean_result(self, reply: dict) -> dict:
        """Model fields to store from a `done` reply; raise ValueError unless it is exactly
        what the tool produces for this job. Every tool defines it (tools.check_contract)."""
        raise NotImplementedError

    def request_message(self) -> dict:
        """The tool's own fields of the request message: `request_fields`' values."""
        return {name: getattr(self, name) for name in self.request_fields}

    def api_result(self, request) -> dict:
        """The result of a done job as the API shows it: `result_fields`' values."""
        return {name: getattr(self, name) for name in self.result_fields}

    def request_body(self, reply_token: str) -> str:
        return envelope.encode(envelope.request(self.id, reply_token=reply_token,
                                                **self.request_message()))

    def enqueue(self) -> None:
        """Send the request once the transaction that made the row has committed."""
        transaction.on_commit(self.send)

    def send(self) -> bool:
        # A fresh token per send, its hash stored before the request can be answered.
        token = secrets.token_urlsafe(24)
        type(self).objects.filter(pk=self.pk).update(reply_token_hash=token_digest(token))
        try:
            aws.send(self.tool.request_queue, self.request_body(reply_token=token))
        except (BotoCoreError, ClientError):
            # The row stays queued with no sent_at, and the page says it waits to be sent.
            log.exception("could not send %s", self)
            return False
        type(self).objects.filter(pk=self.pk).update(sent_at=timezone.now(),
                                                     sends=F("sends") + 1)
        return True

    def apply_reply(self, reply: dict) -> bool:
        """Record a reply. The first terminal one wins; returns whether this one changed the row."""
        # Validated whole before anything is written; ValueError drops the reply.
        fields = replies.fields(self, reply)
        jobs = type(self).objects.filter(pk=self.pk)
        if reply["status"] == "running":  # only a queued job starts running
            jobs = jobs.filter(status=Status.QUEUED)
        else:
            jobs = jobs.filter(status__in=ACTIVE)
        if reply["status"] == "retrying":  # back to waiting for its next attempt
            fields.setdefault("retries", F("retries") + 1)
        return bool(jobs.update(**fields))

    def mark_failed(self, reason: str) -> bool:
        """End a job not yet ended as failed; returns whether it had not ended."""
        updated = type(self).objects.filter(pk=self.pk, status__in=ACTIVE).update(
            status=Status.FAILED, error=reason[:10_000], finished_at=timezone.now())
        return bool(updated)

    def cancel(self) -> bool:
        """Cancel a job not yet ended; a worker's later reply finds it ended."""
        updated = type(self).objects.filter(pk=self.pk, status__in=ACTIVE).update(
            status=Status.CANCELLED, finished_at=timezone.now())
        if updated:
            self.refresh_from_db()
        return bool(updated)

    def requeue(self) -> bool:
        """Run the job again (say, after a bug fix); `sends` keeps counting."""
        type(self).objects.filter(pk=self.pk).update(
            status=Status.QUEUED, error="", last_error="", retries=0, started_at=None,
            finished_at=None, worker="")
        self.refresh_from_db()
        return self.send()

    def summary(self) -> str:
        """A few words saying which job this is, for the home page's list; a tool's model
        may say more (CloudCal: "20 values, median 15.5")."""
        return self.tool.label

    def thumbnail_url(self) -> str | None:
        """A small picture of the job for lists, if the tool has one."""
        return None

    @property
    def progress_note(self) -> str:
        """What a user waiting on a queued job should know."""
        if self.is_terminal:
            return ""
        if self.sent_at is None:
            return "waiting to be sent to the queue"
        if self.status == Status.RUNNING:
            return f"running on {self.worker}" if self.worker else "running"
        if self.last_error:
            return f"attempt {self.retries} hit a temporary error ({self.last_error}); retrying"
        return "waiting for a worker"
