"""What was changed, per dimension, in words: for the job page and the API.

Pure Python (no numpy, no Pillow), so that the web side can call it on stored metrics.
"""

from __future__ import annotations

from .rules import GAIN_KEYS, LITTLE

# The dimension each gain measures, as users read it.
DIMENSIONS = {"contrast": "contrast", "colorfulness": "colour", "sharpness": "detail"}


def describe(metrics: dict | None, strength: float | None = None) -> list[str]:
    """One sentence per dimension from stored metrics ({"before", "after", "needed"}),
    e.g. "contrast +12% (it needed +34%)", "little to improve in colour" or "colour +29%
    along with the other changes (little to improve on its own)".  Missing or odd values
    give no sentence for that dimension."""
    if not isinstance(metrics, dict):
        return []
    before, after = metrics.get("before"), metrics.get("after")
    needed = metrics.get("needed")
    if not isinstance(before, dict) or not isinstance(after, dict):
        return []
    cap = round(strength * 100) if isinstance(strength, (int, float)) else None
    lines = []
    for key in GAIN_KEYS:
        name = DIMENSIONS[key]
        b, a = _number(before.get(key)), _number(after.get(key))
        need = _number(needed.get(key)) if isinstance(needed, dict) else None
        if b is None or a is None:
            continue
        change = a / b - 1 if b > 0 else 0.0
        if need is not None and need < LITTLE:
            if abs(change) >= LITTLE:  # e.g. colour, which a stretch of the tones raises
                lines.append(f"{name} {_percent(change)} along with the other changes"
                             " (little to improve on its own)")
            else:
                lines.append(f"little to improve in {name}")
        elif abs(change) < LITTLE / 2:
            lines.append(f"{name} unchanged" + (f" (it needed {_percent(need)})"
                                                  if need is not None else ""))
        elif need is None:
            lines.append(f"{name} {_percent(change)}")
        elif cap is not None and need * 100 > cap:
            lines.append(f"{name} {_percent(change)} (it needed {_percent(need)};"
                         f" capped at {cap}%)")
        else:
            lines.append(f"{name} {_percent(change)} (it needed {_percent(need)})")
    return lines


def _percent(x: float) -> str:
    return f"{x * 100:+.0f}%"


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if value == value and abs(value) != float("inf") else None
