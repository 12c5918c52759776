"""One real browser against the live server: Playwright driving Debian's Chromium."""

import os
import threading

import pytest

from workers.consumer import Consumer
from workers.tools import CALC

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@pytest.fixture
def browser_page():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)")
    # Playwright's sync API runs an event loop in this thread; the ORM calls the
    # test makes in between are still synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.set_default_timeout(20_000)
        yield page
        browser.close()
    del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture
def calc_worker(server_queues):
    consumer = Consumer(CALC, visibility_timeout=10, worker="browser-test-worker")
    stop = threading.Event()

    def loop():
        while not stop.is_set():
            consumer.process_batch(wait_time=1)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    yield consumer
    stop.set()
    thread.join(timeout=10)
    consumer.close()


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
    marks = chart.locator("g.mark text").all_text_contents()
    assert marks == ["max 9", "mean 3.875", "median 3.5", "min 1"]

    page.get_by_role("link", name="Log file").click()
    page.wait_for_url("**/log")
    assert "CloudCal job log" in page.content()
