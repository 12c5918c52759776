"""The last 24 hours of jobs per tool, for the admin's Queues page: drawn from the job rows.

Per installed tool: jobs submitted (by created_at), done and failed (by finished_at)
in each of the last 24 clock hours (UTC), and the turnaround (finished_at -
created_at) p50 and p95 of the jobs done in that window. Each count is one grouped
query; each percentile is the row at its nearest rank in the database's own order,
so no query brings back more than 24 rows however many jobs there are.
"""

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db.models import Count, DurationField, ExpressionWrapper, F
from django.db.models.functions import TruncHour
from django.utils import timezone

from jobs import tools
from jobs.models import Status

HOURS = 24
SERIES = ("submitted", "done", "failed")
# The chart's geometry in SVG user units (the CSS scales the whole drawing).
BAR, GAP, PLOT_HEIGHT, TOP, BOTTOM, LEFT = 7, 2, 100, 12, 18, 28
SLOT = len(SERIES) * BAR + 3 * GAP


@dataclass
class Hour:
    start: datetime
    submitted: int = 0
    done: int = 0
    failed: int = 0


@dataclass
class ToolActivity:
    name: str
    label: str
    hours: list[Hour]
    p50: timedelta | None = None
    p95: timedelta | None = None
    finished: int = 0  # jobs done in the window: the percentiles' sample
    chart: dict = field(default_factory=dict)

    @property
    def totals(self) -> dict[str, int]:
        return {name: sum(getattr(hour, name) for hour in self.hours) for name in SERIES}


def window(now: datetime | None = None) -> list[datetime]:
    """The starts of the last HOURS clock hours in UTC, oldest first; the last holds now."""
    now = (now or timezone.now()).astimezone(UTC)
    current = now.replace(minute=0, second=0, microsecond=0)
    return [current - timedelta(hours=HOURS - 1 - i) for i in range(HOURS)]


def hourly(rows, stamp: str) -> dict[datetime, int]:
    """{hour start: count} of `rows` grouped by the clock hour of field `stamp`."""
    grouped = (rows.annotate(hour=TruncHour(stamp, tzinfo=UTC)).order_by()
               .values("hour").annotate(n=Count("pk")).values_list("hour", "n"))
    return {hour.astimezone(UTC): n for hour, n in grouped}


def percentiles(rows, wanted=(50, 95)) -> tuple[int, list[timedelta | None]]:
    """(sample size, nearest-rank percentiles of the turnaround of `rows`)."""
    turnaround = ExpressionWrapper(F("finished_at") - F("created_at"),
                                   output_field=DurationField())
    ordered = rows.annotate(turnaround=turnaround).order_by("turnaround")
    n = ordered.count()
    if not n:
        return 0, [None for _ in wanted]
    values = ordered.values_list("turnaround", flat=True)
    return n, [values[max(math.ceil(p / 100 * n), 1) - 1] for p in wanted]


def for_tool(tool, now: datetime | None = None) -> ToolActivity:
    starts = window(now)
    since = starts[0]
    jobs = tool.model.objects.all()
    submitted = hourly(jobs.filter(created_at__gte=since), "created_at")
    finished = jobs.filter(finished_at__gte=since)
    done = hourly(finished.filter(status=Status.DONE), "finished_at")
    failed = hourly(finished.filter(status=Status.FAILED), "finished_at")
    hours = [Hour(start, submitted.get(start, 0), done.get(start, 0), failed.get(start, 0))
             for start in starts]
    n, (p50, p95) = percentiles(finished.filter(status=Status.DONE, finished_at__isnull=False))
    result = ToolActivity(tool.name, tool.label, hours, p50, p95, n)
    result.chart = chart(hours)
    return result


def activity(now: datetime | None = None) -> list[ToolActivity]:
    """The last 24 hours of every installed tool, in INSTALLED_APPS order."""
    return [for_tool(tool, now) for tool in tools.installed()]


def chart(hours: list[Hour]) -> dict:
    """Bars and labels of an SVG bar chart, three bars (one per series) per hour."""
    peak = max([getattr(hour, name) for hour in hours for name in SERIES] + [1])
    base = TOP + PLOT_HEIGHT
    bars, labels = [], []
    for i, hour in enumerate(hours):
        x = LEFT + i * SLOT + GAP
        for k, name in enumerate(SERIES):
            value = getattr(hour, name)
            height = round(value / peak * PLOT_HEIGHT, 1)
            bars.append({"series": name, "value": value, "x": x + k * (BAR + GAP / 2),
                         "y": round(base - height, 1), "height": height, "width": BAR,
                         "title": f"{hour.start:%H}:00 UTC, {name}: {value}"})
        if i % 6 == 0 or i == len(hours) - 1:
            labels.append({"x": x + SLOT / 2 - GAP, "text": f"{hour.start:%H}:00"})
    return {"bars": bars, "labels": labels, "peak": peak, "width": LEFT + len(hours) * SLOT + GAP,
            "height": base + BOTTOM, "base": base, "top": TOP, "left": LEFT,
            "label_y": base + 13, "peak_y": TOP + 4}
