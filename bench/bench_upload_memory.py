"""Peak memory of the web process for one CloudPic upload of a 49-megapixel, 47 KB PNG.

Run from the project root:  .venv/bin/python bench/bench_upload_memory.py

Each measurement runs in a fresh child process that sets up the site (a temporary
SQLite database, local storage, moto's in-process SQS), warms up with two small
uploads through the whole view (middleware, upload handler, form, storage, enqueue),
then resets the kernel's peak-RSS mark (/proc/self/clear_refs) and posts the big PNG
through Django's test client: the same code a gunicorn worker runs per request.
The figure is peak RSS (VmHWM) minus RSS before the request.

Two modes: `header` (what the site does: read the image header only) and `decode`
(what it did before issue 8: enhance.inspect(), which decodes every pixel), for scale.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIMIT_MIB = 10


def proc_status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise OSError(f"no {field} in /proc/self/status")


def png(size: tuple[int, int]) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("L", size).save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def child(mode: str) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="bench-upload-"))
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "cloudsite.settings", "DJANGO_SECRET_KEY": "bench-only",
        "DJANGO_ALLOWED_HOSTS": "testserver", "DATABASE_URL": f"sqlite:///{workdir}/db.sqlite3",
        "CLOUDSITE_MEDIA_ROOT": str(workdir / "media"), "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1",
        "CLOUDSITE_SUBMISSIONS_PER_MINUTE": "0", "CLOUDSITE_QUEUED_PER_SESSION": "0",
        "CLOUDSITE_QUEUED_PER_CLIENT": "0",
        "CLOUDSITE_LOG_LEVEL": "WARNING",
    })
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.pop("CLOUDSITE_BUCKET", None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command
    from django.test import Client
    from moto import mock_aws

    from jobs import tools
    from pic import enhance
    from pic import forms as pic_forms
    from workers import aws

    if mode == "decode":
        pic_forms.inspect_header = enhance.inspect
    call_command("migrate", verbosity=0)
    big, small = png((7000, 7000)), png((64, 64))
    with mock_aws():
        aws.create_queues(tools.installed())
        client = Client()

        def post(content: bytes) -> int:
            upload = SimpleUploadedFile("photo.png", content, "image/png")
            return client.post("/pic/", {"image": upload, "strength": "30"}).status_code

        assert post(small) == post(small) == 302
        Path("/proc/self/clear_refs").write_text("5")
        before = proc_status_kib("VmRSS")
        status = post(big)
        peak = proc_status_kib("VmHWM")
    return {"mode": mode, "status": status, "bytes": len(big),
            "above_idle_mib": round((peak - before) / 1024, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", choices=["header", "decode"], help="internal: one run")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child)))
        return
    results = {}
    for mode in ("header", "decode"):
        out = subprocess.run([sys.executable, __file__, "--child", mode], check=True,
                             capture_output=True, text=True, cwd=ROOT, timeout=600)
        results[mode] = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"CloudPic upload of a 7000 x 7000 PNG ({results['header']['bytes'] / 1000:.0f} KB), "
          "peak RSS of the web process above idle:")
    for mode, label in (("header", "header only (now)"), ("decode", "full decode (before)")):
        r = results[mode]
        print(f"  {label:22} {r['above_idle_mib']:6.1f} MiB   (HTTP {r['status']})")
    verdict = "within" if results["header"]["above_idle_mib"] < LIMIT_MIB else "OVER"
    print(f"  target: < {LIMIT_MIB} MiB above idle -> {verdict}")


if __name__ == "__main__":
    main()
