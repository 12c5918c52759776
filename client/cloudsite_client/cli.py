"""`cloudsite`: submit CloudCal and CloudPic jobs, wait, and show what came back."""

import argparse
import getpass
import math
import mimetypes
import re
import sys
from contextlib import nullcontext
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

from . import config
from .http import DONE, USAGE, Api, ClientError
from .output import emit_json, exit_code, result_link, show_job, show_jobs, wait

IMAGE_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png",
               ".webp": "image/webp"}


def connect() -> Api:
    settings = config.load()
    return Api(settings["url"], settings["token"])


def finish(api: Api, job: dict, args, err: Console, out: Console) -> tuple[dict, int]:
    """Wait unless told not to; print the job; the exit code its state calls for."""
    if args.no_wait:
        emit_json(job) if args.json else out.print(job["id"], markup=False)
        return job, DONE
    job = wait(api, job, err)
    if args.json:
        emit_json(job)
    else:
        show_job(out, job)
    return job, exit_code(job)


def numbers_text(args) -> str:
    if args.numbers and args.file:
        raise ClientError(USAGE, "give numbers or --file, not both")
    if args.file:
        try:
            return Path(args.file).read_text()
        except (OSError, UnicodeDecodeError) as error:
            raise ClientError(USAGE, f"cannot read {args.file}: {error}") from None
    if args.numbers:
        return " ".join(args.numbers)
    if not sys.stdin.isatty():
        return sys.stdin.read()
    raise ClientError(USAGE, "give numbers as arguments, with --file, or on stdin")


# A number as the site's form reads it: ASCII digits only (the form refuses "١٢٣").
NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def calc_body(text: str) -> dict:
    """The numbers as a JSON list when each one reads as a finite number, so that any
    length and 1e5 go through (the API's text is the narrower form); else the text itself,
    so that the site's message names the bad value."""
    numbers = []
    for token in re.split(r"[,\s]+", text.strip()):
        if not NUMBER.fullmatch(token):
            return {"text": text}
        value = int(token) if re.fullmatch(r"[+-]?[0-9]+", token) else float(token)
        if not math.isfinite(value):
            return {"text": text}
        numbers.append(value)
    return {"numbers": numbers}


def run_calc(args, err: Console, out: Console) -> int:
    body = calc_body(numbers_text(args))
    api = connect()
    job = api.json("POST", "calc/jobs", json=body)
    return finish(api, job, args, err, out)[1]


def upload_progress(err: Console, name: str, total: int):
    if err.is_terminal:
        bar = Progress("uploading", BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                       console=err, transient=True)
        task = bar.add_task(name, total=total)
        return bar, lambda sent: bar.update(task, completed=sent)
    marks = []

    def report(sent: int) -> None:
        quarter = min(4, sent * 4 // total)
        if quarter not in marks:  # a line at 25, 50, 75 and 100% where no bar can be drawn
            marks.append(quarter)
            if quarter:
                err.print(f"uploading {name}: {quarter * 25}% of {total:,} bytes",
                          markup=False, highlight=False)
    return None, report


def run_pic(args, err: Console, out: Console) -> int:
    path = Path(args.photo)
    if not 0 <= args.strength <= 30:
        raise ClientError(USAGE, "--strength is a percent from 0 to 30")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ClientError(USAGE, f"cannot read {path}: {error.strerror}") from None
    kind = IMAGE_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0]
    if not args.no_wait:
        writable(Path(args.output or f"{path.stem}-enhanced{path.suffix}"), args.force)
    api = connect()
    bar, report = upload_progress(err, path.name, len(data) or 1)
    with bar or nullcontext():
        job = api.upload("pic/jobs", {"strength": str(args.strength)}, path.name, data,
                         kind or "application/octet-stream", report)
    job, code = finish(api, job, args, err, out)
    if job["status"] == "done":
        target = Path(args.output or f"{path.stem}-enhanced{path.suffix}")
        save(api, job["result"]["result_url"], target, args.force, err)
    return code


def writable(target: Path, force: bool) -> None:
    """Refuse to overwrite a file unless --force says to, before any job is made."""
    if target.exists() and not force:
        raise ClientError(USAGE, f"{target} exists; use --force to overwrite it")


def save(api: Api, url: str, target: Path, force: bool, err: Console) -> None:
    writable(target, force)
    data = api.download(url)
    try:
        target.write_bytes(data)
    except OSError as error:
        raise ClientError(USAGE, f"cannot write {target}: {error.strerror}") from None
    err.print(f"wrote {target} ({len(data):,} bytes)", markup=False, highlight=False)


def run_jobs(args, err: Console, out: Console) -> int:
    api = connect()
    if args.tool and args.tool not in (names := api.tools()):
        raise ClientError(USAGE, f"no tool “{args.tool}” on this site; it has: "
                          + ", ".join(names))
    params = {"limit": args.limit}
    params.update({key: getattr(args, key) for key in ("tool", "status") if getattr(args, key)})
    page = api.json("GET", "jobs", params=params)
    emit_json(page) if args.json else show_jobs(out, page)
    return DONE


def run_show(args, err: Console, out: Console) -> int:
    """The job's state, its figures or metrics and its result link; -o saves the result."""
    if args.output:
        writable(Path(args.output), args.force)
    api = connect()
    job = api.find(args.id)
    link = result_link(job) if job["status"] == "done" else None
    if args.json:
        emit_json(job)
    else:
        note = f" ({job['note']})" if job.get("note") else ""
        out.print(f"{'job':<7} {job['id']} ({job['tool']})", markup=False)
        out.print(f"{'status':<7} {job['status']}{note}", markup=False)
        if job["status"] == "failed":
            out.print(f"{'error':<7} {job['error']}", markup=False)
        elif job["status"] == "done":
            show_job(out, job, links=False)
        if link:
            out.print(f"{link[0]:<7} {link[1]}", markup=False)
    if args.output:
        if not link:
            raise ClientError(exit_code(job) or USAGE,
                              f"job {job['id']} is {job['status']}: no result to download")
        save(api, link[1], Path(args.output), args.force, err)
    return exit_code(job)


def run_cancel(args, err: Console, out: Console) -> int:
    api = connect()
    job = api.find(args.id)
    job = api.json("POST", f"{job['tool']}/jobs/{job['id']}/cancel")
    emit_json(job) if args.json else out.print(f"job {job['id']} cancelled", markup=False)
    return DONE


def run_login(args, err: Console, out: Console) -> int:
    url = args.url or config.load()["url"]
    token = args.token
    if not token:
        if not sys.stdin.isatty():
            raise ClientError(USAGE, "give --token, or run login in a terminal to type it")
        token = getpass.getpass("API token: ").strip()
    Api(url, token).json("GET", "jobs", params={"limit": 1})  # proves both work
    path = config.save(url, token)
    out.print(f"logged in to {url}; saved to {path}", markup=False, highlight=False)
    return DONE


def parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="machine-readable output")
    overwrite = argparse.ArgumentParser(add_help=False)
    overwrite.add_argument("--force", action="store_true",
                           help="overwrite the -o file if it exists")
    waiting = argparse.ArgumentParser(add_help=False)
    waiting.add_argument("--no-wait", action="store_true",
                         help="print the job id once queued instead of waiting")
    main = argparse.ArgumentParser(
        prog="cloudsite", description="Client of a CloudSite site. Settings: CLOUDSITE_URL, "
        "CLOUDSITE_TOKEN (or `cloudsite login`). Exit codes: 0 done, 1 the job failed, "
        "2 bad usage or input, 3 site unreachable or token refused.")
    commands = main.add_subparsers(dest="command", required=True)

    calc = commands.add_parser("calc", parents=[common, waiting], help="statistics of numbers")
    calc.add_argument("numbers", nargs="*", help="numbers (commas or spaces between)")
    calc.add_argument("--file", help="read the numbers from this file")
    calc.set_defaults(run=run_calc)

    pic = commands.add_parser("pic", parents=[common, waiting, overwrite], help="enhance a photo")
    pic.add_argument("photo", help="a JPEG, PNG or WebP file")
    pic.add_argument("--strength", type=int, default=30, help="percent, 0 to 30 (default 30)")
    pic.add_argument("-o", "--output", help="where to write the result "
                     "(default: NAME-enhanced.EXT in this folder)")
    pic.set_defaults(run=run_pic)

    jobs = commands.add_parser("jobs", parents=[common], help="your jobs, newest first")
    jobs.add_argument("--tool", help="only this tool's jobs (the site lists its tools)")
    jobs.add_argument("--status", choices=["queued", "running", "done", "failed", "cancelled"],
                      help="only jobs in this state")
    jobs.add_argument("--limit", type=int, default=20, help="how many (1-100, default 20)")
    jobs.set_defaults(run=run_jobs)

    show = commands.add_parser("show", parents=[common, overwrite], help="one job")
    show.add_argument("id", help="the job id")
    show.add_argument("-o", "--output", help="download a done job's result (a photo, or a "
                      "calculation's log file) to this file")
    show.set_defaults(run=run_show)

    cancel = commands.add_parser("cancel", parents=[common], help="cancel a queued job")
    cancel.add_argument("id", help="the job id")
    cancel.set_defaults(run=run_cancel)

    login = commands.add_parser("login", help="save the site and token (file mode 0600)")
    login.add_argument("--url", help=f"the site (default {config.DEFAULT_URL})")
    login.add_argument("--token", help="the API token (prompted for if left out)")
    login.set_defaults(run=run_login)
    return main


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)  # exits 2 on bad usage, as argparse does
    err, out = Console(stderr=True, soft_wrap=True), Console(highlight=False, soft_wrap=True)
    try:
        return args.run(args, err, out)
    except ClientError as error:
        err.print(f"cloudsite: {error}", markup=False, highlight=False)
        return error.code
    except KeyboardInterrupt:
        return 130
