"""Load test of the whole site: the system as `manage.py runlocal` builds it (moto for
SQS, the queues, both workers and the reconciler), but served by gunicorn with several
processes, under Locust's simulated users (bench/locustfile.py), all on 127.0.0.1.

Run from the project root:  .venv/bin/python bench/loadtest.py [--users 50] [--time 60]
(or `make loadtest`; LOADTEST_ARGS="--users 20 --time 20" for a short run).

Everything runs in a temporary directory with a database of its own (SQLite, as
runlocal's).  It prints requests/s, errors and the p50/p95/p99 of submit->done as a
user sees it; then it waits for the jobs still in flight and checks in the database
that every submitted job reached a terminal state, exiting 1 if one did not.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.harness import CREDENTIALS, Emulator, free_port  # noqa: E402

SETTLE_SECONDS = 60  # how long jobs still in flight may take after the users stop


def site_env(workdir: Path, endpoint: str) -> dict:
    env = {**os.environ, **CREDENTIALS, "AWS_ENDPOINT_URL": endpoint,
           "DJANGO_SETTINGS_MODULE": "cloudsite.settings",
           "DJANGO_SECRET_KEY": f"loadtest-{uuid.uuid4().hex}",
           "DATABASE_URL": f"sqlite:///{workdir / 'db.sqlite3'}",
           "CLOUDSITE_MEDIA_ROOT": str(workdir / "media"),
           "CLOUDSITE_QUEUE_PREFIX": f"load{uuid.uuid4().hex[:6]}-",
           "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
           "CLOUDSITE_LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT),
           # Every simulated user comes from 127.0.0.1: the per-address limits would count
           # them as one client. The per-session limit (each user is a session) stays on.
           "CLOUDSITE_SUBMISSIONS_PER_MINUTE": "0", "CLOUDSITE_QUEUED_PER_CLIENT": "0"}
    for name in ("DJANGO_DEBUG", "CLOUDSITE_BUCKET"):
        env.pop(name, None)
    return env


def start(command: list[str], env: dict, workdir: Path, name: str) -> subprocess.Popen:
    log = open(workdir / f"{name}.log", "wb")  # closed by stop()
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    process.log = log
    return process


def stop(processes: list[subprocess.Popen]) -> None:
    from workers.management.commands.runlocal import stop_children

    stop_children(processes)
    for process in processes:
        process.log.close()


def wait_until_up(url: str, processes: list[subprocess.Popen], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in processes):
            raise SystemExit("a process of the site exited while starting; see its log")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the site did not answer {url} within {timeout:g} s")


def read_stats(prefix: Path) -> list[dict]:
    with open(f"{prefix}_stats.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def job_counts() -> dict[str, dict[str, int]]:
    from django.db.models import Count

    from jobs import tools

    return {tool.model.__name__: dict(tool.model.objects.values_list("status")
                                      .annotate(Count("pk")))
            for tool in tools.installed()}


def unfinished(counts: dict) -> int:
    return sum(n for per_status in counts.values()
               for status, n in per_status.items() if status not in ("done", "failed"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50, help="Simulated users (default 50).")
    parser.add_argument("--spawn-rate", type=float, default=10, help="Users started per second.")
    parser.add_argument("--time", type=int, default=60, help="Seconds of load (default 60).")
    parser.add_argument("--web-processes", type=int, default=4,
                        help="gunicorn worker processes (default 4).")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="cloudsite-loadtest-"))
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.2f}; logs in {workdir}")
    emulator = Emulator()
    env = site_env(workdir, emulator.url)
    os.environ.update({k: v for k, v in env.items() if k != "PYTHONPATH"})
    processes: list[subprocess.Popen] = []
    try:
        for command in (["migrate", "--verbosity", "0"], ["setup_aws"]):
            subprocess.run([sys.executable, "manage.py", *command], env=env, cwd=ROOT,
                           check=True, stdout=subprocess.DEVNULL)
        import django

        django.setup()
        from workers.management.commands.runlocal import Command as RunLocal

        # What runlocal starts besides the site: a worker per tool and the reconciler.
        processes += [start([sys.executable, "manage.py", *argv], env, workdir, "-".join(argv))
                      for argv in RunLocal.children()]
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        processes.append(start([sys.executable, "-m", "gunicorn", "cloudsite.wsgi",
                                "--bind", f"127.0.0.1:{port}",
                                "--workers", str(args.web_processes)],
                               env, workdir, "gunicorn"))
        wait_until_up(f"{url}/calc/", processes)
        print(f"site on {url}: gunicorn with {args.web_processes} processes; "
              f"{args.users} users for {args.time} s")

        stats = workdir / "locust"
        with open(workdir / "locust.log", "wb") as log:
            subprocess.run([sys.executable, "-m", "locust", "-f", str(ROOT / "bench/locustfile.py"),
                            "--headless", "--users", str(args.users),
                            "--spawn-rate", str(args.spawn_rate), "--run-time", f"{args.time}s",
                            "--host", url, "--csv", str(stats), "--only-summary",
                            "--loglevel", "WARNING"],
                           env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log,
                           timeout=args.time + 120)
        if not Path(f"{stats}_stats.csv").exists():
            raise SystemExit(f"Locust wrote no statistics; see {workdir / 'locust.log'}")
        report(read_stats(stats))

        deadline = time.monotonic() + SETTLE_SECONDS
        while unfinished(counts := job_counts()) and time.monotonic() < deadline:
            time.sleep(1)
    finally:
        stop(processes)
        emulator.close()

    lost = unfinished(counts)
    for model, per_status in counts.items():
        print(f"{model}: " + ", ".join(f"{n} {status}" for status, n in sorted(per_status.items()))
              + f" (of {sum(per_status.values())} submitted)")
    print(f"lost (not done or failed {SETTLE_SECONDS} s after the load): {lost}")
    print(f"load average at the end {os.getloadavg()[0]:.2f}")
    return 1 if lost else 0


def report(rows: list[dict]) -> None:
    http = [row for row in rows if row["Type"] not in ("JOB", "")]
    requests_per_s = sum(float(row["Requests/s"]) for row in http)
    errors = sum(int(row["Failure Count"]) for row in http)
    print(f"\nHTTP: {sum(int(row['Request Count']) for row in http)} requests, "
          f"{requests_per_s:.1f} requests/s, {errors} errors")
    for row in http:
        print(f"  {row['Type']:5} {row['Name']:28} {int(row['Request Count']):6d}  "
              f"p50 {row['50%']:>5} ms  p95 {row['95%']:>5} ms  p99 {row['99%']:>5} ms  "
              f"{row['Failure Count']} errors")
    for row in rows:
        if row["Type"] == "JOB":
            print(f"{row['Name']}: {row['Request Count']} jobs seen to the end, "
                  f"p50 {row['50%']} ms, p95 {row['95%']} ms, p99 {row['99%']} ms, "
                  f"{row['Failure Count']} not done")


if __name__ == "__main__":
    sys.exit(main())
