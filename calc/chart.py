"""Geometry of the job page's SVG chart, drawn by the site itself (no script, no CDN).

Up to HISTOGRAM_ABOVE values: the values in input order, with horizontal lines at the
minimum, maximum, mean and median. Past that a line through thousands of points is a
solid block that hides those lines, so the chart is a histogram of the values with
vertical lines at the four statistics. Both have axes with ticks. The labels are sized
in the viewBox so that they stay readable when a phone shrinks the chart to ~340 px.
"""

import math

import numpy as np

from jobs.numbers import for_people

WIDTH, HEIGHT = 480, 280
LEFT, RIGHT, TOP, BOTTOM = 58, 14, 12, 44
HISTOGRAM_ABOVE = 200
MAX_BINS = 40
MAX_DOTS = 100
TICK = 5
STATS = ("min", "max", "mean", "median")


def nice_ticks(low: float, high: float, most: int = 5) -> list[float]:
    """Round tick values (1, 2 or 5 times a power of ten apart) covering [low, high]."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return [low]
    raw = (high - low) / most
    power = 10 ** math.floor(math.log10(raw))
    step = next(power * m for m in (1, 2, 5, 10) if power * m >= raw)
    first = math.ceil(low / step) * step
    ticks = []
    value = first
    while value <= high + step * 1e-9:
        ticks.append(round(value, 12))
        value = first + len(ticks) * step
    return ticks


def tick_label(value: float) -> str:
    return for_people(float(f"{value:.4g}"))


class Axis:
    """A linear map from data values to pixels."""

    def __init__(self, low: float, high: float, start: float, end: float):
        if high == low:  # all values equal: a range around them
            pad = abs(low) * 0.1 or 1
            low, high = low - pad, high + pad
        self.low, self.high, self.start, self.end = low, high, start, end

    def __call__(self, value: float) -> float:
        return round(self.start + (value - self.low) / (self.high - self.low)
                     * (self.end - self.start), 2)

    def ticks(self) -> list[dict]:
        return [{"at": self(v), "label": tick_label(v)} for v in nice_ticks(self.low, self.high)]


def chart(values: list, result: dict) -> dict:
    count = len(values)
    left, right, top, bottom = LEFT, WIDTH - RIGHT, TOP, HEIGHT - BOTTOM
    frame = {"width": WIDTH, "height": HEIGHT, "left": left, "right": right, "top": top,
             "bottom": bottom, "tick_end": bottom + TICK, "label_y": bottom + TICK + 14,
             "ylabel_x": left - TICK - 3, "ytick_x": left - TICK,
             "title_x": (left + right) / 2,
             "title_y": HEIGHT - 4, "count": count,
             "legend": [{"name": name, "label": f"{name} {for_people(result[name])}"}
                        for name in STATS]}
    low, high = result["min"], result["max"]
    if count > HISTOGRAM_ABOVE:
        xs = Axis(low, high, left, right)
        bins = min(MAX_BINS, math.ceil(math.sqrt(count)))
        counts, edges = np.histogram(np.asarray(values, dtype=float), bins=bins,
                                     range=(xs.low, xs.high))
        ys = Axis(0, int(counts.max()), bottom, top)
        bars = [{"x": xs(a), "y": ys(c), "w": max(round(xs(b) - xs(a) - 1, 2), 0.5),
                 "h": round(bottom - ys(c), 2)}
                for a, b, c in zip(edges[:-1], edges[1:], counts.tolist(), strict=True)]
        marks = [{"name": name, "x1": xs(result[name]), "x2": xs(result[name]),
                  "y1": top, "y2": bottom} for name in STATS]
        yticks = [tick for tick in ys.ticks() if float(tick["label"]).is_integer()]
        return {**frame, "kind": "histogram", "bars": bars, "marks": marks,
                "xticks": xs.ticks(), "yticks": yticks, "x_title": "value",
                "y_title": "values in bin",
                "description": f"Histogram of {count} values in {bins} bins with minimum, "
                               "maximum, mean and median marked"}
    xs = Axis(1, count, left + 6, right - 6)
    ys = Axis(low, high, bottom - 6, top + 6)
    points = [(xs(i), ys(v)) for i, v in enumerate(values, start=1)]
    xticks = [tick for tick in Axis(1, max(count, 2), left + 6, right - 6).ticks()
              if float(tick["label"]).is_integer() and 1 <= float(tick["label"]) <= count]
    marks = [{"name": name, "x1": left, "x2": right, "y1": ys(result[name]),
              "y2": ys(result[name])} for name in STATS]
    return {**frame, "kind": "line", "polyline": " ".join(f"{x},{y}" for x, y in points),
            "dots": points if count <= MAX_DOTS else [], "marks": marks, "xticks": xticks,
            "yticks": ys.ticks(), "x_title": "position in input",
            "y_title": "value",
            "description": f"The {count} values in input order with minimum, maximum, "
                           "mean and median marked"}
