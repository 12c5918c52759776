"""deploy/build-release.sh (make dist): the release carries its wheels and a hashed lock.

A stub pip "downloads" a small real wheel per requirement, so the test needs no
network; the real pip then installs from the release's wheelhouse the way the boot
does (--no-index --require-hashes) and refuses a wheel changed after the build.
"""

import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# Records its arguments, then writes a minimal pure wheel for each name==version line.
STUB_PIP = r'''
import sys, zipfile, re
from pathlib import Path
args = sys.argv[1:]
Path(__import__("os").environ["PIP_ARGS"]).write_text("\n".join(args))
dest = Path(args[args.index("--dest") + 1])
for line in Path(args[args.index("-r") + 1]).read_text().splitlines():
    m = re.match(r"^([A-Za-z0-9_.-]+)(\[[^]]*\])?==([^\s;]+)", line)
    if not m:
        continue
    name, version = re.sub(r"[-_.]+", "_", m[1]).lower(), m[3]
    info = f"{name}-{version}.dist-info"
    with zipfile.ZipFile(dest / f"{name}-{version}-py3-none-any.whl", "w") as whl:
        whl.writestr(f"{name}_stub/__init__.py", "")
        whl.writestr(f"{info}/METADATA",
                     f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        whl.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: test\n"
                     "Root-Is-Purelib: true\nTag: py3-none-any\n")
        whl.writestr(f"{info}/RECORD", "")
'''


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dist")
    (tmp / "pip.py").write_text(STUB_PIP)
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp), "DIST_DIR": str(tmp / "dist"),
           "PIP": f"{sys.executable} {tmp / 'pip.py'}", "PIP_ARGS": str(tmp / "pip-args")}
    result = subprocess.run([shutil.which("bash"), "deploy/build-release.sh", "9.9.9"],
                            cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    tarball = tmp / "dist" / "cloudsite-9.9.9.tar.gz"
    assert result.stdout.strip().endswith("cloudsite-9.9.9.tar.gz")
    unpacked = tmp / "unpacked"
    with tarfile.open(tarball) as tar:
        tar.extractall(unpacked, filter="data")
    return unpacked / "cloudsite", (tmp / "pip-args").read_text().splitlines()


def test_the_release_holds_the_committed_tree_and_a_wheelhouse(built):
    app, _ = built
    assert (app / "manage.py").exists() and (app / "deploy" / "bootstrap.sh").exists()
    assert sorted(p.suffix for p in (app / "wheelhouse").iterdir()) == (
        [".lock"] + [".whl"] * (len(list((app / "wheelhouse").glob("*.whl")))))


def test_wheels_are_fetched_for_the_instances_platform_not_this_one(built):
    _, args = built
    assert args[0] == "download" and "--only-binary=:all:" in args
    platforms = {args[i + 1] for i, arg in enumerate(args) if arg == "--platform"}
    # pip reads --platform literally: every glibc up to Amazon Linux 2023's 2.34 is named.
    assert {"manylinux_2_34_x86_64", "manylinux_2_28_x86_64", "manylinux_2_17_x86_64",
            "manylinux2014_x86_64"} <= platforms
    assert not any(p.startswith("manylinux_2_35") for p in platforms)
    assert args[args.index("--python-version") + 1] == "3.11"


def test_the_lock_pins_every_runtime_requirement_by_hash_but_not_the_emulator(built):
    app, _ = built
    lock = (app / "wheelhouse" / "requirements.lock").read_text().splitlines()[1:]
    assert all(re.fullmatch(r"[a-z0-9_]+==\S+ --hash=sha256:[0-9a-f]{64}", line) for line in lock)
    locked = {line.split("==")[0] for line in lock}
    runtime = {re.sub(r"[-_.]+", "_", re.split(r"[\[=]", line)[0]).lower()
               for line in (REPO / "requirements.txt").read_text().splitlines()
               if line and not line.startswith("#")}
    assert "moto" in runtime and "moto" not in locked  # `make run` keeps it; instances do not
    assert locked == runtime - {"moto"}


def test_pip_installs_the_wheelhouse_by_hash_and_refuses_a_changed_wheel(built, tmp_path):
    app, _ = built
    wheelhouse = tmp_path / "wheelhouse"
    shutil.copytree(app / "wheelhouse", wheelhouse)
    install = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed",
               "--no-deps", "--no-index", "--find-links", str(wheelhouse), "--require-hashes",
               "-r", str(wheelhouse / "requirements.lock")]
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "PIP_NO_CACHE_DIR": "1",
           "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    ok = subprocess.run(install, env=env, capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert "Would install" in ok.stdout and "django_5.2" in ok.stdout.lower().replace("-", "_")
    wheel = next(wheelhouse.glob("django-*.whl"))
    with zipfile.ZipFile(wheel, "a") as whl:
        whl.writestr("django_stub/extra.py", "print('not what was built')")
    tampered = subprocess.run(install, env=env, capture_output=True, text=True, timeout=120)
    assert tampered.returncode != 0
    assert "DO NOT MATCH THE HASHES" in tampered.stderr
