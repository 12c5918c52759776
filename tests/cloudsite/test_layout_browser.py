"""Every kind of page in Chromium at a phone's width (390 px) and a laptop's (1280 px): no
sideways scrolling, the chart drawn (a line for 20 values, a histogram for 10,000), the
slider's grip, the running state, the admin's lists, and nothing the CSP blocks.
Screenshots go to /tmp/newcomer-*.png (kept out of the repository) for a person to look at."""

import json
import random
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from calc.models import CalcJob
from calc.stats import summarize
from jobs import tools
from pic.models import PicJob
from tests.pic.conftest import encode
from tests.pic.conftest import photo as photo_fixture
from workers import aws, envelope
from workers.reconcile import apply_message

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CALC = tools.get("calc")
PASSWORD = "layout-test-password"
photo = photo_fixture  # the test photograph (tests/pic/conftest.py)
METRICS = {"before": {"contrast": 0.21234567, "colorfulness": 30.00596800000001,
                      "sharpness": 0.5, "brightness": 0.4, "clipped": 0.01},
           "after": {"contrast": 0.25, "colorfulness": 36.0, "sharpness": 0.6,
                     "brightness": 0.42, "clipped": 0.015}}


def done_calc(admin, values) -> CalcJob:
    job = CalcJob.objects.create(numbers=values, owner="x", user=admin, status="done",
                                 worker="w-1", result=summarize(values))
    return job


def done_pic(admin, image) -> PicJob:
    job_id = uuid.uuid4()
    data = encode(image, "JPEG", quality=90)
    original = default_storage.save(f"pic/originals/{job_id}.jpg", ContentFile(data))
    result = default_storage.save(f"pic/results/{job_id}.jpg", ContentFile(data))
    return PicJob.objects.create(
        id=job_id, owner="x", user=admin, image_key=original, result_key=result,
        original_name="astronaut.jpg", strength=0.3, format="JPEG", width=512, height=512,
        size=len(data), status="done", worker="w-1", metrics=METRICS)


def running_calc(admin) -> CalcJob:
    """A job a worker has said it started (its reply applied as the reconciler would)."""
    job = CalcJob.objects.create(numbers=[1, 2, 3], owner="x", user=admin)
    assert job.send()
    [message] = aws.receive(CALC.request_queue, wait_time=0)
    request = json.loads(message["Body"])
    reply = {"version": 1, "job_id": request["job_id"], "status": "running",
             "worker": "worker-7", "started_at": envelope.timestamp()}
    bound = envelope.bind(reply, envelope.reply_token(request))
    assert apply_message(CALC, json.dumps(bound)) is True
    return job


def no_sideways_scroll(page) -> None:
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], (page.url, widths)


@pytest.mark.parametrize("width", [390, 1280])
def test_every_page_fits_and_shows_what_it_should(live_server, server_queues, browser_page,
                                                   photo, width):  # noqa: F811
    admin = get_user_model().objects.create_superuser("admin", "a@localhost", PASSWORD)
    rng = random.Random(21)
    twenty = done_calc(admin, [rng.randint(1, 40) for _ in range(20)])
    many = done_calc(admin, [round(rng.gauss(100, 15), 3) for _ in range(10_000)])
    pic = done_pic(admin, photo)
    running = running_calc(admin)

    page = browser_page
    page.set_viewport_size({"width": width, "height": 900})
    blocked = []
    page.on("console", lambda message: blocked.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", PASSWORD)
    page.locator("input[type=submit]").click()
    page.wait_for_url("**/admin/")

    def visit(name: str, path: str):
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("load")
        no_sideways_scroll(page)
        page.screenshot(path=f"/tmp/newcomer-{name}-{width}.png", full_page=True)

    visit("home", "/")
    assert page.locator("table.jobs").get_by_text("20 values, median").count() == 1
    assert page.locator("table.jobs img.thumb").evaluate(
        "img => img.complete && img.naturalWidth") == 160

    visit("calc-20", f"/calc/jobs/{twenty.id}/")
    chart = page.locator("svg.chart")
    assert chart.get_attribute("data-chart") == "line"
    assert chart.locator("circle.dot").count() == 20 and chart.locator("line.mark").count() == 4
    assert chart.locator("g.axis text.x").count() >= 3
    assert chart.locator("g.axis text.y").count() >= 3
    # Tick labels stay readable when a phone shrinks the chart: at least 9 px on screen.
    label = chart.locator("g.axis text.y").first.bounding_box()
    assert label["height"] >= 9, label

    visit("calc-10000", f"/calc/jobs/{many.id}/")
    chart = page.locator("svg.chart")
    assert chart.get_attribute("data-chart") == "histogram"
    assert chart.locator(".bars rect").count() >= 20
    assert chart.locator("line.mark").count() == 4 and chart.locator("polyline").count() == 0
    assert page.locator("[data-stat=mean]").inner_text().count(".") <= 1
    assert len(page.locator("[data-stat=mean]").inner_text().replace(".", "")) <= 6

    visit("pic", f"/pic/jobs/{pic.id}/")
    grip = page.locator("#compare .grip")
    assert grip.is_visible()
    assert page.get_by_text("Drag to compare").is_visible()
    before = grip.bounding_box()["x"]
    page.locator(".compare-range").focus()
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    split = page.locator("#compare").evaluate(
        "el => getComputedStyle(el).getPropertyValue('--split')")
    assert split.strip() == "40%" and grip.bounding_box()["x"] < before
    assert page.locator("tr[data-metric=colorfulness] td").first.inner_text() == "30.006"

    visit("running", f"/calc/jobs/{running.id}/")
    assert page.locator("[data-status-label]").inner_text() == "running"
    page.get_by_text("running on worker-7").wait_for()

    visit("admin-calc", "/admin/calc/calcjob/")
    assert page.locator("#result_list tbody tr").count() == 3
    visit("admin-pic", "/admin/pic/picjob/")
    thumbs = page.locator("#result_list img.thumb")
    assert thumbs.count() == 2
    assert thumbs.first.evaluate("img => img.complete && img.naturalWidth") == 160
    if width == 1280:  # every column shows beside the filters: none cut off or scrolled to
        for path in ("/admin/pic/picjob/", "/admin/calc/calcjob/"):
            page.goto(f"{live_server.url}{path}")
            table = page.locator("#result_list").bounding_box()
            filters = page.locator("#changelist-filter").bounding_box()
            assert table["x"] + table["width"] <= filters["x"], (path, table, filters)
            assert page.locator("#changelist .results").evaluate(
                "el => el.scrollWidth <= el.clientWidth"), path
    favicon = page.locator("link[rel=icon]").get_attribute("href")
    assert page.request.get(f"{live_server.url}{favicon}").status == 200
    assert not blocked, blocked
