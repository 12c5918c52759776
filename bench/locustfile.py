"""Simulated CloudSite users for `make loadtest` (bench/loadtest.py starts Locust with it).

A user behaves like the browser does: fetch the form (session and CSRF cookies), submit,
follow the redirect to the job page, then poll the status JSON with poll.js's schedule
(0.5 s, growing by 1.25x up to 3 s) until the job has ended.  The time from submitting
to seeing the end is reported as a request of type JOB, so Locust's percentiles cover it.
"""

from __future__ import annotations

import io
import random
import time

from locust import HttpUser, between, task

TERMINAL = ("done", "failed", "cancelled")
JOB_TIMEOUT = 60  # seconds a user waits for a job before calling it lost


def small_photo() -> bytes:
    from PIL import Image

    image = Image.effect_mandelbrot((320, 240), (-2.2, -1.2, 1.0, 1.2), 60).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


PHOTO = small_photo()


class SiteUser(HttpUser):
    abstract = True
    wait_time = between(1, 3)
    tool = ""

    def on_start(self):
        self.client.get(f"/{self.tool}/", name=f"/{self.tool}/ form")

    def csrf(self) -> str:
        return self.client.cookies.get("csrftoken", "")

    def follow(self, response, started: float) -> None:
        """After a submit: the job page, then its status until the job ends."""
        name = f"{self.tool} submit->done"
        if response.status_code != 302:
            self.fire(name, started, f"submit answered {response.status_code}")
            return
        page = response.headers["Location"]
        self.client.get(page, name=f"/{self.tool}/jobs/[id]/")
        delay = 0.5
        while time.monotonic() - started < JOB_TIMEOUT:
            time.sleep(delay)
            delay = min(delay * 1.25, 3.0)
            with self.client.get(page + "status", name=f"/{self.tool}/jobs/[id]/status",
                                 catch_response=True) as status:
                if status.status_code != 200:
                    status.failure(f"status {status.status_code}")
                    continue
                state = status.json().get("status")
            if state in TERMINAL:
                self.fire(name, started, None if state == "done" else f"job {state}")
                return
        self.fire(name, started, f"not done after {JOB_TIMEOUT} s")

    def fire(self, name: str, started: float, error: str | None) -> None:
        self.environment.events.request.fire(
            request_type="JOB", name=name, response_time=(time.monotonic() - started) * 1000,
            response_length=0, exception=RuntimeError(error) if error else None, context={})


class CalcUser(SiteUser):
    weight = 9
    tool = "calc"

    @task
    def submit(self):
        numbers = " ".join(str(random.randint(-500, 500)) for _ in range(20))
        started = time.monotonic()
        response = self.client.post("/calc/", {"numbers": numbers,
                                               "csrfmiddlewaretoken": self.csrf()},
                                    name="/calc/ submit", allow_redirects=False)
        self.follow(response, started)


class PicUser(SiteUser):
    weight = 1
    tool = "pic"

    @task
    def submit(self):
        started = time.monotonic()
        response = self.client.post(
            "/pic/", {"strength": "30", "csrfmiddlewaretoken": self.csrf()},
            files={"image": ("bench.jpg", PHOTO, "image/jpeg")},
            name="/pic/ submit", allow_redirects=False)
        self.follow(response, started)
