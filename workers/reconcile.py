"""Reconciliation: apply the replies on a tool's response queue to its job rows."""

import logging
import re

from botocore.exceptions import BotoCoreError, ClientError

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


# What SQS refuses in a body: characters outside XML's, such as NUL or a lone surrogate.
NOT_SENDABLE = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def sendable(body: str | bytes) -> str:
    """A copy of a body that SQS will take: bytes decoded, what it refuses escaped, cut to
    its size limit (only a body that never came from SQS needs any of it)."""
    if isinstance(body, bytes | bytearray):
        body = bytes(body).decode("utf-8", "backslashreplace")
    body = NOT_SENDABLE.sub(lambda m: m.group().encode("unicode_escape").decode(), str(body))
    return body.encode("utf-8")[:envelope.MAX_BODY_BYTES].decode("utf-8", "ignore")


def dead_letter(tool: Tool, body: str) -> bool | None:
    """Move a reply that will never apply to the response dead-letter queue, so a copy is
    kept to inspect (who sends forged or broken replies?); count it as dropped.
    False once it is there (the caller deletes the original); None if the copy could not
    be made, so the original stays to be tried again."""
    try:
        aws.send(tool.response_dlq, sendable(body))
    except (BotoCoreError, ClientError):
        log.exception("%s: could not dead-letter a reply; it will come back", tool.name)
        return None
    replies.count_dropped(tool.name)
    return False


def apply_message(tool: Tool, body: str) -> bool | None:
    """Apply one reply body. True: applied; False: dropped (dead-lettered if it could never
    apply); None: keep it to retry later."""
    try:
        reply = envelope.decode_reply(body)
    except ValueError as error:
        log.error("%s: dead-lettering an unusable reply: %s", tool.name, error)
        return dead_letter(tool, body)
    job = find_job(tool, reply["job_id"], "a reply")
    if job is None:
        return False
    try:
        applied = job.apply_reply(reply)
    except ValueError as error:
        log.error("%s: dead-lettering a malformed reply for %s: %s", tool.name, job.id, error)
        return dead_letter(tool, body)
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
