"""Where a reply is validated: `fields(job, reply)`, before anything is stored.

A reply is input like any other (docs/design.md §4): the worker role, or anyone who
reaches the queue, can put anything on a response queue. The envelope (JSON, size,
version, status) is checked by workers.envelope when the reply is decoded; this module
checks the fields every reply shares against its job and asks the job's model for the
tool's own (`clean_result`, in calc/replies.py and pic/replies.py). Each check raises
ValueError, which the reconciler turns into one log line and a drop.
"""

import hashlib
import hmac
import logging
import math
from datetime import timedelta

from django.core.cache import cache
from django.utils import timezone

from workers.envelope import MAX_TOKEN_CHARS, PROGRESS_STATUSES, parse_timestamp

log = logging.getLogger(__name__)

MAX_WORKER_CHARS = 255
MAX_ERROR_CHARS = 10_000
MAX_NOTE_CHARS = 2_000
MAX_ATTEMPT = 1_000
# Worker clocks may be a little off, but a run never starts before its job existed
# nor ends in the future.
CLOCK_SKEW = timedelta(hours=1)


def number(value, name: str, low: float, high: float) -> int | float:
    """A finite int or float (never bool) within [low, high]."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number, not {type(value).__name__}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{name} must be finite")
    if not low <= value <= high:
        raise ValueError(f"{name} must lie within [{low:g}, {high:g}]")
    return value


def integer(value, name: str, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{name} must be an integer, not {type(value).__name__}")
    return number(value, name, low, high)


def text(value, name: str, limit: int, *, truncate: bool = False) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{name} must be text, not {type(value).__name__}")
    if len(value) > limit and not truncate:
        raise ValueError(f"{name} is longer than {limit} characters")
    # NUL is no character a person reads, and PostgreSQL's text refuses it.
    return value[:limit].replace("\x00", "")


def moment(reply: dict, name: str, job, default=None):
    if reply.get(name) is None:
        return default
    value = parse_timestamp(reply[name])
    if value is None:
        raise ValueError(f"{name} is not an ISO 8601 timestamp")
    if not job.created_at - CLOCK_SKEW <= value <= timezone.now() + CLOCK_SKEW:
        raise ValueError(f"{name} {value.isoformat()} lies outside this job's lifetime")
    return value


def worker(reply: dict) -> str:
    return text(reply.get("worker", ""), "worker", MAX_WORKER_CHARS)


def fields(job, reply: dict) -> dict:
    """The model fields a decoded reply would set on `job`; ValueError unless it is exactly
    what a worker could have sent for it. The one function every reply goes through."""
    check_token(job, reply)
    if reply["status"] == "running":
        return {"status": "running", "worker": worker(reply),
                "started_at": moment(reply, "started_at", job, default=timezone.now())}
    if reply["status"] in PROGRESS_STATUSES:
        return retry_fields(reply)
    fields = terminal_fields(job, reply)
    if reply["status"] == "done":
        fields.update(job.clean_result(reply), error="")
    return fields


def token_digest(token: str) -> str:
    # A reply token is 192 random bits, not a password: a plain hash is enough.
    return hashlib.sha256(token.encode()).hexdigest()


def check_token(job, reply: dict) -> None:
    """A reply must echo the reply token of the job's current send. Only rows sent before
    tokens existed have no hash; their replies are taken as before."""
    if not job.reply_token_hash:
        return
    token = reply.get("reply_token")
    if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS:
        raise ValueError("the reply carries no reply token")
    if not hmac.compare_digest(token_digest(token), job.reply_token_hash):
        raise ValueError("the reply token is not the current send's")


def terminal_fields(job, reply: dict) -> dict:
    """Model fields of a done or failed reply that every tool shares."""
    started_at = moment(reply, "started_at", job)
    finished_at = moment(reply, "finished_at", job, default=timezone.now())
    if started_at and finished_at < started_at:
        raise ValueError("finished_at is before started_at")
    fields = {"status": reply["status"], "worker": worker(reply),
              "started_at": started_at, "finished_at": finished_at}
    if reply["status"] == "failed":
        fields["error"] = text(reply["error"], "error", MAX_ERROR_CHARS, truncate=True)
    return fields


def retry_fields(reply: dict) -> dict:
    """Model fields of a retrying reply (retries is left out when attempt is absent)."""
    fields = {"status": "queued",
              "last_error": text(reply["error"], "error", MAX_NOTE_CHARS, truncate=True),
              "worker": worker(reply)}
    if reply.get("attempt") is not None:
        fields["retries"] = integer(reply["attempt"], "attempt", 1, MAX_ATTEMPT)
    return fields


def dropped_key(tool_name: str) -> str:
    return f"cloudsite:dropped-replies:{tool_name}"


def count_dropped(tool_name: str) -> None:
    """Count a dropped reply in the shared cache, for the Queues page. Never raises."""
    key = dropped_key(tool_name)
    try:
        cache.add(key, 0, timeout=None)
        cache.incr(key)
    except Exception:  # counting must not turn a drop into a retry loop
        log.warning("could not count a dropped %s reply", tool_name, exc_info=True)


def dropped_count(tool_name: str) -> int | None:
    try:
        return cache.get(dropped_key(tool_name), 0)
    except Exception:
        return None
