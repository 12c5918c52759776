"""The v1 message envelope (docs/design.md §4): encoding, decoding, validation."""

import json
import math
import uuid
from datetime import UTC, datetime

VERSION = 1
MAX_BODY_BYTES = 256 * 1024
# Our messages nest three levels deep. json.loads recurses once per level (a body of
# thousands of brackets raises RecursionError), and so would whatever later stores or
# renders a deep value: anything deeper than this is refused.
MAX_DEPTH = 16
# The web app puts a fresh random token in each request; every reply to it carries the
# token back unchanged (bind). Anything else in that field (not a string, too long) is
# not echoed.
MAX_TOKEN_CHARS = 100
TERMINAL_STATUSES = ("done", "failed")
# Progress replies: the job started ("running"), or hit a transient error and will be
# retried ("retrying"). Readers treat any status but done and failed as progress.
PROGRESS_STATUSES = ("running", "retrying")


class UndecodableMessage(Exception):
    """A body with no usable job id: nobody can be told, so it goes to the dead-letter queue."""


class PermanentError(Exception):
    """Bad input in a message: retrying cannot help. The text is shown to the user."""


def encode(payload: dict) -> str:
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    if len(body.encode()) > MAX_BODY_BYTES:
        raise ValueError(f"message body is larger than {MAX_BODY_BYTES} bytes")
    return body


def request(job_id: uuid.UUID | str, **fields) -> dict:
    return {"version": VERSION, "job_id": str(job_id), **fields}


def reply_token(request: dict) -> str | None:
    """The request's reply token, a fresh random string per send (docs/design.md §4)."""
    token = request.get("reply_token")
    return token if isinstance(token, str) and len(token) <= MAX_TOKEN_CHARS else None


def bind(reply: dict, token: str | None) -> dict:
    """Bind a reply to its request by echoing the request's token, if it had one: the
    web app applies only replies that carry the current send's."""
    if token is not None:
        reply["reply_token"] = token
    return reply


def reject_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999 parses as infinity
        raise ValueError(f"{text[:20]} is not a finite number")
    return value


def nesting_depth(value: object) -> int:
    """How deep lists and dicts nest in a parsed value, counted without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            depth += 1
            deepest = max(deepest, depth)
            stack.extend((child, depth) for child in
                         (item.values() if isinstance(item, dict) else item))
    return deepest


def loads(body: str | bytes) -> object:
    """Parse untrusted JSON; raise ValueError (never RecursionError or OverflowError)."""
    if isinstance(body, bytes | bytearray):
        if len(body) > MAX_BODY_BYTES:
            raise ValueError(f"body is larger than {MAX_BODY_BYTES} bytes")
        body = body.decode("utf-8")  # UnicodeDecodeError is a ValueError
    elif not isinstance(body, str):
        raise ValueError(f"body is a {type(body).__name__}, not text")
    elif len(body) > MAX_BODY_BYTES or len(body.encode("utf-8")) > MAX_BODY_BYTES:
        # (encode also refuses lone surrogates, which are not UTF-8)
        raise ValueError(f"body is larger than {MAX_BODY_BYTES} bytes")
    try:
        value = json.loads(body, parse_constant=reject_constant, parse_float=finite_float)
    except RecursionError:  # the C parser raises it cleanly, before the stack runs out
        raise ValueError("body nests too deeply") from None
    if nesting_depth(value) > MAX_DEPTH:
        raise ValueError(f"body nests deeper than {MAX_DEPTH} levels")
    return value


def decode(body: str | bytes) -> dict:
    """Parse a body into a dict carrying a valid job id; raise UndecodableMessage otherwise."""
    try:
        payload = loads(body)
    except ValueError as error:
        raise UndecodableMessage(f"body is not usable JSON: {str(error)[:200]}") from None
    if not isinstance(payload, dict):
        raise UndecodableMessage("body is not a JSON object")
    job_id = payload.get("job_id")
    try:
        payload["job_id"] = str(uuid.UUID(job_id))
    except (TypeError, ValueError, AttributeError):
        raise UndecodableMessage(f"job_id is missing or not a UUID: {job_id!r:.80}") from None
    return payload


def check_version(payload: dict) -> None:
    version = payload.get("version")
    # `true == 1` in Python: a bool, or 1.0, is not the integer version 1.
    if type(version) is not int or version != VERSION:
        raise PermanentError(f"unsupported message version {payload.get('version')!r}")


def decode_reply(body: str | bytes) -> dict:
    """Parse and check a reply's envelope; raise ValueError if it cannot be applied.

    The fields every reply shares are checked against the job by jobs.replies, and
    the tool's own fields by the tool's replies module.
    """
    try:
        reply = decode(body)
        check_version(reply)
    except (UndecodableMessage, PermanentError) as error:
        raise ValueError(str(error)) from None
    if reply.get("status") not in TERMINAL_STATUSES + PROGRESS_STATUSES:
        raise ValueError(f"unknown reply status {reply.get('status')!r:.40}")
    if reply["status"] in ("failed", "retrying") and not isinstance(reply.get("error"), str):
        raise ValueError(f"a {reply['status']} reply needs an error text")
    return reply


def timestamp(moment: datetime | None = None) -> str:
    moment = moment or datetime.now(UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_timestamp(value) -> datetime | None:
    """An aware datetime (naive ones are taken as UTC), or None if value is not one."""
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def reply(job_id: str, *, worker: str, started_at: str, result: dict | None = None,
          error: str | None = None) -> dict:
    """A terminal reply: `result` holds the tool's result fields, or `error` says why it failed."""
    payload = {"version": VERSION, "job_id": job_id}
    if error is None:
        payload["status"] = "done"
        payload.update(result or {})
    else:
        payload["status"] = "failed"
        payload["error"] = error
    payload.update(worker=worker, started_at=started_at, finished_at=timestamp())
    return payload


def running(job_id: str, *, worker: str, started_at: str) -> dict:
    """A non-terminal reply: the job has started and is still running."""
    return {"version": VERSION, "job_id": job_id, "status": "running", "worker": worker,
            "started_at": started_at}


def progress(job_id: str, *, worker: str, error: str, attempt: int) -> dict:
    """A non-terminal reply: attempt `attempt` failed transiently and the job will be retried."""
    return {"version": VERSION, "job_id": job_id, "status": "retrying", "error": error,
            "attempt": attempt, "worker": worker, "at": timestamp()}
