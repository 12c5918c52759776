"""deploy/bootstrap.sh run against a fake machine (tests/deploy/fakemachine.py)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .fakemachine import REPO, SECRET_KEY, WEB, calls, machine, run, unpack_release


def run_bootstrap(tmp_path: Path, role: str, check: bool = True, **extra: str):
    root, env = machine(tmp_path, CLOUDSITE_ROLE=role, **extra)
    app = unpack_release(root)
    result = run(app / "deploy" / "bootstrap.sh", env)
    if check:
        assert result.returncode == 0, result.stderr
    return root, calls(env), result


def read_env(path: Path) -> dict[str, str]:
    lines = [line for line in path.read_text().splitlines() if line and line[0] != "#"]
    return dict(line.split("=", 1) for line in lines)


@pytest.fixture
def web_boot(tmp_path):
    root, log, _ = run_bootstrap(tmp_path, "web", **WEB)
    return root, log


def test_web_boot_writes_the_env_file_from_secrets_manager(web_boot):
    root, _ = web_boot
    env_file = root / "etc" / "cloudsite.env"
    assert env_file.stat().st_mode & 0o777 == 0o600
    env = read_env(env_file)
    assert env["DJANGO_SECRET_KEY"] == SECRET_KEY
    # The password is URL-quoted, so a '/' or '@' in it cannot break the URL.
    assert env["DATABASE_URL"] == (
        "postgres://cloudsite:p%40ss%2Fword@db.abc.eu-west-1.rds.amazonaws.com:5432/cloudsite")
    assert env["DJANGO_ALLOWED_HOSTS"] == "cloudsite.example.com"
    assert env["DJANGO_CSRF_TRUSTED_ORIGINS"] == "https://cloudsite.example.com"
    assert env["CLOUDSITE_BUCKET"] == "site-bucket"
    assert env["CLOUDSITE_QUEUE_PREFIX"] == "prod-"
    # Unbuffered logs are a property of the units, set there once (not here as well).
    assert "PYTHONUNBUFFERED" not in env
    for name in ("DJANGO_SECURE_COOKIES", "DJANGO_SECURE_SSL_REDIRECT",
                 "DJANGO_HSTS_INCLUDE_SUBDOMAINS", "DJANGO_HSTS_PRELOAD"):
        assert env[name] == "1"
    assert env["DJANGO_HSTS_SECONDS"] == "31536000"
    # The abuse limits count the address the load balancer appends, not the balancer.
    assert env["CLOUDSITE_TRUST_X_FORWARDED_FOR"] == "1"


def test_web_boot_installs_migrates_and_starts_the_web_units(web_boot):
    root, calls = web_boot
    units = root / "etc" / "systemd" / "system"
    assert sorted(p.name for p in units.iterdir()) == [
        "cloudsite-journal@.service", "cloudsite-reconciler.service", "cloudsite-web.service"]
    assert any(c.startswith("useradd --system") and c.endswith("cloudsite") for c in calls)
    assert "python deploy/release.py" in calls
    assert "systemctl daemon-reload" in calls
    enable = calls.index("systemctl enable --now cloudsite-web.service "
                         "cloudsite-reconciler.service cloudsite-journal@web.service "
                         "cloudsite-journal@reconciler.service")
    assert calls.index("python deploy/release.py") < enable
    # Ready, not merely alive: the launch hook waits for the database and the queues.
    assert "http://127.0.0.1:8000/readyz" in calls[-1] and "-fsS" in calls[-1].split()
    for unit in units.glob("cloudsite-[rw]*.service"):
        assert "\nEnvironment=PYTHONUNBUFFERED=1\n" in unit.read_text(), unit.name
    assert (root / "etc" / "logrotate.d" / "cloudsite").exists()
    assert (root / "var" / "log" / "cloudsite").is_dir()


def test_the_boot_installs_only_the_releases_wheels_by_hash(web_boot):
    _, calls = web_boot
    (pip,) = [c for c in calls if c.startswith("pip ")]
    args = pip.split()
    assert "--no-index" in args and "--require-hashes" in args
    assert args[args.index("--find-links") + 1].endswith("/opt/cloudsite/wheelhouse")
    assert args[args.index("-r") + 1].endswith("/opt/cloudsite/wheelhouse/requirements.lock")
    assert not any("requirements-dev" in c or "--upgrade" in c for c in calls)


def test_root_owns_the_release_so_the_service_user_cannot_edit_what_root_runs(web_boot):
    root, calls = web_boot
    assert f"chown -R root:root {root}/opt/cloudsite" in calls
    assert not any(c.startswith("chown") and "cloudsite:" in c for c in calls)
    lifecycle = (REPO / "deploy" / "systemd" / "cloudsite-lifecycle.service").read_text()
    assert "User=" not in lifecycle  # root runs it, hence the root-owned release
    assert "ExecStart=/opt/cloudsite/deploy/lifecycle-watch.sh" in lifecycle


def test_a_worker_boot_keeps_the_site_secrets_off_the_worker(tmp_path):
    root, calls, _ = run_bootstrap(tmp_path, "pic", LIFECYCLE_GROUP="cs-pic",
                                   LIFECYCLE_HOOK="finish-jobs")
    env = read_env(root / "etc" / "cloudsite.env")
    assert "DATABASE_URL" not in env
    assert len(env["DJANGO_SECRET_KEY"]) >= 50 and env["DJANGO_SECRET_KEY"] != SECRET_KEY
    assert env["LIFECYCLE_GROUP"] == "cs-pic"
    assert not any("secretsmanager" in c for c in calls)
    units = root / "etc" / "systemd" / "system"
    assert sorted(p.name for p in units.iterdir()) == [
        "cloudsite-journal@.service", "cloudsite-lifecycle.service",
        "cloudsite-pic-worker@.service"]
    assert ("systemctl enable --now cloudsite-pic-worker@1.service cloudsite-lifecycle.service "
            "cloudsite-journal@pic-worker.service cloudsite-journal@lifecycle.service") in calls


@pytest.mark.parametrize(("failure", "message"), [
    ({"FAIL_SECRET": "secret-key"}, "could not read secret arn:aws:secretsmanager:eu-west-1:1:"
                                    "secret:secret-key"),
    ({"FAIL_SECRET": "database"}, "could not read secret"),
    ({"EMPTY_SECRET": "secret-key"}, "secret arn:aws:secretsmanager:eu-west-1:1:secret:"
                                     "secret-key is empty"),
    ({"EMPTY_SECRET": "admin"}, "is empty"),
])
def test_a_secret_that_fails_to_load_fails_the_boot_loudly(tmp_path, failure, message):
    root, calls, result = run_bootstrap(tmp_path, "web", check=False, **WEB, **failure)
    assert result.returncode != 0
    assert message in result.stderr
    # Nothing was written or started with an empty secret in it.
    assert not (root / "etc" / "cloudsite.env").exists()
    assert not any(c.startswith("systemctl") for c in calls)
    assert "ready" not in result.stdout


def test_a_failing_install_fails_the_boot(tmp_path):
    root, calls, result = run_bootstrap(tmp_path, "calc", check=False, FAIL_PIP="1",
                                        LIFECYCLE_GROUP="cs-calc", LIFECYCLE_HOOK="finish-jobs")
    assert result.returncode != 0
    assert "DO NOT MATCH THE HASHES" in result.stderr
    assert not any(c.startswith("systemctl") for c in calls)


def test_an_unknown_role_fails_the_boot(tmp_path):
    _, _, result = run_bootstrap(tmp_path, "nonsense", check=False)
    assert result.returncode == 2 and "unknown CLOUDSITE_ROLE" in result.stderr


def test_check_deploy_is_silent_with_the_env_the_web_boot_writes(web_boot, tmp_path):
    root, _ = web_boot
    env = read_env(root / "etc" / "cloudsite.env")
    env.update(PATH=os.environ["PATH"], DJANGO_SETTINGS_MODULE="cloudsite.settings",
               HOME=str(tmp_path))
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy"], cwd=REPO,
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout, (
        result.stdout + result.stderr)


def test_check_deploy_warns_without_those_settings(tmp_path):
    env = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "cloudsite.settings",
           "DJANGO_SECRET_KEY": SECRET_KEY, "DJANGO_ALLOWED_HOSTS": "cloudsite.example.com",
           "HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy"], cwd=REPO,
                            env=env, capture_output=True, text=True, timeout=120)
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stderr + result.stdout


def test_the_env_example_names_every_setting_the_boot_writes(web_boot):
    root, _ = web_boot
    written = set(read_env(root / "etc" / "cloudsite.env"))
    example = set(read_env(REPO / "deploy" / "systemd" / "cloudsite.env.example"))
    assert written == example, json.dumps(sorted(written ^ example))
