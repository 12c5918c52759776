"""Shared pieces of the browser tests: Playwright driving Debian's Chromium."""

import os
import threading
from contextlib import contextmanager

import pytest

from tests.workers.batch import Consumer

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@contextmanager
def chromium_page():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)")
    # Playwright's sync API runs an event loop in this thread; the ORM calls the
    # test makes in between are still synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.set_default_timeout(30_000)
            yield page
            browser.close()
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@contextmanager
def worker_thread(tool, **options):
    """A consumer polling in a thread of the test process, as a worker would."""
    consumer = Consumer(tool, worker=f"browser-test-{tool.name}", **options)
    stop = threading.Event()

    def loop():
        while not stop.is_set():
            consumer.process_batch(wait_time=1)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield consumer
    finally:
        stop.set()
        thread.join(timeout=10)
        consumer.close()
