"""One job: a request message in, an Outcome out (the reply, and what becomes of the
message). Runs in a job thread; knows nothing of batches, threads or the other jobs.

A handler takes a decoded request and a Context and returns the reply's result fields;
it raises PermanentError for bad input. Anything else it raises is taken as transient:
the message is left to come back, and the dead-letter queue catches what never succeeds.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from . import envelope, metrics

log = logging.getLogger("workers.consumer")

MAX_RETRY_DELAY = 900


@dataclass(frozen=True)
class Context:
    job_id: str
    worker: str
    started_at: str
    receive_count: int


Handler = Callable[[dict, Context], dict]


@dataclass
class Outcome:
    reply: dict | None = None
    delete: bool = False
    # Seconds until the message may be received again; 0 hands it back at once.
    visibility: int | None = None


def describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:500]


def backoff(retry_delay: int, receive_count: int) -> int:
    """Seconds before a transiently failed message comes back: doubling per receive."""
    return min(MAX_RETRY_DELAY, retry_delay * 2 ** max(0, receive_count - 1))


def running_note(job_id: str, *, worker: str, started_at: str, token: str | None) -> dict:
    return envelope.bind(envelope.running(job_id, worker=worker, started_at=started_at), token)


def decode(message: dict, tool_name: str) -> dict | None:
    """The request of a message, or None (logged) if it is not one: no reply can be made,
    and the message is left for the dead-letter queue."""
    try:
        return envelope.decode(message["Body"])
    except envelope.UndecodableMessage as error:
        log.error("%s worker: undecodable message %s left for the dead-letter queue: %s",
                  tool_name, message.get("MessageId"), error)
        return None


def run(handler: Handler, tool_name: str, payload: dict, context: Context, *,
        retry_delay: int) -> Outcome:
    """Run the handler on a decoded request; the Outcome says what to reply and whether
    to delete the message or hand it back later."""
    job_id, worker, token = context.job_id, context.worker, envelope.reply_token(payload)
    started = time.monotonic()
    try:
        envelope.check_version(payload)
        result = handler(payload, context)
        reply = envelope.reply(job_id, worker=worker, started_at=context.started_at,
                               result=result)
        done = True
    except envelope.PermanentError as error:
        reply = envelope.reply(job_id, worker=worker, started_at=context.started_at,
                               error=str(error))
        done = False
        log.info("%s job %s failed: %s", tool_name, job_id, error)
    except Exception as error:
        delay = backoff(retry_delay, context.receive_count)
        log.exception("%s job %s: transient failure (receive %s), back in %s s",
                      tool_name, job_id, context.receive_count, delay)
        note = envelope.progress(job_id, worker=worker, error=describe(error),
                                 attempt=context.receive_count)
        return Outcome(reply=envelope.bind(note, token), visibility=delay)
    milliseconds = (time.monotonic() - started) * 1000
    if done:
        log.info("%s job %s done in %.0f ms", tool_name, job_id, milliseconds)
    metrics.job_finished(tool_name, done=done, milliseconds=milliseconds)
    return Outcome(reply=envelope.bind(reply, token), delete=True)


def encode_reply(reply: dict, worker: str, tool_name: str) -> str:
    """The reply's body; a reply too large to send becomes a failed reply saying so."""
    try:
        return envelope.encode(reply)
    except ValueError as error:
        log.error("%s job %s: reply not sendable: %s", tool_name, reply["job_id"], error)
        return envelope.encode(envelope.bind(envelope.reply(
            reply["job_id"], worker=worker, started_at=reply.get("started_at", ""),
            error=f"the result could not be sent: {error}"), reply.get("reply_token")))
