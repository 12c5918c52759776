"""The lost-message sweeper: re-send queued jobs that have waited too long, then give up."""

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from jobs.models import ACTIVE
from jobs.tools import Tool

log = logging.getLogger(__name__)

BATCH = 100


def sweep(tool: Tool, now=None) -> dict[str, int]:
    """Re-send or time out the tool's overdue queued jobs. Workers are idempotent, so a
    re-send of a job whose request still exists only costs a second run."""
    model = tool.model
    now = now or timezone.now()
    resend_after = timedelta(seconds=settings.CLOUDSITE_RESEND_SECONDS)
    counts = {"sent": 0, "resent": 0, "timed_out": 0}
    # A running job whose worker died is as overdue as a queued one.
    queued = model.objects.filter(status__in=ACTIVE).order_by("created_at")

    never_sent = queued.filter(
        sent_at__isnull=True,
        created_at__lt=now - timedelta(seconds=settings.CLOUDSITE_SEND_RETRY_SECONDS))
    for job in never_sent[:BATCH]:
        if job.created_at < now - resend_after * settings.CLOUDSITE_MAX_SENDS:
            counts["timed_out"] += job.mark_failed("timed out: it could not be sent to the queue")
        elif job.send():
            counts["sent"] += 1

    for job in queued.filter(sent_at__lt=now - resend_after)[:BATCH]:
        if job.sends >= settings.CLOUDSITE_MAX_SENDS:
            counts["timed_out"] += job.mark_failed(
                f"timed out: no reply after {job.sends} sends")
        elif job.send():
            counts["resent"] += 1
            log.warning("%s job %s: no reply for %s; sent again", tool.name, job.id, resend_after)
    return counts
