"""cfn-lint and shellcheck of deploy/, inside `make test` (both are dev dependencies)."""

import subprocess
import sys
from pathlib import Path

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
BIN = Path(sys.executable).parent


def test_cfn_lint_finds_no_errors_or_warnings():
    result = subprocess.run([str(BIN / "cfn-lint"), str(DEPLOY / "cloudformation.yaml")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_deploy_scripts_are_shellcheck_clean():
    scripts = sorted(DEPLOY.glob("*.sh"))
    assert {p.name for p in scripts} >= {"bootstrap.sh", "lifecycle-watch.sh"}
    result = subprocess.run([str(BIN / "shellcheck"), *map(str, scripts)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
