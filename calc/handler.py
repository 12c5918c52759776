"""The CloudCal message handler: numbers in, statistics and a log file out."""

import json

from workers import files
from workers.consumer import Context
from workers.envelope import PermanentError, timestamp

from .keys import log_key
from .stats import check_values, summarize


def handle(message: dict, context: Context) -> dict:
    try:
        numbers = check_values(message.get("numbers"))
    except ValueError as error:
        raise PermanentError(f"bad input: {error}") from None
    result = summarize(numbers)
    key = log_key(context.job_id)
    # Overwrites: a redelivered job rewrites its own log, never leaves a second copy.
    files.save(key, log_text(numbers, result, context).encode())
    return {"result": result, "log_key": key}


def log_text(numbers: list, result: dict, context: Context) -> str:
    lines = [
        "CloudCal job log",
        f"job_id: {context.job_id}",
        f"worker: {context.worker}",
        f"started_at: {context.started_at}",
        f"written_at: {timestamp()}",
        f"attempt: {context.receive_count}",
        "",
        *(f"{key}: {value!r}" for key, value in result.items()),
        "",
        f"input ({len(numbers)} values):",
        json.dumps(numbers),
        "",
    ]
    return "\n".join(lines)
