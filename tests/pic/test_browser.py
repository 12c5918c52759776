"""Upload a photo in a real browser and use the before/after view."""

import pytest

from jobs import tools
from tests.browser import worker_thread
from tests.pic.conftest import encode

PIC = tools.get("pic")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def pic_worker(server_queues):
    with worker_thread(PIC, visibility_timeout=30) as consumer:
        yield consumer


def test_a_user_uploads_a_photo_and_compares(live_server, pic_worker, browser_page, photo,
                                             tmp_path):
    path = tmp_path / "astronaut.png"
    path.write_bytes(encode(photo, "PNG"))
    page = browser_page
    console = []
    page.on("console", lambda message: console.append(message.text))
    page.goto(f"{live_server.url}/pic/")
    assert page.locator("#strength-value").inner_text() == "30"
    page.locator("input[name=strength]").fill("25")  # strength.js, a file under the CSP
    assert page.locator("#strength-value").inner_text() == "25"
    page.locator("input[type=file]").set_input_files(str(path))
    page.get_by_role("button", name="Enhance").click()

    page.wait_for_url("**/pic/jobs/*/")
    compare = page.locator("#compare")
    compare.wait_for()  # the page updated itself once the worker replied
    for image in ("img.before", "img.after"):
        assert page.locator(image).evaluate("img => img.complete && img.naturalWidth") == 512

    box = compare.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + box["height"] / 2, steps=5)
    page.mouse.up()
    split = float(compare.evaluate("el => getComputedStyle(el).getPropertyValue('--split')")
                  .rstrip("%"))
    assert 15 <= split <= 25

    rows = page.locator("#metrics tr[data-metric]")
    assert rows.count() == 5
    contrast = page.locator("tr[data-metric=contrast] td").all_inner_texts()
    assert float(contrast[1]) > float(contrast[0]) and contrast[2].endswith("%")
    # What was changed, per dimension, in words (pic.enhance.summary), as the API says it.
    changes = page.locator("#changes li").all_inner_texts()
    assert len(changes) == 3, changes
    for word, line in zip(("Contrast", "Colour", "Detail"), changes, strict=True):
        assert word.lower() in line.lower(), changes
    assert any("%" in line for line in changes), changes
    download = page.get_by_role("link", name="Download the enhanced photo")
    assert download.get_attribute("href").endswith("/result?download=1")
    assert not [text for text in console if "Content Security Policy" in text], console
