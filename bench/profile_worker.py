"""Profile a calc worker in steady state with py-spy, and print where its CPU goes.

Run from the project root:
    .venv/bin/python bench/profile_worker.py [--concurrency 8] [--seconds 15] [--naive]

The same set-up as `make bench-workers` (moto in a process of its own, behind the proxy
adding 10 ms per request, a feed keeping 40 requests outstanding); py-spy attaches to the
worker WARM_UP seconds after its first reply and samples only the threads holding the
GIL (`--gil`: Python running, not waiting on a socket or a lock). It prints the worker's
CPU per 1,000 jobs over the same seconds (from /proc, as the benchmark reads it), then
the functions with the most samples, on their own (self) and with what they call
(inclusive). py-spy needs to be allowed to trace the worker (it is the harness's child).
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.bench_workers import DEPTH, WARM_UP, calc_body  # noqa: E402
from bench.harness import (  # noqa: E402
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
from bench.proxy import DelayProxy  # noqa: E402


def top(raw: str, count: int) -> tuple[int, list, list]:
    """Total samples, and the `count` frames with most samples on their own and with
    their callees, from py-spy's raw (collapsed stack) output."""
    own, inclusive, total = collections.Counter(), collections.Counter(), 0
    for line in raw.splitlines():
        stack, _, samples = line.rpartition(" ")
        frames = [frame for frame in stack.split(";") if not frame.startswith("thread ")]
        total += int(samples)
        if frames:
            own[frames[-1]] += int(samples)
        for frame in set(frames):
            inclusive[frame] += int(samples)
    return total, own.most_common(count), inclusive.most_common(count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=15, help="Seconds to sample.")
    parser.add_argument("--delay", type=float, default=10, help="Injected ms per request.")
    parser.add_argument("--naive", action="store_true", help="Profile the naive worker.")
    parser.add_argument("--top", type=int, default=20)
    args = parser.parse_args()
    spy = shutil.which("py-spy", path=f"{Path(sys.executable).parent}{os.pathsep}"
                       f"{os.environ.get('PATH', '')}")
    if spy is None:
        raise SystemExit("py-spy is not installed (pip install -r requirements-dev.txt)")
    emulator = Emulator()
    proxy = DelayProxy(emulator.port, args.delay / 1000)
    try:
        emulator.client("s3").create_bucket(Bucket=BUCKET)
        queues = Queues(emulator, "calc", BUCKET)
        worker = start_worker("naive" if args.naive else "cloudsite", "calc",
                              worker_env(proxy.url, queues), args.concurrency)
        feed = Feed(queues, calc_body, depth=DEPTH).start()
        try:
            wait_for(feed.first_reply.is_set, 60, worker, "answer")
            time.sleep(WARM_UP)
            done, used = feed.done, cpu_seconds(worker.pid)
            with tempfile.NamedTemporaryFile("r", suffix=".txt") as out:
                subprocess.run([spy, "record", "--pid", str(worker.pid), "--duration",
                                str(args.seconds), "--rate", "200", "--format", "raw",
                                "--gil", "--output", out.name], check=True, timeout=120,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                jobs, used = feed.done - done, cpu_seconds(worker.pid) - used
                raw = out.read()
        finally:
            feed.stop()
            stop_worker(worker)
    finally:
        proxy.close()
        emulator.close()
    if os.environ.get("PROFILE_RAW"):  # keep the stacks for a closer look
        Path(os.environ["PROFILE_RAW"]).write_text(raw)
    total, own, inclusive = top(raw, args.top)
    print(f"{'naive' if args.naive else f'cloudsite concurrency {args.concurrency}'}, "
          f"{args.delay:g} ms per request: {jobs} jobs in {args.seconds} s, "
          f"{1000 * used / max(jobs, 1):.1f} CPU-seconds per 1,000 jobs "
          f"(sampling included); {total} samples holding the GIL")
    for title, rows in (("self", own), ("inclusive", inclusive)):
        print(f"-- {title}")
        for frame, samples in rows:
            print(f"{100 * samples / max(total, 1):5.1f}%  {frame}")


if __name__ == "__main__":
    main()
