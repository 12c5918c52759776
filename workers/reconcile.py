"""Reconciliation: apply the replies on a tool's response queue to its job rows."""

import logging

from jobs import replies
from jobs.tools import Tool

from . import aws, envelope

log = logging.getLogger(__name__)


def reconcile(tool: Tool, *, wait_time: int = 0, max_batches: int | None = None) -> int:
    """Drain replies (batches of up to 10) until the queue looks empty; return how many applied.

    With wait_time=0 it never blocks, so a status view can call it before answering.
    """
    return drain(tool.response_queue, lambda message: apply_message(tool, message["Body"]),
                 wait_time=wait_time, max_batches=max_batches)


def drain(queue: str, apply, *, wait_time: int = 0, max_batches: int | None = None) -> int:
    """Receive batches until the queue looks empty, deleting each message that `apply`
    settled (True: it changed a row; False: dropped; None: keep it to retry later)."""
    changed, batches = 0, 0
    while max_batches is None or batches < max_batches:
        messages = aws.receive(queue, wait_time=wait_time)
        batches += 1
        if not messages:
            break
        settled = {}
        for index, message in enumerate(messages):
            outcome = apply(message)
            if outcome is not None:
                settled[str(index)] = message["ReceiptHandle"]
                changed += outcome
        aws.delete_batch(queue, settled)
    return changed


def find_job(tool: Tool, job_id: str, what: str):
    job = tool.model.objects.filter(pk=job_id).first()
    if job is None:
        log.warning("%s: dropping %s for unknown job %s", tool.name, what, job_id)
    return job


def apply_message(tool: Tool, body: str) -> bool | None:
    """Apply one reply body. True: applied; False: dropped; None: keep it to retry later."""
    try:
        reply = envelope.decode_reply(body)
    except ValueError as error:
        log.error("%s: dropping an unusable reply: %s", tool.name, error)
        replies.count_dropped(tool.name)
        return False
    job = find_job(tool, reply["job_id"], "a reply")
    if job is None:
        return False
    try:
        applied = job.apply_reply(reply)
    except ValueError as error:
        log.error("%s: dropping a malformed reply for %s: %s", tool.name, job.id, error)
        replies.count_dropped(tool.name)
        return False
    except Exception:
        log.exception("%s: could not record the reply for %s; it will come back", tool.name, job.id)
        return None
    if not applied:
        log.info("%s: job %s already finished; duplicate reply ignored", tool.name, job.id)
    return applied


def drain_dead_letters(tool: Tool, *, max_batches: int | None = None) -> int:
    """Fail the jobs whose requests SQS gave up on; return how many jobs this failed."""
    return drain(tool.request_dlq, lambda message: fail_dead_letter(tool, message),
                 max_batches=max_batches)


def fail_dead_letter(tool: Tool, message: dict) -> bool | None:
    """Mark one dead letter's job failed. True: failed it; False: dropped; None: retry later."""
    try:
        request = envelope.decode(message["Body"])
    except envelope.UndecodableMessage as error:
        # Nobody can be told; say it loudly rather than let it sit in the queue.
        log.error("%s: dropping a dead letter with no job id (%s): %.200r",
                  tool.name, error, message["Body"])
        return False
    job = find_job(tool, request["job_id"], "a dead letter")
    if job is None:
        return False
    attempts = max(job.retries, aws.MAX_RECEIVE_COUNT)
    reason = job.last_error or "no worker could handle it"
    try:
        failed = job.mark_failed(f"gave up after {attempts} attempts: {reason}")
    except Exception:
        log.exception("%s: could not fail %s; its dead letter will come back", tool.name, job.id)
        return None
    if failed:
        log.warning("%s job %s failed: its request reached the dead-letter queue",
                    tool.name, job.id)
    return failed
