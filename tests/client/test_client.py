"""The `cloudsite` client in a process of its own, against a live server, the moto server
and worker threads: what it prints and every exit code."""

import json
import os
import stat
import uuid

import pytest
from django.contrib.auth import get_user_model

from calc.models import CalcJob
from cloudsite.models import ApiToken
from jobs import tools
from pic.models import PicJob
from tests.browser import worker_thread
from tests.pic.conftest import encode
from workers.envelope import PermanentError

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]

CALC = tools.get("calc")


def figures(stdout: str) -> dict:
    return dict(line.split(None, 1) for line in stdout.strip().splitlines())


def test_calc_waits_and_prints_the_five_figures_and_the_log(cloudsite, workers, live_server):
    run = cloudsite("calc", "4", "8", "15", "16", "23", "42")
    assert run.returncode == 0, run.stderr
    job = CalcJob.objects.get()
    assert figures(run.stdout) == {
        "count": "6", "min": "4", "max": "42", "mean": "18", "median": "15.5",
        "log": f"{live_server.url}/api/v1/calc/jobs/{job.id}/log"}
    # The progress: the status line while queued, then the end.
    assert f"job {job.id}: queued" in run.stderr
    assert f"job {job.id}: done after" in run.stderr


def test_calc_reads_a_file_or_stdin_and_speaks_json(cloudsite, workers, tmp_path):
    (tmp_path / "numbers.txt").write_text("1\n2\n3\n")
    run = cloudsite("calc", "--file", "numbers.txt", "--json")
    assert run.returncode == 0, run.stderr
    job = json.loads(run.stdout)
    assert job["status"] == "done" and job["tool"] == "calc"
    assert {k: job["result"][k] for k in ("count", "mean")} == {"count": 3, "mean": 2.0}

    piped = cloudsite("calc", "--json", stdin="10, 20")
    assert piped.returncode == 0 and json.loads(piped.stdout)["result"]["max"] == 20


def test_calc_takes_what_the_page_takes_of_any_length(cloudsite, server_queues, tmp_path):
    # 10,000 long numbers and an exponent: more than the API's text field holds, so the
    # client sends them as a JSON list (calc_body); no worker needed to see them queued.
    values = [f"{n}.{'7' * 20}" for n in range(9_999)] + ["1e5"]
    (tmp_path / "many.txt").write_text("\n".join(values))
    run = cloudsite("calc", "--file", "many.txt", "--no-wait")
    assert run.returncode == 0, run.stderr
    job = CalcJob.objects.get(pk=run.stdout.strip())
    assert len(job.numbers) == 10_000 and job.numbers[-1] == 100000.0


def test_no_wait_prints_the_id_and_show_and_cancel_find_it(cloudsite, server_queues):
    run = cloudsite("calc", "1", "2", "--no-wait")  # no workers: it stays queued
    assert run.returncode == 0, run.stderr
    job_id = run.stdout.strip()
    assert CalcJob.objects.get().id == uuid.UUID(job_id)

    shown = cloudsite("show", job_id)
    assert shown.returncode == 0
    assert figures(shown.stdout)["job"] == f"{job_id} (calc)"
    assert figures(shown.stdout)["status"].startswith("queued")
    nothing = cloudsite("show", job_id, "-o", "result.txt")
    assert nothing.returncode == 2 and "is queued: no result to download" in nothing.stderr

    cancelled = cloudsite("cancel", job_id, "--json")
    assert cancelled.returncode == 0 and json.loads(cancelled.stdout)["status"] == "cancelled"
    assert cloudsite("show", job_id).returncode == 1  # a cancelled job did not finish
    again = cloudsite("cancel", job_id)
    assert again.returncode == 2 and "only a queued job" in again.stderr

    listed = json.loads(cloudsite("jobs", "--json").stdout)
    assert [item["id"] for item in listed["items"]] == [job_id]
    table = cloudsite("jobs", "--status", "cancelled")
    assert job_id in table.stdout and "1 of 1 jobs" in table.stdout


def test_pic_uploads_waits_and_writes_the_result(cloudsite, workers, tmp_path, photo):
    (tmp_path / "trip.jpg").write_bytes(encode(photo, "JPEG", quality=90))
    run = cloudsite("pic", "trip.jpg", "--strength", "25", "-o", "better.jpg")
    assert run.returncode == 0, run.stderr
    job = PicJob.objects.get()
    assert job.strength == 0.25 and job.status == "done"
    assert "uploading trip.jpg: 100%" in run.stderr
    assert f"job {job.id}: queued" in run.stderr
    assert "wrote better.jpg" in run.stderr
    assert (tmp_path / "better.jpg").read_bytes()[:2] == b"\xff\xd8"
    rows = {line.split()[0]: line.split()[1:] for line in run.stdout.strip().splitlines()}
    assert set(rows) == {"metric", "contrast", "colorfulness", "sharpness", "brightness",
                         "clipped"}
    assert rows["brightness"][2].endswith("pt") or rows["brightness"][3] == "pt"


def test_show_gives_state_metrics_and_link_and_o_downloads_without_overwriting(
        cloudsite, workers, tmp_path, photo, live_server):
    (tmp_path / "trip.jpg").write_bytes(encode(photo, "JPEG", quality=90))
    job_id = cloudsite("pic", "trip.jpg", "--no-wait").stdout.strip()
    shown = cloudsite("show", job_id)
    for _ in range(100):  # the workers finish it in a few seconds
        if "status  done" in shown.stdout:
            break
        shown = cloudsite("show", job_id)
    assert shown.returncode == 0, shown.stderr
    rows = {line.split()[0]: line.split()[1:] for line in shown.stdout.strip().splitlines()}
    assert rows["status"] == ["done"] and "contrast" in rows
    assert rows["result"] == [f"{live_server.url}/api/v1/pic/jobs/{job_id}/result"]
    # Metrics at 6 significant digits at most; --json keeps them whole.
    assert all(len(value.lstrip("-0.").replace(".", "")) <= 6 for value in rows["contrast"][:2])

    saved = cloudsite("show", job_id, "-o", "out.jpg")
    assert saved.returncode == 0 and "wrote out.jpg" in saved.stderr
    assert (tmp_path / "out.jpg").read_bytes()[:2] == b"\xff\xd8"
    (tmp_path / "out.jpg").write_bytes(b"mine")
    refused = cloudsite("show", job_id, "-o", "out.jpg")
    assert refused.returncode == 2 and "out.jpg exists; use --force" in refused.stderr
    assert (tmp_path / "out.jpg").read_bytes() == b"mine"
    assert cloudsite("pic", "trip.jpg", "-o", "out.jpg").returncode == 2  # refused up front
    assert PicJob.objects.count() == 1
    forced = cloudsite("show", job_id, "-o", "out.jpg", "--force")
    assert forced.returncode == 0 and (tmp_path / "out.jpg").read_bytes()[:2] == b"\xff\xd8"


def test_upload_progress_stops_at_100_percent(cloudsite, server_queues, tmp_path):
    (tmp_path / "tiny.jpg").write_bytes(b"abc")  # refused by the site, after the upload
    run = cloudsite("pic", "tiny.jpg")
    assert run.returncode == 2, run.stderr
    percents = [int(word[:-1]) for word in run.stderr.split() if word[:-1].isdigit()
                and word.endswith("%")]
    assert percents == [100], run.stderr


def test_a_failed_job_exits_1_with_the_workers_reason(cloudsite, server_queues):
    def refuse(message, context):
        raise PermanentError("bad input: these numbers upset the worker")

    with worker_thread(CALC, handler=refuse, visibility_timeout=10):
        run = cloudsite("calc", "1", "2")
    assert run.returncode == 1, run.stderr
    job = CalcJob.objects.get()
    assert run.stdout.strip() == f"job {job.id} failed: bad input: these numbers upset the worker"


@pytest.mark.parametrize(("args", "message"), [
    (("calc", "1", "two", "3"), "Value 2, “two”, is not a number."),
    (("calc", "--strength", "3"), "unrecognized arguments"),
    (("pic", "missing.jpg"), "cannot read missing.jpg"),
    (("show", "not-an-id"), "“not-an-id” is not a job id"),
    (("show", str(uuid.uuid4())), "or it is not yours"),
])
def test_bad_usage_or_input_exits_2_naming_the_problem(cloudsite, server_queues, args, message):
    run = cloudsite(*args)
    assert run.returncode == 2, run.stderr
    assert message in run.stderr
    assert CalcJob.objects.count() == 0


def test_another_users_job_is_not_found(cloudsite, server_queues):
    bob = get_user_model().objects.create_user("bob")
    job = CalcJob.objects.create(numbers=[1], user=bob)
    for command in ("show", "cancel"):
        run = cloudsite(command, str(job.id))
        assert run.returncode == 2 and "not yours" in run.stderr
    job.refresh_from_db()
    assert job.status == "queued"


def test_a_revoked_or_wrong_token_exits_3(cloudsite, server_queues, token):
    ApiToken.objects.get().revoke()
    for bad in (token, "cs_made-up"):
        run = cloudsite("jobs", token=bad)
        assert run.returncode == 3 and "not authorised" in run.stderr


def test_no_token_is_a_usage_error_saying_how_to_get_one(cloudsite):
    run = cloudsite("jobs", token="")
    assert run.returncode == 2 and "create_api_token" in run.stderr


def test_an_unreachable_site_exits_3(cloudsite):
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    run = cloudsite("jobs", url=f"http://127.0.0.1:{port}")
    assert run.returncode == 3 and "cannot reach" in run.stderr


def test_login_saves_the_settings_readable_by_the_user_only(cloudsite, token, tmp_path,
                                                           live_server):
    run = cloudsite("login", "--url", live_server.url, "--token", token, token="")
    assert run.returncode == 0, run.stderr
    path = tmp_path / "config" / "cloudsite" / "config.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert json.loads(path.read_text()) == {"url": live_server.url, "token": token}
    # With no CLOUDSITE_TOKEN the saved one is used.
    assert cloudsite("jobs", "--json", token="").returncode == 0

    refused = cloudsite("login", "--token", "cs_wrong", token="")
    assert refused.returncode == 3
