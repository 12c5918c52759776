"""The admin's Queues page in Chromium: the 24-hour charts are drawn and visible."""

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from calc.models import CalcJob
from jobs.models import Status

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOT = Path(tempfile.gettempdir()) / "admin-charts.png"


def test_staff_see_the_charts_on_the_queues_page(live_server, server_queues, browser_page):
    get_user_model().objects.create_user("ops", password="a-long-test-password", is_staff=True)
    now = datetime.now(UTC)
    rows = []
    for hours_ago in range(0, 24, 2):  # a job every other hour, some done, one failed
        created = now - timedelta(hours=hours_ago, minutes=1)
        for k in range(hours_ago % 5 + 1):
            status = Status.FAILED if k == 3 else Status.DONE if k % 2 == 0 else Status.QUEUED
            finished = created + timedelta(seconds=5 + k) if status != Status.QUEUED else None
            rows.append(CalcJob(numbers=[1], owner="o", created_at=created, status=status,
                                finished_at=finished))
    CalcJob.objects.bulk_create(rows)

    page = browser_page
    page.goto(f"{live_server.url}/admin/login/?next=/admin/queues/")
    page.locator("#id_username").fill("ops")
    page.locator("#id_password").fill("a-long-test-password")
    page.locator("input[type=submit]").click()
    page.wait_for_url("**/admin/queues/")

    calc = page.locator("section.activity[data-tool=calc]")
    chart = calc.locator("svg.activity-chart")
    chart.scroll_into_view_if_needed()
    assert chart.is_visible()
    box = chart.bounding_box()
    assert box["width"] > 300 and box["height"] > 40
    assert calc.locator("[data-total=submitted]").inner_text() == str(len(rows))
    drawn = [int(v) for v in chart.locator("rect.bar.submitted").evaluate_all(
        "bars => bars.filter(b => b.getBBox().height > 0).map(b => b.dataset.value)")]
    assert sum(drawn) == len(rows) and len(drawn) == 12
    # The stylesheet applied: done bars are green, not the default black fill.
    fill = chart.locator("rect.bar.done").first.evaluate("b => getComputedStyle(b).fill")
    assert fill == "rgb(31, 138, 76)"
    assert calc.locator("[data-turnaround=p95]").inner_text().endswith(" s")
    assert page.locator("section.activity[data-tool=pic] svg.activity-chart").is_visible()
    chart.screenshot()  # renders without error; the whole page goes to the file below
    page.screenshot(path=str(SCREENSHOT), full_page=True)
