"""What a CloudCal `done` reply may say about its job, checked in this one place."""

from jobs.replies import integer, number

from .keys import log_key
from .stats import MAX_ABS, MAX_VALUES

RESULT_KEYS = ("count", "min", "max", "mean", "median")


def fields(job, reply: dict) -> dict:
    """Model fields of a done reply for `job`; ValueError unless the worker could have sent it."""
    result = reply.get("result")
    if not isinstance(result, dict) or not all(key in result for key in RESULT_KEYS):
        raise ValueError("a done reply needs a result with " + ", ".join(RESULT_KEYS))
    clean = {"count": integer(result["count"], "count", 1, MAX_VALUES)}
    for key in RESULT_KEYS[1:]:
        clean[key] = number(result[key], key, -MAX_ABS, MAX_ABS)
    check_consistent(clean, job.numbers)
    if reply.get("log_key") != log_key(job.id):
        raise ValueError(f"log_key must be {log_key(job.id)}, not {reply.get('log_key')!r:.80}")
    return {"result": clean, "log_key": log_key(job.id)}


def check_consistent(result: dict, numbers: list) -> None:
    # Cheap checks against the job's own input (O(n), n <= 10,000): a reply for the
    # right job id but with made-up figures is refused.
    if result["count"] != len(numbers):
        raise ValueError(f"count {result['count']} != {len(numbers)} values submitted")
    try:
        low, high = min(numbers), max(numbers)
    except (TypeError, ValueError):  # a row from an older version with odd input
        raise ValueError("the job's own values cannot be compared") from None
    if result["min"] != low or result["max"] != high:
        raise ValueError("min and max are not those of the submitted values")
    for key in ("mean", "median"):
        if not result["min"] <= result[key] <= result["max"]:
            raise ValueError(f"{key} lies outside [min, max]")


def displayable(result) -> dict | None:
    """A stored result as pages show it: each figure a bounded number, or None.

    Rows from older versions may hold anything (bools, 400-digit numbers, text)."""
    if not isinstance(result, dict):
        return None
    shown = {}
    for key in RESULT_KEYS:
        try:
            shown[key] = number(result.get(key), key, -MAX_ABS, MAX_ABS)
        except ValueError:
            shown[key] = None
    return shown


def chartable(numbers, result: dict | None) -> bool:
    """Whether the chart can be drawn: all values and the marked figures are numbers."""
    if not result or None in result.values() or not isinstance(numbers, list) or not numbers:
        return False
    try:
        for value in numbers:
            number(value, "value", -MAX_ABS, MAX_ABS)
    except ValueError:
        return False
    return True
