"""The tool registry: the apps declare their tools, and everything per tool follows."""

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from calc.models import CalcJob
from jobs import tools
from jobs.models import Job
from pic.models import PicJob

ROOT = Path(__file__).resolve().parents[2]


def test_each_app_declares_its_tool_and_its_model_finds_it():
    assert [tool.name for tool in tools.installed()] == ["calc", "pic"]
    calc, pic = tools.get("calc"), tools.get("pic")
    assert (CalcJob.tool, PicJob.tool) == (calc, pic)
    assert (calc.model, pic.model) == (CalcJob, PicJob)
    assert calc.response_dlq == "cloudcal-responses-dlq"
    assert pic.response_dlq == "cloudpic-outbox-dlq"


def test_an_unknown_tool_is_a_lookup_error():
    with pytest.raises(LookupError):
        tools.get("nope")


def test_a_third_tool_is_one_app_and_one_line_in_installed_apps():
    # Its own process: INSTALLED_APPS, URLs and the test database differ from this one's.
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/thirdtool/checks.py", "-q", "-p",
         "no:cacheprovider", "--ds=tests.thirdtool.settings"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "9 passed" in done.stdout


def test_the_installed_tools_keep_the_contract():
    for tool in tools.installed():
        tools.check_contract(tool)  # raises on any missing piece


@pytest.mark.parametrize("change, message", [
    ({"model_name": "Nope"}, "its app has no model 'Nope'"),
    ({"handler": "calc.no_such_module.handle"}, "no handler module 'calc.no_such_module'"),
    ({"name": "calc2"}, "its name or a queue name is another installed tool's too"),
])
def test_a_tool_missing_a_piece_is_named_at_start_up(change, message):
    broken = dataclasses.replace(tools.get("calc"), **change)
    with pytest.raises(ImproperlyConfigured, match=f"tool '{broken.name}' \\(calc\\): {message}"):
        tools.check_contract(broken)


@pytest.mark.parametrize("attribute, value, message", [
    ("clean_result", Job.clean_result, "must define clean_result"),
    ("request_fields", ("numbers", "nope"), "request_fields names 'nope', which is not a field"),
    ("result_fields", (), "result_fields names no field"),
])
def test_a_model_missing_a_piece_is_named_at_start_up(monkeypatch, attribute, value, message):
    monkeypatch.setattr(CalcJob, attribute, value)
    with pytest.raises(ImproperlyConfigured, match=message):
        tools.check_contract(tools.get("calc"))
