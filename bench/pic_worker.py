"""The CloudPic part of `make bench-workers`: jobs/s of the pic worker on a mixed feed
(one 12 MP photo for every nine 1 MP) at each concurrency, and its CPU-seconds per
photo of each size against the codec floor (decoding the photo and encoding it again,
the least any enhancement of it costs). The enhancement itself is another issue's."""

from __future__ import annotations

import io
import json
import time
import uuid
from dataclasses import dataclass

import numpy as np
from PIL import Image

from bench.harness import (
    BUCKET,
    Emulator,
    Feed,
    Queues,
    cpu_seconds,
    start_worker,
    stop_worker,
    wait_for,
    worker_env,
)
from bench.proxy import DelayProxy

SMALL, LARGE = (1155, 866), (4000, 3000)  # 1 MP and 12 MP
SMALL_KEY, LARGE_KEY = "pic/originals/bench-1mp.jpg", "pic/originals/bench-12mp.jpg"


@dataclass
class Figures:
    jobs_per_s: float
    calls_per_job: float
    calls: dict
    failed: int
    running: int  # "running" notes received (workers.outbox.RUNNING_AFTER_SECONDS)


def pic_body(n: int, key: str | None = None) -> str:
    key = key or (LARGE_KEY if n % 10 == 0 else SMALL_KEY)
    return json.dumps({"version": 1, "job_id": str(uuid.uuid4()), "image_key": key,
                       "strength": 0.3})


def photo(size: tuple[int, int], seed: int) -> bytes:
    """A photo-like JPEG: smooth shapes and colour, with grain so it compresses like one."""
    width, height = size
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    x /= width
    y /= height
    channels = [np.sin(6 * x + phase) * np.cos(4 * y - phase) for phase in (0.0, 1.3, 2.6)]
    image = np.stack(channels, axis=-1) * 70 + 120
    image += rng.normal(0, 6, image.shape).astype(np.float32)
    buffer = io.BytesIO()
    Image.fromarray(np.clip(image, 0, 255).astype(np.uint8)).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def measure_pic(emulator: Emulator, proxy: DelayProxy, concurrency: int, count: int) -> Figures:
    queues = Queues(emulator, "pic", BUCKET)
    worker = start_worker("cloudsite", "pic", worker_env(proxy.url, queues), concurrency)
    warm = Feed(queues, lambda n: pic_body(1), depth=1, limit=1).start()
    try:
        wait_for(lambda: warm.done == 1, 60, worker, "answer")
        warm.stop()
        calls = proxy.counts()
        started = time.monotonic()
        feed = Feed(queues, pic_body, depth=count, limit=count).start()
        wait_for(lambda: feed.done == count, 600, worker, f"finish {count} photos")
        elapsed = time.monotonic() - started
        feed.stop()
        calls = proxy.counts() - calls
    finally:
        warm.stop()
        stop_worker(worker)
    return Figures(count / elapsed, sum(calls.values()) / count, dict(calls), feed.failed(),
                   feed.running)


def measure_pic_cpu(emulator: Emulator, proxy: DelayProxy, key: str, count: int) -> float:
    """The pic worker's CPU-seconds per photo (concurrency 1), after one photo of warm-up."""
    queues = Queues(emulator, "pic", BUCKET)
    worker = start_worker("cloudsite", "pic", worker_env(proxy.url, queues), 1)
    warm = Feed(queues, lambda n: pic_body(n, key), depth=1, limit=1).start()
    try:
        wait_for(lambda: warm.done == 1, 120, worker, "answer")
        warm.stop()
        before = cpu_seconds(worker.pid)
        feed = Feed(queues, lambda n: pic_body(n, key), depth=count, limit=count).start()
        wait_for(lambda: feed.done == count, 600, worker, f"finish {count} photos")
        used = cpu_seconds(worker.pid) - before
        feed.stop()
    finally:
        warm.stop()
        stop_worker(worker)
    return used / count


def codec_floor(data: bytes) -> float:
    """CPU-seconds to decode the JPEG and encode it again at quality 90 (what the worker
    writes), in this thread: what any enhancement of it costs at the least."""
    best = float("inf")
    for _ in range(3):
        started = time.thread_time()
        image = Image.open(io.BytesIO(data))
        image.load()
        image.save(io.BytesIO(), "JPEG", quality=90)
        best = min(best, time.thread_time() - started)
    return best


def run(emulator: Emulator, concurrencies: str, pic_jobs: int, quick: bool) -> None:
    s3 = emulator.client("s3")
    print(f"\npic, mixed feed ({pic_jobs} photos: one 12 MP for every nine 1 MP), "
          "10 ms per request:")
    photos = {SMALL_KEY: photo(SMALL, 1), LARGE_KEY: photo(LARGE, 2)}
    for key, data in photos.items():
        s3.put_object(Bucket=BUCKET, Key=key, Body=data)
    proxy = DelayProxy(emulator.port, 0.010)
    try:
        first = None
        for concurrency in (int(c) for c in concurrencies.split(",")):
            figures = measure_pic(emulator, proxy, concurrency, pic_jobs)
            first = first or figures.jobs_per_s
            print(f"  concurrency {concurrency:<3d}{figures.jobs_per_s:6.2f} jobs/s  "
                  f"{figures.jobs_per_s / first:4.2f}x concurrency 1  "
                  f"{figures.calls_per_job:5.2f} calls/job  {calls_text(figures.calls)}  "
                  f"{figures.running} running notes"
                  + (f"  {figures.failed} FAILED" if figures.failed else ""))
        print("  CPU-seconds per photo (concurrency 1; the codec floor: decode and "
              "encode once at quality 90):")
        for label, key, count in (("1 MP", SMALL_KEY, 4 if quick else 10),
                                  ("12 MP", LARGE_KEY, 2 if quick else 4)):
            per_photo = measure_pic_cpu(emulator, proxy, key, count)
            floor = codec_floor(photos[key])
            print(f"  {label:6s} {per_photo:6.3f} s per photo, codec floor {floor:6.3f} s "
                  f"({per_photo / floor:4.1f}x), {count} photos")
    finally:
        proxy.close()


def calls_text(calls: dict) -> str:
    return "(" + ", ".join(f"{name} {n}" for name, n in sorted(calls.items())) + ")"
