"""cloudsite.activity: the admin's 24-hour charts, from job rows at known times."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model

from calc.models import CalcJob
from cloudsite import activity
from jobs.models import Status

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 1, 2, 12, 30, tzinfo=UTC)
FIRST_HOUR = datetime(2026, 1, 1, 13, 0, tzinfo=UTC)  # 23 hours before 12:00


def job(created, status=Status.QUEUED, finished=None):
    return CalcJob(numbers=[1], owner="o", created_at=created, status=status,
                   finished_at=finished)


def calc(now=NOW):
    (result,) = [a for a in activity.activity(now) if a.name == "calc"]
    return result


def test_the_window_is_the_last_24_clock_hours_in_utc():
    starts = activity.window(NOW)
    assert len(starts) == 24
    assert starts[0] == FIRST_HOUR and starts[-1] == datetime(2026, 1, 2, 12, tzinfo=UTC)


def test_jobs_count_in_the_hour_of_their_submission_or_end():
    CalcJob.objects.bulk_create([
        job(FIRST_HOUR),  # the first hour's first second
        job(FIRST_HOUR - timedelta(seconds=1)),  # before the window: not counted
        job(NOW - timedelta(minutes=20), Status.DONE, NOW - timedelta(minutes=10)),
        job(NOW - timedelta(minutes=31), Status.FAILED, NOW - timedelta(minutes=25)),
        job(NOW - timedelta(minutes=40), Status.CANCELLED, NOW - timedelta(minutes=5)),
        # Submitted before the window, done inside it: counts as done, not as submitted.
        job(FIRST_HOUR - timedelta(hours=2), Status.DONE, FIRST_HOUR + timedelta(hours=5)),
    ])
    result = calc()
    by_hour = {h.start: (h.submitted, h.done, h.failed) for h in result.hours}
    assert by_hour[FIRST_HOUR] == (1, 0, 0)
    assert by_hour[FIRST_HOUR + timedelta(hours=5)] == (0, 1, 0)
    # 11:59 submitted (failed at 12:05), 12:10 submitted and done, 11:50 cancelled.
    assert by_hour[datetime(2026, 1, 2, 11, tzinfo=UTC)] == (2, 0, 0)
    assert by_hour[datetime(2026, 1, 2, 12, tzinfo=UTC)] == (1, 1, 1)
    assert result.totals == {"submitted": 4, "done": 2, "failed": 1}


def test_turnaround_percentiles_are_the_nearest_rank_of_jobs_done_in_the_window():
    end = NOW - timedelta(hours=1)
    rows = [job(end - timedelta(seconds=s), Status.DONE, end) for s in range(1, 21)]
    rows.append(job(end - timedelta(hours=3), Status.FAILED, end))  # failed: not in the sample
    rows.append(job(NOW - timedelta(days=3), Status.DONE, NOW - timedelta(days=2)))  # too old
    CalcJob.objects.bulk_create(rows)
    result = calc()
    assert result.finished == 20
    assert result.p50 == timedelta(seconds=10)  # rank ceil(0.50 * 20) = 10
    assert result.p95 == timedelta(seconds=19)  # rank ceil(0.95 * 20) = 19


def test_no_job_done_means_no_percentiles():
    CalcJob.objects.bulk_create([job(NOW - timedelta(minutes=5))])
    result = calc()
    assert (result.finished, result.p50, result.p95) == (0, None, None)


@pytest.mark.parametrize("count", [10, 1000])
def test_the_number_of_queries_does_not_grow_with_the_rows(count, django_assert_num_queries):
    end = NOW - timedelta(hours=2)
    CalcJob.objects.bulk_create(
        [job(end - timedelta(seconds=i % 500 + 1), Status.DONE, end) for i in range(count)])
    # Per tool: 3 grouped counts, 1 count and 2 single-row fetches of the percentiles.
    with django_assert_num_queries(6 + 4):  # the pic tool has no done job: 4 queries
        calc()


def test_the_chart_scales_bars_to_the_busiest_hour():
    CalcJob.objects.bulk_create(
        [job(NOW - timedelta(minutes=10)) for _ in range(4)]
        + [job(NOW - timedelta(hours=3), Status.DONE, NOW - timedelta(hours=3)) for _ in range(2)])
    chart = calc().chart
    assert chart["peak"] == 4
    bars = [b for b in chart["bars"] if b["value"]]
    heights = {(b["series"], b["value"]): b["height"] for b in bars}
    assert heights[("submitted", 4)] == activity.PLOT_HEIGHT
    assert heights[("submitted", 2)] == heights[("done", 2)] == activity.PLOT_HEIGHT / 2
    assert all(b["y"] + b["height"] == chart["base"] for b in chart["bars"])
    assert len(chart["bars"]) == 24 * 3


def test_the_queues_page_shows_the_charts(client, sqs_queues):
    staff = get_user_model().objects.create_user("ops", password="pw", is_staff=True)
    client.force_login(staff)
    CalcJob.objects.bulk_create([job(datetime.now(UTC) - timedelta(minutes=1))])
    page = client.get("/admin/queues/").content.decode()
    assert page.count('<svg class="activity-chart"') == 2  # calc and pic
    assert '<section class="activity" data-tool="calc">' in page
    assert '<strong data-total="submitted">1</strong>' in page
    assert "activity.css" in page and " style=" not in page.split('id="activity-title"')[1]
