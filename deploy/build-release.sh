#!/bin/bash
# `make dist VERSION=1.2.0`: dist/cloudsite-VERSION.tar.gz, the release the stack's
# instances install. It holds the committed tree at HEAD (never uncommitted files)
# and wheelhouse/: every wheel an instance installs, downloaded here for the
# instances' platform (Amazon Linux 2023, x86_64, CPython 3.11), and
# wheelhouse/requirements.lock naming each with its sha256. The boot installs with
# --no-index --require-hashes: no index is asked at boot, and nothing else runs.
# The instances get requirements.txt without the local AWS emulator (moto), which
# only `make run` and the tests use.
# PIP (default "python3 -m pip") is the pip that downloads; DIST_DIR defaults to dist.
set -euo pipefail

version=${1:?usage: build-release.sh VERSION}
out=${DIST_DIR:-dist}
read -ra pip <<< "${PIP:-python3 -m pip}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

git archive --format=tar --prefix=cloudsite/ HEAD | tar -xf - -C "$work"
wheelhouse=$work/cloudsite/wheelhouse
mkdir -p "$wheelhouse"
grep -v -E '^moto(\[|=)' "$work/cloudsite/requirements.txt" > "$work/requirements-aws.txt"
# Amazon Linux 2023 has glibc 2.34: it runs a wheel of any manylinux tag up to that.
# pip takes an explicit --platform literally (no older tags implied), so name them all.
platforms=(--platform manylinux2014_x86_64 --platform manylinux2010_x86_64
           --platform manylinux1_x86_64)
for minor in $(seq 5 34); do
  platforms+=(--platform "manylinux_2_${minor}_x86_64")
done
"${pip[@]}" download --quiet --dest "$wheelhouse" --only-binary=:all: "${platforms[@]}" \
  --python-version 3.11 --implementation cp -r "$work/requirements-aws.txt"

python3 - "$wheelhouse" <<'PY'
"""requirements.lock: name==version --hash=sha256:... for every wheel in the wheelhouse."""
import hashlib
import sys
from pathlib import Path

wheelhouse = Path(sys.argv[1])
lines = ["# Written by deploy/build-release.sh: the wheels of this release, by hash."]
for wheel in sorted(wheelhouse.glob("*.whl")):
    name, version = wheel.name.split("-")[:2]
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    lines.append(f"{name}=={version} --hash=sha256:{digest}")
if len(lines) == 1:
    sys.exit("no wheel was downloaded")
(wheelhouse / "requirements.lock").write_text("\n".join(lines) + "\n")
PY

mkdir -p "$out"
tar -czf "$out/cloudsite-$version.tar.gz" -C "$work" cloudsite
echo "$out/cloudsite-$version.tar.gz"
