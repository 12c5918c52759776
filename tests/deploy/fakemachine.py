"""A fake instance for the boot scripts: a temp dir for / and recording stubs on PATH.

Each stub appends its arguments, one call per line, to $STUB_LOG. FAIL_SECRET (a
word of the secret's id), EMPTY_SECRET (likewise), FAIL_PIP and FAIL_DOWNLOAD make
the matching step fail the way AWS or pip would.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SECRET_KEY = "k" * 30 + "Q7x9Zr2Lp4Vw8Ty6Nb3Mc5Hd1Jf0Gs2Ae4"
INSTANCE = "i-0abc123"

STUBS = {
    "aws": """
echo "aws $*" >> "$STUB_LOG"
case "$*" in
  *secretsmanager*)
    if [ -n "${FAIL_SECRET:-}" ] && echo "$*" | grep -q -- "$FAIL_SECRET"; then
      echo "An error occurred (AccessDeniedException) when calling GetSecretValue" >&2
      exit 254
    fi
    if [ -n "${EMPTY_SECRET:-}" ] && echo "$*" | grep -q -- "$EMPTY_SECRET"; then
      echo ""; exit 0
    fi ;;
esac
case "$*" in
  *secret-id*secret-key*) echo "$FAKE_SECRET_KEY" ;;
  *secret-id*admin*) echo "admin-password-from-secrets-manager" ;;
  *secret-id*database*) echo '{"username": "cloudsite", "password": "p@ss/word"}' ;;
  "s3 cp "*)
    [ -z "${FAIL_DOWNLOAD:-}" ] || { echo "fatal error: 403 Forbidden" >&2; exit 1; }
    cp "$RELEASE_TARBALL" "$5" ;;
  "autoscaling complete-lifecycle-action "*|"cloudformation signal-resource "*) ;;
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
    printf '[ -z "$FAIL_PIP" ] || [ %s != pip ] || { echo "$PIP_ERROR" >&2; exit 1; }\\n' \\
      "$tool" >> "$3/bin/$tool"
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
    "dnf": 'echo "dnf $*" >> "$STUB_LOG"',
    "amazon-cloudwatch-agent-ctl": 'echo "amazon-cloudwatch-agent-ctl $*" >> "$STUB_LOG"',
    # The instance metadata service, and the web instance's own /readyz.
    "curl": """
echo "curl $*" >> "$STUB_LOG"
case "$*" in
  *api/token*) echo token ;;
  *meta-data/instance-id*) echo "$FAKE_INSTANCE" ;;
  *) echo '{"status": "ok"}' ;;
esac
""",
    "id": "exit 1",
}

WEB = {
    "SITE_DOMAIN": "cloudsite.example.com", "HSTS_SECONDS": "31536000",
    "SECRET_KEY_ARN": "arn:aws:secretsmanager:eu-west-1:1:secret:secret-key",
    "ADMIN_PASSWORD_ARN": "arn:aws:secretsmanager:eu-west-1:1:secret:admin",
    "DATABASE_SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:1:secret:database",
    "DATABASE_HOST": "db.abc.eu-west-1.rds.amazonaws.com", "DATABASE_PORT": "5432",
}


def machine(tmp_path: Path, **extra: str) -> tuple[Path, dict[str, str]]:
    """(the fake root, the environment of a script run on it)."""
    root = tmp_path / "root"
    (root / "tmp").mkdir(parents=True)
    stubs = tmp_path / "bin"
    stubs.mkdir()
    for name, body in STUBS.items():
        (stubs / name).write_text("#!/bin/sh\n" + body)
        (stubs / name).chmod(0o755)
    env = {
        "PATH": f"{stubs}{os.pathsep}/usr/bin{os.pathsep}/bin",
        "STUB_LOG": str(tmp_path / "calls.log"), "REAL_PYTHON": sys.executable,
        "FAKE_SECRET_KEY": SECRET_KEY, "FAKE_INSTANCE": INSTANCE, "CLOUDSITE_ROOT": str(root),
        "AWS_DEFAULT_REGION": "eu-west-1", "CLOUDSITE_BUCKET": "site-bucket",
        "CLOUDSITE_QUEUE_PREFIX": "prod-", "FAIL_PIP": "",
        "PIP_ERROR": "ERROR: THESE PACKAGES DO NOT MATCH THE HASHES", **extra,
    }
    return root, env


def unpack_release(root: Path) -> Path:
    """What the user data unpacks: the deploy/ scripts and requirements of this checkout."""
    app = root / "opt" / "cloudsite"
    app.mkdir(parents=True)
    shutil.copytree(REPO / "deploy", app / "deploy")
    shutil.copy(REPO / "requirements.txt", app)
    return app


def run(script: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([shutil.which("bash"), str(script)], env=env, capture_output=True,
                          text=True, timeout=60)


def calls(env: dict[str, str]) -> list[str]:
    log = Path(env["STUB_LOG"])
    return log.read_text().splitlines() if log.exists() else []
