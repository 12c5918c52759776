"""Benchmark CloudPic's enhance job against the cost of merely re-encoding the photo.

Run from the project root:  .venv/bin/python bench/bench_enhance.py [--repeat N]
                            [--baseline OLD_ENHANCE.py] [--threads N]

The targets are on one thread (--threads 1, the default): at most 2.5x the floor on
the worst of the three photos and at most 2.0x on the median one.  The worker's own
setting (run_pic_worker: the CPUs divided by --concurrency, at least 1) is printed
with them.

It builds three 12-megapixel JPEGs (4000 x 3000, quality 90) from smooth to busy,
because the floor depends on the photo (a busy one is slow to encode, a smooth one
fast) while enhancing costs about the same per pixel:

* smooth -- scikit-image's cat photo upscaled, nothing added (like a phone's zoom);
* grainy -- the coffee photo upscaled, with sensor-like grain;
* busy   -- the astronaut photo tiled at full resolution, with strong colour noise;

and then, in one run per photo, measures:

* the floor: Pillow decode + encode at quality 90 of that file;
* the job:   pic.enhance.enhance_file(src, dst, 0.30, threads=N) -- decode, plan,
             enhance, encode, decode the delivered file and measure it: the very call
             the worker makes;
* with --baseline, the same job run by another copy of the module (for instance the
  previous pic/enhance.py, written to a temporary file with git show);
* for reference, the naive ImageEnhance chain (Contrast, Sharpness, Color at 1.3);

as wall-clock medians over several repetitions (timed in one child process, the
workloads interleaved), and the peak memory of each above the interpreter's
baseline, each in a fresh child process: peak RSS minus the RSS after imports and a
warm-up (numpy's and Pillow's buffers are not all visible to tracemalloc).  Peak RSS
is the kernel's VmHWM, reset through /proc/self/clear_refs after the warm-up; where
that is not available, getrusage's ru_maxrss.  It also prints the gains on the
photos the tests use.

Source and result are temporary files, as in the worker.  The machine's other load
shows in the times: the load average is printed with them.
"""

from __future__ import annotations

import argparse
import importlib.util
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
PHOTOS = ("smooth", "grainy", "busy")
TEST_PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "immunohistochemistry", "camera")
GAINS = pipeline.GAIN_KEYS


# ------------------------------------------------------------------ the workloads


def kinds(baseline: bool) -> tuple[str, ...]:
    return ("floor", "job", *(("old",) if baseline else ()), "naive")


def load_baseline(path: str | None):
    if not path:
        return None
    spec = importlib.util.spec_from_file_location("enhance_baseline", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # (dataclasses look their module up there)
    spec.loader.exec_module(module)
    return module


def run_floor(src: Path, dst: Path, threads: int, old) -> None:
    with Image.open(src) as image:
        image.load()
        image.save(dst, "JPEG", quality=pipeline.JPEG_QUALITY)


def run_job(src: Path, dst: Path, threads: int, old) -> dict:
    with open(src, "rb") as fin, open(dst, "w+b") as fout:  # (it reads its result back)
        _, metrics = pipeline.enhance_file(fin, fout, STRENGTH, threads=threads)
    return metrics


def run_old(src: Path, dst: Path, threads: int, old) -> dict:
    with open(src, "rb") as fin, open(dst, "w+b") as fout:
        _, metrics = old.enhance_file(fin, fout, STRENGTH)
    return metrics


def run_naive(src: Path, dst: Path, threads: int, old) -> None:
    with Image.open(src) as image:
        image.load()
        out = ImageEnhance.Contrast(image).enhance(1.3)
        out = ImageEnhance.Sharpness(out).enhance(1.3)
        out = ImageEnhance.Color(out).enhance(1.3)
        out.save(dst, "JPEG", quality=pipeline.JPEG_QUALITY)


WORK = {"floor": run_floor, "job": run_job, "old": run_old,
        "naive": run_naive}
LABELS = {
    "floor": "floor (decode + encode q90)",
    "job": "enhance job (enhance_file)",
    "old": "baseline module's job",
    "naive": "naive ImageEnhance chain",
}


# ------------------------------------------------------------------- the test files


def make_photo(kind: str, path: Path) -> None:
    """A 4000 x 3000 JPEG (quality 90), from smooth to busy."""
    import skimage.data

    rng = np.random.default_rng(12345)
    if kind == "busy":
        tile = skimage.data.astronaut()
        reps = (-(-SIZE[1] // tile.shape[0]), -(-SIZE[0] // tile.shape[1]), 1)
        pixels = np.tile(tile, reps)[: SIZE[1], : SIZE[0]].astype(np.int16)
        noise = rng.normal(0, 12, pixels.shape).astype(np.int16)
    else:
        name = "chelsea" if kind == "smooth" else "coffee"
        small = Image.fromarray(getattr(skimage.data, name)())
        pixels = np.asarray(small.resize(SIZE, Image.Resampling.BICUBIC), dtype=np.int16)
        noise = np.zeros_like(pixels)
        if kind == "grainy":
            # Luma grain plus a little chroma noise, as a camera sensor would leave.
            noise = rng.normal(0, 5, SIZE[::-1]).astype(np.int16)[..., None]
            noise = noise + rng.normal(0, 2, pixels.shape).astype(np.int16)
    Image.fromarray(np.clip(pixels + noise, 0, 255).astype(np.uint8)).save(
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


def warm_up(tmp: Path, threads: int, old, chosen: tuple[str, ...]) -> None:
    """Load Pillow's plugins, numpy's ufunc machinery and threads before the
    baseline, so that the measurement is of the work, not of first imports."""
    small = tmp / "warm.jpg"
    Image.new("RGB", (64, 48), (90, 120, 150)).save(small, "JPEG")
    for kind in chosen:
        WORK[kind](small, tmp / f"warm-{kind}.jpg", threads, old)


def child_memory(kind: str, src: Path, tmp: Path, threads: int, old) -> None:
    warm_up(tmp, threads, old, (kind,))
    baseline = reset_peak_rss()
    WORK[kind](src, tmp / f"out-{kind}.jpg", threads, old)
    print(json.dumps({"peak_kib": peak_rss_kib() - baseline}))


def child_timing(src: Path, tmp: Path, repeat: int, threads: int, old) -> None:
    chosen = kinds(old is not None)
    warm_up(tmp, threads, old, chosen)
    times: dict[str, list[float]] = {kind: [] for kind in chosen}
    metrics = {}
    for _ in range(repeat):
        for kind in chosen:  # interleaved, so that drift hits all of them alike
            start = time.perf_counter()
            result = WORK[kind](src, tmp / f"out-{kind}.jpg", threads, old)
            times[kind].append(time.perf_counter() - start)
            if result is not None:
                metrics[kind] = result
    print(json.dumps({"times": times, "metrics": metrics}))


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


def gains(metrics: dict) -> str:
    before, after = metrics["before"], metrics["after"]
    return " ".join(f"{after[key] / before[key]:5.3f}" if before[key] else "  -  "
                    for key in GAINS)


def bench_photo(kind: str, tmp: Path, args, decoded_by: dict) -> tuple[float, float]:
    """Print one photo's table; return its job / floor ratio and memory / decoded."""
    needed = {}
    src = tmp / f"{kind}.jpg"
    make_photo(kind, src)
    with Image.open(src) as image:
        width, height = image.size
    decoded = width * height * 3
    common = ["--src", str(src), "--tmp", str(tmp), "--threads", str(args.threads)]
    if args.baseline:
        common += ["--baseline", args.baseline]
    timing = spawn("--child", "timing", "--repeat", str(args.repeat), *common)
    median = {k: statistics.median(ts) for k, ts in timing["times"].items()}
    needed = timing["metrics"].get("job", {}).get("needed", {})
    memory = {k: spawn("--child", k, *common)["peak_kib"] * 1024
              for k in median if k != "naive"}
    mib = 1024 * 1024
    print(f"{kind}: {width} x {height} JPEG q90, {src.stat().st_size / mib:.1f} MiB on disk,"
          f" decoded {decoded / mib:.1f} MiB; load average {load_average()}")
    print(f"  {'':28s}{'time':>9s}{'x floor':>9s}{'peak mem':>11s}{'x decoded':>10s}"
          f"   gains {' '.join(k[:5] for k in GAINS)}")
    for k, seconds in median.items():
        mem = (f"{memory[k] / mib:7.1f} MiB{memory[k] / decoded:9.2f}x" if k in memory
               else f"{'':20s}")
        gain = f"   {gains(timing['metrics'][k])}" if k in timing["metrics"] else ""
        print(f"  {LABELS[k]:28s}{seconds * 1000:6.0f} ms{seconds / median['floor']:8.2f}x"
              f"{mem}{gain}")
    if needed:
        print("  needed (contrast, colorfulness, sharpness): "
              + " ".join(f"{needed[k]:.3f}" for k in GAINS))
    if "old" in median:
        decoded_by.setdefault("old", []).append(
            (median["old"] / median["floor"], memory["old"] / decoded))
    print()
    return median["job"] / median["floor"], memory["job"] / decoded


def test_photo_gains(old) -> None:
    import skimage.data

    print(f"gains at s = {STRENGTH} on the tests' photos (contrast, colorfulness, sharpness;"
          " exact measures)")
    for name in TEST_PHOTOS:
        image = Image.fromarray(getattr(skimage.data, name)())
        before = pipeline.measure(image, exact=True)
        line = f"  {name:22s} job {gains_of(before, pipeline.enhance(image, STRENGTH))}"
        if old is not None:
            line += f"   baseline {gains_of(before, old.enhance(image, STRENGTH))}"
        print(line)


def gains_of(before: dict, image: Image.Image) -> str:
    return gains({"before": before, "after": pipeline.measure(image, exact=True)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="timing repetitions")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads per job (default 1: the targets are on one thread)")
    parser.add_argument("--baseline", help="another enhance module (a .py file) to compare")
    parser.add_argument("--photos", nargs="+", choices=PHOTOS, default=PHOTOS,
                        help="which 12 MP photos to build and time")
    parser.add_argument("--child", choices=["timing", *WORK], help=argparse.SUPPRESS)
    parser.add_argument("--src", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--tmp", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    old = load_baseline(args.baseline)
    if args.child == "timing":
        child_timing(args.src, args.tmp, args.repeat, args.threads, old)
        return
    if args.child:
        child_memory(args.child, args.src, args.tmp, args.threads, old)
        return

    print("CloudPic enhance benchmark")
    print(f"  machine : {os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}),"
          f" {platform.machine()}, Python {platform.python_version()},"
          f" Pillow {Image.__version__}, numpy {np.__version__}")
    cpus = len(os.sched_getaffinity(0))
    print(f"  strength {STRENGTH}, {args.threads} thread(s) per job, {args.repeat} repetitions,"
          " medians; other work on the machine skews the times")
    print(f"  the worker's setting: run_pic_worker gives each job max(1, CPUs // --concurrency)"
          f" threads: here {cpus} at concurrency 1, {max(1, cpus // 2)} at 2")
    print()
    results, baseline = {}, {}
    with tempfile.TemporaryDirectory(prefix="bench-enhance-") as tmpdir:
        for kind in args.photos:
            results[kind] = bench_photo(kind, Path(tmpdir), args, baseline)
    worst = max(results, key=lambda k: results[k][0])
    ratios = sorted(r for r, _ in results.values())
    print(f"job / floor on {args.threads} thread(s), worst: {results[worst][0]:.2f}x ({worst})"
          "   (target <= 2.5x on one thread)")
    print(f"job / floor, median photo: {statistics.median(ratios):.2f}x"
          "   (target <= 2.0x on one thread)")
    print(f"job peak memory, worst: {max(m for _, m in results.values()):.2f}x the decoded"
          " image   (target <= 2x)")
    if baseline.get("old"):
        print(f"baseline / floor, worst: {max(r for r, _ in baseline['old']):.2f}x;"
              f" its peak memory, worst: {max(m for _, m in baseline['old']):.2f}x")
    print()
    test_photo_gains(old)


if __name__ == "__main__":
    main()
