"""The tool registry: the apps declare their tools, and everything per tool follows."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from calc.models import CalcJob
from pic.models import PicJob
from workers import tools

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
    assert "5 passed" in done.stdout
