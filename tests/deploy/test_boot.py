"""The launch templates' user data (Mappings: Boot) on a fake machine: the boot hook.

The instance enters service only through the group's `boot` launch hook. These run
the user data's common script, with the role's exports, against the stubs of
fakemachine.py and a release tarball of this checkout's deploy/ scripts.
"""

import io
import tarfile
from pathlib import Path

import pytest
from cfnlint.decode import cfn_yaml

from .fakemachine import INSTANCE, REPO, WEB, calls, machine, run

TEMPLATE = REPO / "deploy" / "cloudformation.yaml"
COMMON = cfn_yaml.load(str(TEMPLATE))["Mappings"]["Boot"]["Common"]["Script"]
WORKER = {"LIFECYCLE_GROUP": "cs-calc", "LIFECYCLE_HOOK": "finish-jobs"}


def release(path: Path) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        tar.add(REPO / "deploy", "cloudsite/deploy")
        tar.add(REPO / "requirements.txt", "cloudsite/requirements.txt")
        lock = b"django==5.2.19 --hash=sha256:" + b"0" * 64 + b"\n"
        info = tarfile.TarInfo("cloudsite/wheelhouse/requirements.lock")
        info.size = len(lock)
        tar.addfile(info, io.BytesIO(lock))
    return path


def boot(tmp_path, role: str, **extra: str):
    exports = {"CLOUDSITE_ROLE": role, "STACK_NAME": "cs", "SIGNAL_RESOURCE": "CalcGroup",
               "BOOT_GROUP": f"cs-{role}", "AGENT_CONFIG": "CloudSite-agent-abc",
               "RELEASE_URL": "s3://cloudsite-releases/cloudsite-1.4.0.tar.gz",
               "BOOT_LOG_FLUSH_SECONDS": "0", **extra}
    root, env = machine(tmp_path, RELEASE_TARBALL=str(release(tmp_path / "release.tar.gz")),
                        **exports)
    script = tmp_path / "user-data.sh"
    script.write_text("#!/bin/bash\nset -euo pipefail\n" + COMMON)
    result = run(script, env)
    return root, calls(env), result


def hook(result: str) -> str:
    return (f"aws autoscaling complete-lifecycle-action --lifecycle-action-result {result} "
            f"--auto-scaling-group-name cs-calc --lifecycle-hook-name boot "
            f"--instance-id {INSTANCE}")


def signal(status: str) -> str:
    return (f"aws cloudformation signal-resource --stack-name cs --logical-resource-id "
            f"CalcGroup --unique-id {INSTANCE} --status {status}")


def test_a_good_boot_ships_its_log_then_continues_the_hook_once_ready(tmp_path):
    root, log, result = boot(tmp_path, "calc", **WORKER)
    assert result.returncode == 0, result.stderr
    assert (root / "opt" / "cloudsite" / "deploy" / "bootstrap.sh").exists()
    (dnf,) = [c for c in log if c.startswith("dnf ")]
    assert "amazon-cloudwatch-agent" in dnf.split()
    agent = log.index("amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s "
                      "-c ssm:CloudSite-agent-abc")
    download = next(i for i, c in enumerate(log) if c.startswith("aws s3 cp"))
    started = next(i for i, c in enumerate(log) if c.startswith("systemctl enable --now"))
    # The agent ships the boot log before anything that can fail; the hook is
    # completed only after the units run, and CloudFormation hears of it last.
    assert agent < download < started < log.index(hook("CONTINUE")) < log.index(
        signal("SUCCESS"))
    assert not any("ABANDON" in c or "FAILURE" in c for c in log)


@pytest.mark.parametrize(("role", "failure", "extra"), [
    ("web", {"FAIL_SECRET": "secret-key"}, WEB),
    ("web", {"EMPTY_SECRET": "database"}, WEB),
    ("calc", {"FAIL_PIP": "1"}, WORKER),
    ("calc", {"FAIL_DOWNLOAD": "1"}, WORKER),
])
def test_a_failed_boot_abandons_the_hook_and_reports_failure(tmp_path, role, failure, extra):
    _, log, result = boot(tmp_path, role, **{**extra, **failure, "BOOT_GROUP": "cs-calc"})
    assert result.returncode != 0
    assert "CLOUDSITE BOOT FAILED" in result.stderr
    assert hook("ABANDON") in log and signal("FAILURE") in log
    assert log.index(hook("ABANDON")) < log.index(signal("FAILURE"))
    assert not any("CONTINUE" in c or "SUCCESS" in c for c in log)
    assert not any(c.startswith("systemctl enable") for c in log)
    assert "CLOUDSITE BOOT OK" not in result.stdout
