"""Reconciliation: apply the replies on a tool's response queue to its job rows."""

import logging

from django.apps import apps

from . import aws, envelope
from .tools import Tool

log = logging.getLogger(__name__)


def reconcile(tool: Tool, *, wait_time: int = 0, max_batches: int | None = None) -> int:
    """Drain replies (batches of up to 10) until the queue looks empty; return how many applied.

    With wait_time=0 it never blocks, so a status view can call it before answering.
    """
    applied, batches = 0, 0
    while max_batches is None or batches < max_batches:
        messages = aws.receive(tool.response_queue, wait_time=wait_time)
        batches += 1
        if not messages:
            break
        done = {}
        for index, message in enumerate(messages):
            outcome = apply_message(tool, message["Body"])
            if outcome is not None:
                done[str(index)] = message["ReceiptHandle"]
                applied += outcome
        aws.delete_batch(tool.response_queue, done)
    return applied


def apply_message(tool: Tool, body: str) -> bool | None:
    """Apply one reply body. True: applied; False: dropped; None: keep it to retry later."""
    try:
        reply = envelope.decode_reply(body)
    except ValueError as error:
        log.error("%s: dropping an unusable reply: %s", tool.name, error)
        return False
    model = apps.get_model(tool.model)
    job = model.objects.filter(pk=reply["job_id"]).first()
    if job is None:
        log.warning("%s: dropping a reply for unknown job %s", tool.name, reply["job_id"])
        return False
    try:
        applied = job.apply_reply(reply)
    except ValueError as error:
        log.error("%s: dropping a malformed reply for %s: %s", tool.name, job.id, error)
        return False
    except Exception:
        log.exception("%s: could not record the reply for %s; it will come back", tool.name, job.id)
        return None
    if not applied:
        log.info("%s: job %s already finished; duplicate reply ignored", tool.name, job.id)
    return applied
