"""Geometry of the job page's inline SVG chart: the values in order, the statistics marked."""

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 8, 110, 12, 12
MAX_COLUMNS = 600  # past this many values, each column shows the range of its bucket
MAX_DOTS = 100


LABEL_GAP = 14


def spread_labels(marks: list[dict]) -> None:
    """Give each mark a label_y so that labels of close values do not overlap."""
    ordered = sorted(marks, key=lambda mark: mark["y"])
    previous = None
    for mark in ordered:
        mark["label_y"] = mark["y"] if previous is None else max(mark["y"], previous + LABEL_GAP)
        previous = mark["label_y"]
    overflow = previous - (HEIGHT - 4)
    if overflow > 0:
        for mark in ordered:
            mark["label_y"] -= overflow


def chart(values: list, result: dict) -> dict:
    low, high = result["min"], result["max"]
    span = (high - low) or 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def y(value) -> float:
        if high == low:
            return TOP + plot_h / 2
        return round(TOP + (high - value) / span * plot_h, 2)

    def x(index: float, count: int) -> float:
        return round(LEFT + (index / (count - 1) if count > 1 else 0.5) * plot_w, 2)

    count = len(values)
    if count <= MAX_COLUMNS:
        points = [(x(i, count), y(v)) for i, v in enumerate(values)]
    else:
        points = []
        for column in range(MAX_COLUMNS):
            bucket = values[column * count // MAX_COLUMNS:(column + 1) * count // MAX_COLUMNS]
            points += [(x(column, MAX_COLUMNS), y(max(bucket))),
                       (x(column, MAX_COLUMNS), y(min(bucket)))]
    marks = [
        {"name": name, "label": f"{name} {result[name]:.6g}", "y": y(result[name])}
        for name in ("max", "mean", "median", "min")
    ]
    spread_labels(marks)
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "label_x": WIDTH - RIGHT + 6,
        "polyline": " ".join(f"{px},{py}" for px, py in points),
        "dots": points if count <= MAX_DOTS else [],
        "marks": marks,
    }
