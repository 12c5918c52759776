"""Benchmark the workers against the AWS emulator behind a proxy that adds a fixed delay
to every request, as a network round trip to real AWS would.

Run from the project root:  .venv/bin/python bench/bench_workers.py [--quick]
(or `make bench-workers`; BENCH_QUICK=1 for the quick run).

* calc: the naive worker (bench/naive_worker.py: receive one, handle, reply, delete)
  and CloudSite's (the real `manage.py run_calc_worker --concurrency N`), one after the
  other on the same feed in the same run, at each injected delay.  The feed keeps at
  most DEPTH requests outstanding (moto's ReceiveMessage slows as a queue grows, so
  preloading thousands would measure moto).  Each figure is the replies counted in a
  window after a warm-up.  Calls per job are every request the worker sent through the
  proxy (SQS and S3) from its start until every request fed to it was answered, divided
  by those jobs: counted over a window instead, a batch of ten replies on either side of
  its edges would move the figure by several per cent.  That whole-run figure includes
  what a run pays once, not per job: the GetQueueUrl lookups and the partial reply
  batches of start-up (each job thread's first job is slow), the partial batches when
  the feed stops, and the long poll still waiting at the end.  So the steady state is
  printed too: the calls each job makes alone (the S3 log put, over the whole run) plus,
  for every SQS call that carries several messages (receives, reply and delete
  batches), its calls in the window divided by the messages it carried there (the proxy
  counts both), plus the lookups and heartbeats made in the window per job replied in
  it.  Counting the window's calls per message carried needs no clean cut at its edges:
  a batch in flight at an edge moves one call, not a batch's worth of jobs.
  CPU per 1,000 jobs is each worker's user + system time from /proc: over the window
  (steady), from its start to the last reply (with start-up), and up to its first
  receive (start-up alone); beside it, the share of a core the emulator and this
  process (the proxy, the feed) used in the window, flagged when one saturates it.
* pic (bench/pic_worker.py): CloudSite's pic worker on a mixed feed, one 12 MP photo
  for every nine 1 MP ones, at each concurrency: jobs/s from the first request sent to
  the last reply; then its CPU per photo of each size against the codec floor.

Every process shares the machine's cores with the emulator: the load average is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import pic_worker  # noqa: E402
from bench.harness import (  # noqa: E402
    BUCKET,
    CpuClock,
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

# A process of the harness using this much of a core in a window is taken as saturated:
# the figures of that window measure it, not the worker.
SATURATED = 0.9
DEPTH = 40
# Seconds after the first reply before a window opens: past the cold start, when each
# job thread's first job is slow (its first S3 put: 1.4-3 s, later ones 30-150 ms).
WARM_UP = 4


@dataclass
class Figures:
    jobs_per_s: float
    calls_per_job: float
    calls: dict
    failed: int
    steady: float | None = None  # calls per job in the window's steady state
    window: str = ""  # how the window's batched calls were filled
    cpu: Cpu | None = None


@dataclass
class Cpu:
    per_1000: float  # worker CPU-seconds per 1,000 jobs in the window (steady state)
    whole_per_1000: float  # from the worker's start to the last reply, start-up included
    startup: float | None  # CPU-seconds before its first receive
    emulator: float  # the emulator's CPU in the window, in cores (1.0: a whole core)
    harness: float  # the benchmark's own (the delay proxy and the feed), in cores

    @property
    def bound(self) -> str:
        """Which process of the harness saturated a core in the window (moto and the
        proxy are each one Python process: a core is all either can use), if any."""
        names = [name for name, share in (("emulator", self.emulator),
                                          ("harness", self.harness)) if share >= SATURATED]
        return "-bound, ".join(names) + "-bound" if names else ""


# Calls that carry several messages: their cost per job is calls per message carried.
BATCHED = ("ReceiveMessage", "SendMessageBatch", "DeleteMessageBatch")
# Calls made at start-up or by the clock (the heartbeat), not for any one job.
PER_RUN = ("GetQueueUrl", "ChangeMessageVisibilityBatch")


def steady_state(whole: dict, jobs: int, calls: dict, answered: dict, items: dict,
                 replied: int) -> tuple[float, str]:
    """Calls per job in steady state (see the module's docstring) from the whole run's
    calls and jobs, and the window's calls, batched calls answered with the messages
    they carried, and replies."""
    per_job = 0.0
    for action in set(whole) | set(calls):
        if action in BATCHED:
            continue
        if action in PER_RUN:  # made now and then, not for a job: the window's count
            per_job += calls.get(action, 0) / max(replied, 1)
        else:  # a job's own call (the S3 log put): the whole run's count
            per_job += whole.get(action, 0) / max(jobs, 1)
    parts = []
    for action in BATCHED:
        if answered.get(action):
            per_job += answered[action] / max(items.get(action, 0), 1)
            parts.append(f"{action} {answered[action]} for {items.get(action, 0)}")
    return per_job, ", ".join(parts)


def calc_body(n: int) -> str:
    numbers = [random.randint(-1000, 1000) for _ in range(20)]
    return json.dumps({"version": 1, "job_id": str(uuid.uuid4()), "numbers": numbers})


def measure_calc(emulator: Emulator, proxy: DelayProxy, kind: str, concurrency: int,
                 seconds: float) -> Figures:
    queues = Queues(emulator, "calc", BUCKET)
    calls = proxy.counts()
    worker = start_worker(kind, "calc", worker_env(proxy.url, queues), concurrency)
    clock = CpuClock(worker.pid, emulator.process.pid)
    startup = watch_startup(proxy, worker.pid)
    feed = Feed(queues, calc_body, depth=DEPTH).start()
    try:
        wait_for(feed.first_reply.is_set, 60, worker, "answer")
        time.sleep(WARM_UP)
        before, done = clock.read(), feed.done
        window_calls, (window_answered, window_items) = proxy.counts(), proxy.carried()
        time.sleep(seconds)
        after = clock.read()
        jobs = feed.done - done
        answered, items = proxy.carried()
        window_calls = proxy.counts() - window_calls
        window_answered, window_items = answered - window_answered, items - window_items
        feed.stop_feeding()
        wait_for(lambda: feed.done >= feed.sent, 60, worker, "answer every request")
        calls = proxy.counts() - calls
        total_cpu = cpu_seconds(worker.pid)
    finally:
        proxy.on_request = None
        feed.stop()
        stop_worker(worker)
    steady, window = steady_state(calls, feed.done, window_calls, window_answered,
                                  window_items, jobs)
    elapsed = after["wall"] - before["wall"]
    return Figures(max(jobs, 1) / elapsed, sum(calls.values()) / max(feed.done, 1),
                   dict(calls), feed.failed(), steady, window,
                   cpu=Cpu(per_1000=1000 * (after["worker"] - before["worker"]) / max(jobs, 1),
                           whole_per_1000=1000 * total_cpu / max(feed.done, 1),
                           startup=startup.get("cpu"),
                           emulator=(after["emulator"] - before["emulator"]) / elapsed,
                           harness=(after["harness"] - before["harness"]) / elapsed))


def watch_startup(proxy: DelayProxy, pid: int) -> dict:
    """The worker's CPU time at its first receive (the end of its start-up), filled in
    by the proxy's thread when that request arrives."""
    seen: dict = {}

    def on_request(action: str) -> None:
        if action == "ReceiveMessage" and "cpu" not in seen:
            seen["cpu"] = cpu_seconds(pid)

    proxy.on_request = on_request
    return seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        default=os.environ.get("BENCH_QUICK", "") not in ("", "0"),
                        help="Short windows, one concurrency (also BENCH_QUICK=1).")
    parser.add_argument("--seconds", type=float, help="Length of each calc window.")
    parser.add_argument("--delays", default="10,50",
                        help="Injected delays in ms (empty: no calc runs).")
    parser.add_argument("--concurrency", help="CloudSite calc concurrencies (default 8,16).")
    parser.add_argument("--pic-concurrency", default="1,2,4", help="CloudPic concurrencies.")
    parser.add_argument("--pic-jobs", type=int, help="Photos per pic run (default 40).")
    args = parser.parse_args()
    seconds = args.seconds or (4 if args.quick else 12)
    concurrencies = [int(c) for c in (args.concurrency or ("8" if args.quick else "8,16")
                                      ).split(",")]
    pic_jobs = args.pic_jobs or (10 if args.quick else 40)

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.2f}; python {platform.python_version()}")
    print(f"feed depth {DEPTH}, calc windows of {seconds:g} s after {WARM_UP:g} s warm-up")
    emulator = Emulator()
    try:
        s3 = emulator.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        for delay in (int(d) for d in args.delays.split(",") if d):
            proxy = DelayProxy(emulator.port, delay / 1000)
            try:
                naive = measure_calc(emulator, proxy, "naive", 1, seconds)
                print(f"\ncalc, {delay} ms per request:")
                print(f"  naive                    {naive.jobs_per_s:6.1f} jobs/s  "
                      f"{naive.calls_per_job:5.2f} calls/job"
                      + (f"  {naive.failed} FAILED" if naive.failed else ""))
                results = [("naive", naive)]
                for concurrency in concurrencies:
                    ours = measure_calc(emulator, proxy, "cloudsite", concurrency, seconds)
                    results.append((f"cloudsite {concurrency}", ours))
                    print(f"  cloudsite concurrency {concurrency:<3d}"
                          f"{ours.jobs_per_s:6.1f} jobs/s  "
                          f"{ours.calls_per_job:5.2f} calls/job  "
                          f"{ours.jobs_per_s / naive.jobs_per_s:5.1f}x naive  "
                          f"{calls_text(ours.calls)}"
                          + (f"  {ours.failed} FAILED" if ours.failed else ""))
                    print(f"{'':29s}steady state {ours.steady:5.2f} calls/job  "
                          f"(window: {ours.window} messages)")
                print_cpu(results)
            finally:
                proxy.close()

        pic_worker.run(emulator, args.pic_concurrency, pic_jobs, args.quick)
    finally:
        emulator.close()
    print(f"\nload average at the end {os.getloadavg()[0]:.2f}")


def print_cpu(results: list[tuple[str, Figures]]) -> None:
    """The CPU-per-job table of one delay: each worker beside the naive one."""
    naive = results[0][1].cpu
    print("  CPU-seconds per 1,000 jobs (worker user + system, from /proc):")
    print(f"  {'':22s}{'steady':>8s}{'x naive':>9s}{'with start-up':>15s}"
          f"{'start-up s':>12s}{'emulator':>10s}{'harness':>9s}")
    for name, figures in results:
        cpu = figures.cpu
        startup = f"{cpu.startup:12.2f}" if cpu.startup is not None else f"{'?':>12s}"
        print(f"  {name:22s}{cpu.per_1000:8.1f}{cpu.per_1000 / naive.per_1000:8.2f}x"
              f"{cpu.whole_per_1000:15.1f}{startup}"
              f"{cpu.emulator:9.0%}{cpu.harness:9.0%}"
              + (f"  {cpu.bound.upper()}" if cpu.bound else ""))


def calls_text(calls: dict) -> str:
    return "(" + ", ".join(f"{name} {n}" for name, n in sorted(calls.items())) + ")"


if __name__ == "__main__":
    main()
