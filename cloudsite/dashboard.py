"""The admin's queue dashboard: depth and age of every queue of every tool, read from SQS."""

import time

from botocore.exceptions import BotoCoreError, ClientError
from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.shortcuts import render

from jobs import replies, tools
from jobs.models import Status
from workers import aws

from . import activity


def queue_row(tool, name: str, kind: str) -> dict:
    row = {"name": aws.queue_name(name), "kind": kind, "tool": tool.label}
    try:
        row.update(aws.queue_counts(name))
    except (BotoCoreError, ClientError) as error:
        row["error"] = str(error)
        return row
    oldest = oldest_epoch(tool, name)
    row["oldest_age"] = round(time.time() - oldest) if oldest else None
    return row


def oldest_epoch(tool, name: str) -> float | None:
    if name == tool.request_queue:
        return oldest_waiting(tool)
    if name == tool.response_queue:
        # Peeking would count towards its redrive limit, and SQS offers no age of its own.
        return None
    return peek_oldest(name)  # dead-letter queues have no redrive policy


def oldest_waiting(tool) -> float | None:
    # Peeking a request queue would count towards its redrive limit, so its oldest
    # message is the oldest job still waiting for a worker.
    job = tool.model.objects.filter(status=Status.QUEUED, sent_at__isnull=False).order_by(
        "sent_at").first()
    return job.sent_at.timestamp() if job else None


def peek_oldest(name: str) -> float | None:
    try:
        return aws.oldest_sent_at(name)
    except (BotoCoreError, ClientError):
        return None


@staff_member_required
def queues(request):
    rows = [queue_row(tool, name, kind) for tool in tools.installed()
            for name, kind in tool.queues()]
    dropped = [(tool.response_queue, replies.dropped_count(tool.name))
               for tool in tools.installed()]
    context = {**admin.site.each_context(request), "title": "Queues", "rows": rows,
               "dropped": dropped, "activity": activity.activity()}
    return render(request, "admin/queues.html", context)
