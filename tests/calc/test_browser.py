"""One real browser against the live server: Playwright driving Debian's Chromium."""

import pytest

from jobs import tools
from tests.browser import worker_thread

CALC = tools.get("calc")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def calc_worker(server_queues):
    with worker_thread(CALC, visibility_timeout=10) as consumer:
        yield consumer


def test_a_user_gets_figures_and_a_chart(live_server, calc_worker, browser_page):
    page = browser_page
    page.goto(f"{live_server.url}/calc/")
    assert len(page.locator("textarea").input_value().split(",")) == 20  # prefilled
    page.locator("textarea").fill("3 1 4 1 5\n9, 2, 6")
    page.get_by_role("button", name="Compute").click()

    page.wait_for_url("**/calc/jobs/*/")
    page.locator("[data-stat=mean]").wait_for()  # the page updated itself
    figures = {cell.get_attribute("data-stat"): cell.inner_text()
               for cell in page.locator("[data-stat]").all()}
    assert figures == {"count": "8", "min": "1", "max": "9", "mean": "3.875", "median": "3.5"}

    chart = page.locator("svg.chart")
    assert chart.is_visible()
    assert chart.locator("circle.dot").count() == 8
    assert chart.locator("line.mark").count() == 4 and chart.locator("g.axis text.y").count()
    legend = page.locator("ul.legend li").all_text_contents()
    assert legend == ["min 1", "max 9", "mean 3.875", "median 3.5"]

    page.get_by_role("link", name="Log file").click()
    page.wait_for_url("**/log")
    assert "CloudCal job log" in page.content()
