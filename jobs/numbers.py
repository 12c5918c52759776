"""Numbers as people read them: 6 significant digits, no float noise (100.006, not
100.00596800000001). Only for display: the API's JSON and the log files keep every digit."""

DIGITS = 6


def for_people(value, digits: int = DIGITS) -> str:
    """`value` rounded to `digits` significant digits, as short as it can be written;
    anything not a number is returned as str() unchanged (None → "None" is for callers)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int) and abs(value) < 10 ** 15:
        return str(value)
    rounded = float(f"{value:.{digits}g}")
    if rounded.is_integer() and abs(rounded) < 1e16:
        return str(int(rounded))
    return repr(rounded)
