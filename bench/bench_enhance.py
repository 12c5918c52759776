"""Benchmark CloudPic's enhance job against the cost of merely re-encoding the photo.

Run from the project root:  .venv/bin/python bench/bench_enhance.py [--repeat N]

It builds a ~12-megapixel JPEG (a scikit-image photograph upscaled to 4000 x 3000,
with grain so that it compresses like a real photo, saved at quality 90) and then,
in one run, measures:

* the floor: Pillow decode + encode at quality 90 of that file;
* the job:   pic.enhance.enhance_file(src, dst, 0.30) -- decode, plan, enhance,
             encode, the very call the worker makes;
* for reference, the naive ImageEnhance chain (Contrast, Sharpness, Color at 1.3);

as wall-clock medians over several repetitions (timed in one child process, the
three workloads interleaved), and the peak memory of each above the interpreter's
baseline, each in a fresh child process: peak RSS minus the RSS after imports and a
warm-up (numpy's and Pillow's buffers are not all visible to tracemalloc).  Peak RSS
is the kernel's VmHWM, reset through /proc/self/clear_refs after the warm-up; where
that is not available, getrusage's ru_maxrss.

Source and result are temporary files, as in the worker.  The machine's other load
shows in the times: the load average is printed with them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from PIL import Image, ImageEnhance  # noqa: E402

from pic import enhance as pipeline  # noqa: E402

SIZE = (4000, 3000)
STRENGTH = 0.30
KINDS = ("floor", "job", "naive")


# ------------------------------------------------------------------ the workloads


def run_floor(src: Path, dst: Path) -> None:
    with Image.open(src) as image:
        image.load()
        image.save(dst, "JPEG", quality=pipeline.JPEG_QUALITY)


def run_job(src: Path, dst: Path) -> dict:
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        _, metrics = pipeline.enhance_file(fin, fout, STRENGTH)
    return metrics


def run_naive(src: Path, dst: Path) -> None:
    with Image.open(src) as image:
        image.load()
        out = ImageEnhance.Contrast(image).enhance(1.3)
        out = ImageEnhance.Sharpness(out).enhance(1.3)
        out = ImageEnhance.Color(out).enhance(1.3)
        out.save(dst, "JPEG", quality=pipeline.JPEG_QUALITY)


WORK = {"floor": run_floor, "job": run_job, "naive": run_naive}


# ------------------------------------------------------------------- the test file


def make_photo(path: Path) -> None:
    """A 4000 x 3000 JPEG (quality 90) from skimage's coffee photo, with grain."""
    import skimage.data

    rng = np.random.default_rng(12345)
    photo = Image.fromarray(skimage.data.coffee()).resize(SIZE, Image.Resampling.BICUBIC)
    pixels = np.asarray(photo, dtype=np.int16)
    # Luma grain plus a little chroma noise, as a camera sensor would leave.
    grain = rng.normal(0, 5, SIZE[::-1]).astype(np.int16)[..., None]
    grain = grain + rng.normal(0, 2, pixels.shape).astype(np.int16)
    Image.fromarray(np.clip(pixels + grain, 0, 255).astype(np.uint8)).save(
        path, "JPEG", quality=90
    )


# ------------------------------------------------------------------ child processes


def reset_peak_rss() -> int:
    """Start a fresh peak-RSS measurement; return the RSS it starts from, in KiB.

    A child's ru_maxrss starts at its parent's (Linux keeps the high-water mark
    across fork and exec), so where possible reset the kernel's mark by writing 5
    to /proc/self/clear_refs and read VmHWM; else fall back to ru_maxrss.
    """
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return proc_status_kib("VmRSS")
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def peak_rss_kib() -> int:
    try:
        return proc_status_kib("VmHWM")
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def proc_status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise OSError(f"no {field} in /proc/self/status")


def warm_up(tmp: Path) -> None:
    """Load Pillow's plugins, numpy's ufunc machinery and a thread pool before the
    baseline, so that the measurement is of the work, not of first imports."""
    small = tmp / "warm.jpg"
    Image.new("RGB", (64, 48), (90, 120, 150)).save(small, "JPEG")
    for kind in KINDS:
        WORK[kind](small, tmp / f"warm-{kind}.jpg")


def child_memory(kind: str, src: Path, tmp: Path) -> None:
    warm_up(tmp)
    baseline = reset_peak_rss()
    WORK[kind](src, tmp / f"out-{kind}.jpg")
    print(json.dumps({"peak_kib": peak_rss_kib() - baseline}))


def child_timing(src: Path, tmp: Path, repeat: int) -> None:
    warm_up(tmp)
    times: dict[str, list[float]] = {kind: [] for kind in KINDS}
    metrics = None
    for _ in range(repeat):
        for kind in KINDS:  # interleaved, so that drift hits all three alike
            start = time.perf_counter()
            result = WORK[kind](src, tmp / f"out-{kind}.jpg")
            times[kind].append(time.perf_counter() - start)
            if kind == "job":
                metrics = result
    with Image.open(tmp / "out-naive.jpg") as naive:
        naive_after = pipeline.measure(naive)
    print(json.dumps({"times": times, "metrics": metrics, "naive_after": naive_after}))


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def spawn(*args: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, *args], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7, help="timing repetitions")
    parser.add_argument("--child", choices=["timing", *KINDS], help=argparse.SUPPRESS)
    parser.add_argument("--src", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--tmp", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "timing":
        child_timing(args.src, args.tmp, args.repeat)
        return
    if args.child:
        child_memory(args.child, args.src, args.tmp)
        return

    with tempfile.TemporaryDirectory(prefix="bench-enhance-") as tmpdir:
        tmp = Path(tmpdir)
        src = tmp / "photo.jpg"
        make_photo(src)
        with Image.open(src) as image:
            width, height = image.size
            mode = image.mode
        decoded = width * height * 3

        common = ["--src", str(src), "--tmp", str(tmp)]
        timing = spawn("--child", "timing", "--repeat", str(args.repeat), *common)
        memory = {kind: spawn("--child", kind, *common)["peak_kib"] * 1024 for kind in KINDS}
        median = {kind: statistics.median(ts) for kind, ts in timing["times"].items()}

        mib = 1024 * 1024
        print("CloudPic enhance benchmark")
        print(f"  machine      : {os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}),"
              f" {platform.machine()}, Python {platform.python_version()},"
              f" Pillow {Image.__version__}, numpy {np.__version__}")
        print(f"  image        : {width} x {height} {mode} JPEG q90,"
              f" {src.stat().st_size / mib:.1f} MiB on disk,"
              f" decoded size {decoded / mib:.1f} MiB (w*h*3)")
        print(f"  strength     : {STRENGTH}, {args.repeat} repetitions, medians")
        print(f"  load average : {load_average()} (other work on the machine skews the times)")
        print()
        print(f"  {'':28s}{'time':>10s}{'x floor':>10s}{'peak mem':>12s}{'x decoded':>11s}")
        labels = {
            "floor": "floor (decode + encode q90)",
            "job": "enhance job (enhance_file)",
            "naive": "naive ImageEnhance chain",
        }
        for kind in KINDS:
            print(
                f"  {labels[kind]:28s}{median[kind] * 1000:8.0f} ms"
                f"{median[kind] / median['floor']:9.2f}x"
                f"{memory[kind] / mib:9.1f} MiB{memory[kind] / decoded:10.2f}x"
            )
        print()
        ratio = median["job"] / median["floor"]
        best = min(timing["times"]["job"]) / min(timing["times"]["floor"])
        print(f"  job / floor time ratio : {ratio:.2f}x medians, {best:.2f}x best runs"
              "   (target <= 2.5x)")
        print(f"  job peak memory        : {memory['job'] / decoded:.2f}x the decoded image"
              "   (target <= 2x)")
        before, after = timing["metrics"]["before"], timing["metrics"]["after"]
        naive = timing["naive_after"]
        print()
        print(f"  {'metric':14s}{'before':>10s}{'job':>10s}{'gain':>8s}{'naive':>10s}{'gain':>8s}")
        for key in pipeline.METRIC_KEYS:
            gain = after[key] / before[key] if before[key] else float("nan")
            naive_gain = naive[key] / before[key] if before[key] else float("nan")
            if key in ("brightness", "clipped"):
                gain, naive_gain = after[key] - before[key], naive[key] - before[key]
                print(f"  {key:14s}{before[key]:10.4f}{after[key]:10.4f}{gain:+8.4f}"
                      f"{naive[key]:10.4f}{naive_gain:+8.4f}")
            else:
                print(f"  {key:14s}{before[key]:10.4f}{after[key]:10.4f}{gain:8.3f}"
                      f"{naive[key]:10.4f}{naive_gain:8.3f}")


if __name__ == "__main__":
    main()
