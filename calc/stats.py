"""Statistics of a list of numbers. Pure: no Django, no boto3."""

import math
from collections.abc import Sequence

MAX_VALUES = 10_000
MAX_ABS = 1e15

Number = int | float


def check_values(values: object) -> list[Number]:
    """Return the values if they are a valid input; raise ValueError saying why not."""
    if not isinstance(values, list):
        raise ValueError("numbers must be a list")
    if not 1 <= len(values) <= MAX_VALUES:
        raise ValueError(f"expected 1 to {MAX_VALUES:,} numbers, got {len(values):,}")
    for position, value in enumerate(values, start=1):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"value {position} is not a number: {str(value)[:40]!r}")
        if not math.isfinite(value) or abs(value) > MAX_ABS:
            raise ValueError(f"value {position} is not a finite number within ±1e15")
    return values


def summarize(values: Sequence[Number]) -> dict:
    """Count, min, max, mean and median of a non-empty sequence of numbers.

    Integer input gives exact results, up to the float representation of the
    mean and of a median halfway between two values.
    """
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    count = len(ordered)
    if all(type(value) is int for value in ordered):
        mean = sum(ordered) / count  # exact integer sum, one rounding
    else:
        mean = math.fsum(ordered) / count
    middle = count // 2
    if count % 2:
        median = ordered[middle]
    else:
        median = (ordered[middle - 1] + ordered[middle]) / 2
    return {"count": count, "min": ordered[0], "max": ordered[-1], "mean": mean, "median": median}
