"""deploy/bootstrap.sh run against a fake machine: a temp dir for / and stubs on PATH."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SECRET_KEY = "k" * 30 + "Q7x9Zr2Lp4Vw8Ty6Nb3Mc5Hd1Jf0Gs2Ae4"

# Each stub records its arguments, one call per line, in $STUB_LOG.
STUBS = {
    "aws": """
echo "aws $*" >> "$STUB_LOG"
case "$*" in
  *secret-id*secret-key*) echo "$FAKE_SECRET_KEY" ;;
  *secret-id*admin*) echo "admin-password-from-secrets-manager" ;;
  *secret-id*database*) echo '{"username": "cloudsite", "password": "p@ss/word"}' ;;
  *) exit 1 ;;
esac
""",
    # `python3.11 -m venv DIR` makes a venv whose pip and python only record calls;
    # anything else (the bootstrap's JSON parsing) runs in the real interpreter.
    "python3.11": """
if [ "$1" = -m ] && [ "$2" = venv ]; then
  mkdir -p "$3/bin"
  for tool in pip python; do
    printf '#!/bin/sh\\necho "%s $*" >> "$STUB_LOG"\\n' "$tool" > "$3/bin/$tool"
    chmod +x "$3/bin/$tool"
  done
  echo "venv $3" >> "$STUB_LOG"
  exit 0
fi
exec "$REAL_PYTHON" "$@"
""",
    "systemctl": 'echo "systemctl $*" >> "$STUB_LOG"',
    "useradd": 'echo "useradd $*" >> "$STUB_LOG"',
    "chown": 'echo "chown $*" >> "$STUB_LOG"',
    "curl": 'echo "curl $*" >> "$STUB_LOG"; echo \'{"status": "ok"}\'',
    "id": "exit 1",
}


def run_bootstrap(tmp_path: Path, role: str, **extra: str) -> tuple[Path, list[str]]:
    root = tmp_path / "root"
    app = root / "opt" / "cloudsite"
    app.mkdir(parents=True)
    shutil.copytree(REPO / "deploy", app / "deploy")
    shutil.copy(REPO / "requirements.txt", app)
    stubs = tmp_path / "bin"
    stubs.mkdir()
    for name, body in STUBS.items():
        (stubs / name).write_text("#!/bin/sh\n" + body)
        (stubs / name).chmod(0o755)
    log = tmp_path / "calls.log"
    env = {
        "PATH": f"{stubs}{os.pathsep}/usr/bin{os.pathsep}/bin",
        "STUB_LOG": str(log), "REAL_PYTHON": sys.executable, "FAKE_SECRET_KEY": SECRET_KEY,
        "CLOUDSITE_ROOT": str(root), "CLOUDSITE_ROLE": role,
        "AWS_DEFAULT_REGION": "eu-west-1", "CLOUDSITE_BUCKET": "site-bucket",
        "CLOUDSITE_QUEUE_PREFIX": "prod-", **extra,
    }
    result = subprocess.run([shutil.which("bash"), str(app / "deploy" / "bootstrap.sh")], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return root, log.read_text().splitlines()


WEB = {
    "SITE_DOMAIN": "cloudsite.example.com", "HSTS_SECONDS": "31536000",
    "SECRET_KEY_ARN": "arn:aws:secretsmanager:eu-west-1:1:secret:secret-key",
    "ADMIN_PASSWORD_ARN": "arn:aws:secretsmanager:eu-west-1:1:secret:admin",
    "DATABASE_SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:1:secret:database",
    "DATABASE_HOST": "db.abc.eu-west-1.rds.amazonaws.com", "DATABASE_PORT": "5432",
}


def read_env(path: Path) -> dict[str, str]:
    lines = [line for line in path.read_text().splitlines() if line and line[0] != "#"]
    return dict(line.split("=", 1) for line in lines)


@pytest.fixture
def web_boot(tmp_path):
    return run_bootstrap(tmp_path, "web", **WEB)


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
        "cloudsite-reconciler.service", "cloudsite-web.service"]
    assert any(c.startswith("useradd --system") and c.endswith("cloudsite") for c in calls)
    assert any(c.startswith("pip install --quiet -r ") and "requirements.txt" in c for c in calls)
    assert "python deploy/release.py" in calls
    assert "systemctl daemon-reload" in calls
    enable = calls.index("systemctl enable --now cloudsite-web.service "
                         "cloudsite-reconciler.service")
    assert calls.index("python deploy/release.py") < enable
    assert "http://127.0.0.1:8000/healthz" in calls[-1]
    for unit in units.iterdir():
        assert "\nEnvironment=PYTHONUNBUFFERED=1\n" in unit.read_text(), unit.name


def test_the_dev_requirements_are_not_installed_on_instances(web_boot):
    _, calls = web_boot
    assert not any("requirements-dev" in c for c in calls)


def test_a_worker_boot_keeps_the_site_secrets_off_the_worker(tmp_path):
    root, calls = run_bootstrap(tmp_path, "pic", LIFECYCLE_GROUP="cs-pic",
                                LIFECYCLE_HOOK="finish-jobs")
    env = read_env(root / "etc" / "cloudsite.env")
    assert "DATABASE_URL" not in env
    assert len(env["DJANGO_SECRET_KEY"]) >= 50 and env["DJANGO_SECRET_KEY"] != SECRET_KEY
    assert env["LIFECYCLE_GROUP"] == "cs-pic"
    assert not any("secretsmanager" in c for c in calls)
    units = root / "etc" / "systemd" / "system"
    assert sorted(p.name for p in units.iterdir()) == [
        "cloudsite-lifecycle.service", "cloudsite-pic-worker@.service"]
    assert ("systemctl enable --now cloudsite-pic-worker@1.service "
            "cloudsite-lifecycle.service") in calls


def test_an_unknown_role_fails_the_boot(tmp_path):
    with pytest.raises(AssertionError, match="unknown CLOUDSITE_ROLE"):
        run_bootstrap(tmp_path, "nonsense")


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
