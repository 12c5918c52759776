"""deploy/lifecycle-watch.sh with stub metadata, systemctl and aws on PATH."""

import os
import shutil
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "lifecycle-watch.sh"

# The metadata service says InService twice, then Terminated (Terminating:Wait).
CURL = """#!/bin/sh
case "$*" in
  *api/token*) echo token ;;
  *instance-id*) echo i-0abc123 ;;
  *target-lifecycle-state*)
    n=$(cat "$STATE" 2>/dev/null || echo 0); echo $((n + 1)) > "$STATE"
    if [ "$n" -ge 2 ]; then echo Terminated; else echo InService; fi ;;
esac
"""
RECORD = '#!/bin/sh\necho "$(basename "$0") $*" >> "$STUB_LOG"\n'


def test_it_stops_the_workers_before_letting_termination_go_on(tmp_path):
    stubs = tmp_path / "bin"
    stubs.mkdir()
    for name, body in {"curl": CURL, "systemctl": RECORD, "aws": RECORD}.items():
        (stubs / name).write_text(body)
        (stubs / name).chmod(0o755)
    log = tmp_path / "calls.log"
    env = {"PATH": f"{stubs}{os.pathsep}/usr/bin{os.pathsep}/bin", "STUB_LOG": str(log),
           "STATE": str(tmp_path / "polls"), "LIFECYCLE_POLL_SECONDS": "0",
           "LIFECYCLE_GROUP": "cs-pic", "LIFECYCLE_HOOK": "finish-jobs"}
    result = subprocess.run([shutil.which("bash"), str(SCRIPT)], env=env, capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "polls").read_text().strip() == "3"
    stop, complete = log.read_text().splitlines()
    assert stop.startswith("systemctl stop ") and "cloudsite-pic-worker@*.service" in stop
    assert complete == (
        "aws autoscaling complete-lifecycle-action --lifecycle-action-result CONTINUE "
        "--auto-scaling-group-name cs-pic --lifecycle-hook-name finish-jobs "
        "--instance-id i-0abc123")
