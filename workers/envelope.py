"""The v1 message envelope (DESIGN.md §4): encoding, decoding, validation."""

import json
import uuid
from datetime import UTC, datetime

VERSION = 1
MAX_BODY_BYTES = 256 * 1024
TERMINAL_STATUSES = ("done", "failed")
# A progress reply: the job hit a transient error and will be retried.
PROGRESS_STATUSES = ("retrying",)


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


def decode(body: str) -> dict:
    """Parse a body into a dict carrying a valid job id; raise UndecodableMessage otherwise."""
    try:
        payload = json.loads(body)
    except ValueError as error:
        raise UndecodableMessage(f"body is not JSON: {error}") from None
    if not isinstance(payload, dict):
        raise UndecodableMessage("body is not a JSON object")
    job_id = payload.get("job_id")
    try:
        payload["job_id"] = str(uuid.UUID(job_id))
    except (TypeError, ValueError, AttributeError):
        raise UndecodableMessage(f"job_id is missing or not a UUID: {job_id!r}") from None
    return payload


def check_version(payload: dict) -> None:
    if payload.get("version") != VERSION:
        raise PermanentError(f"unsupported message version {payload.get('version')!r}")


def decode_reply(body: str) -> dict:
    """Parse and check a reply; raise ValueError if it cannot be applied."""
    try:
        reply = decode(body)
        check_version(reply)
    except (UndecodableMessage, PermanentError) as error:
        raise ValueError(str(error)) from None
    if reply.get("status") not in TERMINAL_STATUSES + PROGRESS_STATUSES:
        raise ValueError(f"unknown reply status {reply.get('status')!r}")
    if reply["status"] != "done" and not isinstance(reply.get("error"), str):
        raise ValueError(f"a {reply['status']} reply needs an error text")
    return reply


def timestamp(moment: datetime | None = None) -> str:
    moment = moment or datetime.now(UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_timestamp(value) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


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


def progress(job_id: str, *, worker: str, error: str, attempt: int) -> dict:
    """A non-terminal reply: attempt `attempt` failed transiently and the job will be retried."""
    return {"version": VERSION, "job_id": job_id, "status": "retrying", "error": error,
            "attempt": attempt, "worker": worker, "at": timestamp()}
