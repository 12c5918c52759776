"""deploy/release.py, the web instance's release step, run twice on a fresh database."""

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_it_migrates_collects_static_and_creates_admin_once(tmp_path):
    # A copy of the project, so collectstatic writes into the copy, not the checkout.
    app = tmp_path / "app"
    ignore = shutil.ignore_patterns(".venv", ".git", "media", "staticfiles", "__pycache__",
                                    "db.sqlite3*", "tests")
    shutil.copytree(REPO, app, ignore=ignore)
    database = tmp_path / "db.sqlite3"
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path),
           "DJANGO_SECRET_KEY": "release-test-" + "k" * 50,
           "DATABASE_URL": f"sqlite:///{database}", "CLOUDSITE_ADMIN_PASSWORD": "first"}
    outputs = []
    for password in ("first", "second"):
        env["CLOUDSITE_ADMIN_PASSWORD"] = password
        result = subprocess.run([sys.executable, "deploy/release.py"], cwd=app, env=env,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        outputs.append(result.stdout)
    assert "created superuser admin" in outputs[0]
    assert "created superuser admin" not in outputs[1]
    assert "No migrations to apply." in outputs[1]
    users = sqlite3.connect(database).execute("SELECT username FROM auth_user").fetchall()
    assert users == [("admin",)]
    assert (app / "staticfiles" / "cloudsite" / "site.css").exists()
