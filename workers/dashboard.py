"""The admin's queue dashboard: depth and age of every queue, read from SQS."""

import time

from botocore.exceptions import BotoCoreError, ClientError
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.shortcuts import render

from . import aws, replies
from .models import Status
from .tools import TOOLS


def queue_row(name: str, oldest_epoch: float | None, kind: str) -> dict:
    row = {"name": aws.queue_name(name), "kind": kind}
    try:
        row.update(aws.queue_counts(name))
    except (BotoCoreError, ClientError) as error:
        row["error"] = str(error)
        return row
    row["oldest_age"] = round(time.time() - oldest_epoch) if oldest_epoch else None
    return row


def oldest_waiting(tool) -> float | None:
    # Peeking a request queue would count towards its redrive limit, so its oldest
    # message is the oldest job still waiting for a worker.
    model = apps.get_model(tool.model)
    job = model.objects.filter(status=Status.QUEUED, sent_at__isnull=False).order_by(
        "sent_at").first()
    return job.sent_at.timestamp() if job else None


def peek_oldest(name: str) -> float | None:
    try:
        return aws.oldest_sent_at(name)
    except (BotoCoreError, ClientError):
        return None


@staff_member_required
def queues(request):
    rows = []
    for tool in TOOLS:
        rows.append(queue_row(tool.request_queue, oldest_waiting(tool), "requests"))
        rows.append(queue_row(tool.response_queue, peek_oldest(tool.response_queue), "replies"))
        rows.append(queue_row(tool.dead_letter_queue, peek_oldest(tool.dead_letter_queue),
                              "dead letters"))
    dropped = [(tool.response_queue, replies.dropped_count(tool.name)) for tool in TOOLS]
    context = {**admin.site.each_context(request), "title": "Queues", "rows": rows,
               "dropped": dropped}
    return render(request, "admin/queues.html", context)
