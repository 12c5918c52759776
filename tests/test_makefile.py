"""The Makefile picks the newest Python >= 3.11 on PATH (or PYTHON=), and says what to
install when there is none; `make run PORT=…` passes the port on."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAKE = shutil.which("make")


def fake_python(folder: Path, name: str, version: tuple[int, int]) -> None:
    script = folder / name
    # Answers the Makefile's version probe like that Python would; nothing else is asked.
    script.write_text(f"#!/bin/sh\nexit {0 if version >= (3, 11) else 1}\n")
    script.chmod(0o755)


def make(folder: Path, path: str, *args: str) -> subprocess.CompletedProcess:
    shutil.copy(ROOT / "Makefile", folder / "Makefile")
    return subprocess.run([MAKE, "-s", "--no-print-directory", *args], cwd=folder,
                          env={"PATH": path}, capture_output=True, text=True, timeout=60)


@pytest.fixture
def bin_dir(tmp_path) -> Path:
    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "echo").symlink_to(shutil.which("echo"))  # make runs a plain `echo` itself
    return folder


def which_python(tmp_path, bin_dir, *args) -> str:
    return make(tmp_path, str(bin_dir), "--eval", "which: ; @echo $(PYTHON)", *args,
                "which").stdout.strip()


def test_the_newest_python_of_at_least_3_11_is_taken(tmp_path, bin_dir):
    fake_python(bin_dir, "python3.11", (3, 11))
    assert which_python(tmp_path, bin_dir) == "python3.11"
    fake_python(bin_dir, "python3.13", (3, 13))
    fake_python(bin_dir, "python3.12", (3, 12))
    assert which_python(tmp_path, bin_dir) == "python3.13"
    assert which_python(tmp_path, bin_dir, "PYTHON=/opt/py/bin/python3") == "/opt/py/bin/python3"


def test_a_python_found_but_not_runnable_is_passed_over(tmp_path, bin_dir):
    # pyenv puts a shim for every version it knows on PATH; a version not selected fails
    # when run ("python3.13: command not found"), as CI's clean clone met.
    fake_python(bin_dir, "python3.11", (3, 11))
    shim = bin_dir / "python3.13"
    shim.write_text("#!/bin/sh\necho 'pyenv: python3.13: command not found' >&2\nexit 127\n")
    shim.chmod(0o755)
    assert which_python(tmp_path, bin_dir) == "python3.11"


def test_a_plain_python3_counts_only_from_3_11(tmp_path, bin_dir):
    fake_python(bin_dir, "python3", (3, 10))
    assert which_python(tmp_path, bin_dir) == ""
    fake_python(bin_dir, "python3", (3, 12))
    assert which_python(tmp_path, bin_dir) == "python3"


def test_without_one_it_says_what_to_install(tmp_path, bin_dir):
    run = make(tmp_path, str(bin_dir), ".venv/bin/python")
    assert run.returncode != 0
    assert "No Python 3.11 or newer found" in run.stderr and "PYTHON=" in run.stderr
    assert not (tmp_path / ".venv").exists()


def test_make_run_takes_a_port(tmp_path, bin_dir):
    for name in ("requirements.txt", "client/pyproject.toml", ".venv/bin/python",
                 ".secret_key", ".venv/.installed-run"):  # installed: the stamp is newest
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).touch()
    run = make(tmp_path, str(bin_dir), "-n", "run", "PORT=8001")
    assert "manage.py runlocal --port 8001" in run.stdout, run.stderr
