"""What a CloudPic `done` reply may say about its job, checked in this one place."""

from jobs.replies import number

from .enhance.rules import METRIC_KEYS, NEED_KEYS, NEED_MAX

# What measure() can produce, with head-room: shares of 0-1, a Hasler-Süsstrunk
# colourfulness (below about 470 for 8-bit RGB), a Laplacian-to-spread ratio.
METRIC_RANGES = {
    "contrast": (0.0, 1.0),
    "colorfulness": (0.0, 1000.0),
    "sharpness": (0.0, 1000.0),
    "brightness": (0.0, 1.0),
    "clipped": (0.0, 1.0),
}
SIDES = ("before", "after")
# "needed": how far each of contrast, colorfulness and sharpness stood below the norm
# (0 = nothing to improve), a share up to NEED_MAX.  Optional: replies of workers from
# before it existed carry none.
NEED_RANGE = (0.0, NEED_MAX)


def fields(job, reply: dict) -> dict:
    """Model fields of a done reply for `job`; ValueError unless the worker could have sent it."""
    expected = job.own_result_key
    if reply.get("result_key") != expected:
        raise ValueError(f"result_key must be {expected}, not {reply.get('result_key')!r:.80}")
    metrics = reply.get("metrics")
    if not isinstance(metrics, dict) or not all(isinstance(metrics.get(s), dict) for s in SIDES):
        raise ValueError("a done reply needs metrics before and after")
    clean = {side: {key: metric(metrics[side].get(key), key) for key in METRIC_KEYS}
             for side in SIDES}
    if "needed" in metrics:
        needed = metrics["needed"]
        if not isinstance(needed, dict):
            raise ValueError("metrics.needed must be an object")
        clean["needed"] = {key: number(needed.get(key), key, *NEED_RANGE) for key in NEED_KEYS}
    return {"result_key": expected, "metrics": clean}


def metric(value, key: str) -> float:
    low, high = METRIC_RANGES[key]
    return number(value, key, low, high)


def displayable(metrics) -> dict | None:
    """Stored metrics as pages show them: only known keys, each a number in range or None.

    Rows from older versions may hold anything (text, missing keys, other shapes)."""
    if not isinstance(metrics, dict):
        return None
    out = {side: {key: shown(metrics.get(side), key) for key in METRIC_KEYS} for side in SIDES}
    if "needed" in metrics:
        needed = metrics["needed"]
        out["needed"] = {key: shown_need(needed, key) for key in NEED_KEYS}
    return out


def shown_need(values, key: str) -> float | None:
    try:
        return number(values.get(key), key, *NEED_RANGE) if isinstance(values, dict) else None
    except ValueError:
        return None


def shown(values, key: str) -> float | None:
    try:
        return metric(values.get(key), key) if isinstance(values, dict) else None
    except ValueError:
        return None
