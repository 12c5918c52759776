"""How jobs look on a terminal: figures, metrics, tables, and the wait for a result."""

import json
import sys
import time

from rich.console import Console
from rich.table import Table

from .http import DONE, FAILED, Api

FIGURES = ("count", "min", "max", "mean", "median")
METRICS = ("contrast", "colorfulness", "sharpness", "brightness", "clipped")
SHARES = ("brightness", "clipped")  # shares of 0–1: their change reads best in points


def for_people(value, digits: int = 6) -> str:
    """A number at 6 significant digits (2.16667, not 2.1666666666666665); --json keeps
    every digit. The site's jobs/numbers.py does the same for its pages."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int) and abs(value) < 10 ** 15:
        return str(value)
    rounded = float(f"{value:.{digits}g}")
    if rounded.is_integer() and abs(rounded) < 1e16:
        return str(int(rounded))
    return repr(rounded)


def result_link(job: dict) -> tuple[str, str] | None:
    """What `-o` downloads, and its name: a photo's result, a calculation's log file."""
    result = job.get("result") or {}
    for key, name in (("result_url", "result"), ("log_url", "log")):
        if result.get(key):
            return name, result[key]
    return None


def emit_json(data) -> None:
    sys.stdout.write(json.dumps(data, indent=2) + "\n")


def exit_code(job: dict) -> int:
    return FAILED if job["status"] in ("failed", "cancelled") else DONE


def change(name: str, before: float, after: float) -> str:
    if name in SHARES:
        return f"{(after - before) * 100:+.1f} pt"
    return f"{(after / before - 1) * 100:+.1f}%" if before else "—"


def show_job(out: Console, job: dict, links: bool = True) -> None:
    """The job's outcome on stdout: figures or metrics when done, else its state."""
    status = job["status"]
    if status == "failed":
        out.print(f"job {job['id']} failed: {job['error']}", markup=False)
    elif status != "done":
        note = f" ({job['note']})" if job.get("note") else ""
        out.print(f"job {job['id']} is {status}{note}", markup=False)
    elif job["tool"] == "calc":
        # Plain "name value" lines: easy to read, and to pipe into awk.
        for key in FIGURES:
            out.print(f"{key:<7} {for_people(job['result'][key])}", markup=False)
        if links:
            out.print(f"{'log':<7} {job['result']['log_url']}", markup=False)
    elif job["tool"] == "pic":
        metrics = job["result"]["metrics"] or {}
        table = Table("metric", "before", "after", "change", box=None, pad_edge=False)
        for key in METRICS:
            before = metrics.get("before", {}).get(key)
            after = metrics.get("after", {}).get(key)
            if isinstance(before, (int, float)) and isinstance(after, (int, float)):
                table.add_row(key, for_people(before), for_people(after),
                              change(key, before, after))
        out.print(table)
    else:  # a tool this client has no layout for: its result's fields as they come
        for key, value in (job["result"] or {}).items():
            out.print(f"{key:<7} {value}", markup=False)


def show_jobs(out: Console, page: dict) -> None:
    table = Table("id", "tool", "status", "created", box=None, pad_edge=False)
    for job in page["items"]:
        table.add_row(job["id"], job["tool"], job["status"], job["created_at"][:19])
    out.print(table)
    out.print(f"{len(page['items'])} of {page['count']} jobs", markup=False)


def wait(api: Api, job: dict, err: Console) -> dict:
    """Poll the job until it ends, with a live status line (a plain line per change
    when stderr is not a terminal, so logs and tests see the progress too)."""
    started, delay, last = time.monotonic(), 0.3, None

    def line() -> str:
        note = f" · {job['note']}" if job.get("note") else ""
        return f"job {job['id']}: {job['status']}{note} · {time.monotonic() - started:.0f} s"

    with err.status(line()) as status:
        while job["status"] in ("queued", "running"):
            if err.is_terminal:
                status.update(line())
            elif (job["status"], job.get("note")) != last:
                last = (job["status"], job.get("note"))
                err.print(line(), markup=False, highlight=False)
            time.sleep(delay)
            delay = min(delay * 1.5, 2.0)
            job = api.json("GET", job["url"])
    err.print(f"job {job['id']}: {job['status']} after {time.monotonic() - started:.1f} s",
              markup=False, highlight=False)
    return job
