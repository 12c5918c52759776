"""Restoration benchmark: does CloudPic make degraded photos better, and leave good ones be?

Run from the project root:  .venv/bin/python bench/bench_quality.py [--strength S]
                            [--norms] [--cases]

Good photos: scikit-image's shipped natural photos (freely licensed, in its wheel).
Each is degraded the ways casual photos are -- flat or hazy, dull colour, soft focus,
under-exposed, and mixes of these -- and every degraded photo (and the good one) is
enhanced, side by side in the same run, by:

* cloudpic     -- pic.enhance.enhance_file on a PNG (lossless, so the delivered file
                  is what is compared), at strength S (default the maximum, 0.30);
* autocontrast -- Pillow's ImageOps.autocontrast;
* chain        -- Pillow's ImageEnhance Contrast, Sharpness, Color, each at 1 + S;
* clahe        -- scikit-image's exposure.equalize_adapthist (its defaults).

Distances to the undegraded photo, before and after: the mean CIEDE2000 colour
difference (skimage.color.deltaE_ciede2000 on rgb2lab) and 1 - SSIM on luma
(skimage.metrics.structural_similarity, Rec. 601 luma, data range 255).  The share of
the degradation recovered is (d_degraded - d_enhanced) / d_degraded, for each measure the
degradation moved noticeably (dE >= 0.5, 1 - SSIM >= 0.005); a case's share is the mean
of those.  A case ends "farther" when any of them grew.  "moves good" is the median
dE between a good photo and its enhanced self; "moves degraded" the same on the
degraded photos.

--norms prints the statistics norms.py's constants come from (lower quartiles over the
good photos) next to the constants.  --cases prints every case.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import skimage.data  # noqa: E402
from PIL import Image, ImageEnhance, ImageFilter, ImageOps  # noqa: E402
from skimage import exposure  # noqa: E402
from skimage.color import deltaE_ciede2000, rgb2lab  # noqa: E402
from skimage.metrics import structural_similarity  # noqa: E402

from pic import enhance as pipeline  # noqa: E402
from pic.enhance import norms  # noqa: E402
from pic.enhance.metrics import Sample  # noqa: E402

GOOD = ("astronaut", "chelsea", "coffee", "rocket", "motorcycle")
LUMA = np.array([0.299, 0.587, 0.114])

# The faults, each mild to moderate (what casual photos show, and within reach of
# "up to 30%": a stronger fault is only partly undone by design).
HAZE = 0.25  # flat/hazy: a quarter of the light is a veil of 75% grey
DULL = 0.7  # dull colour: chroma scaled by this around luma
SOFT = 1.0  # soft focus: Gaussian blur of this radius (pixels)
DARK = 0.5  # under-exposed: one stop, linear light halved
DEGRADATIONS = {
    "flat": {"haze": HAZE},
    "dull": {"dull": DULL},
    "soft": {"soft": SOFT},
    "dark": {"dark": DARK},
    "flat+dull": {"haze": HAZE, "dull": DULL},
    "dull+soft": {"dull": DULL, "soft": SOFT},
    "dark+soft": {"dark": DARK, "soft": SOFT},
    "mild all": {"haze": 0.12, "dull": 0.85, "soft": 0.6, "dark": 0.7},
}
SIGNIFICANT = {"dE": 0.5, "ssim": 0.005}


def good_photo(name: str) -> np.ndarray:
    if name == "motorcycle":
        return skimage.data.stereo_motorcycle()[0]
    return getattr(skimage.data, name)()


def _to_linear(x: np.ndarray) -> np.ndarray:
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)


def _to_srgb(x: np.ndarray) -> np.ndarray:
    return np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.maximum(x, 0) ** (1 / 2.4) - 0.055)


def degrade(rgb: np.ndarray, faults: dict) -> np.ndarray:
    x = rgb.astype(np.float64) / 255
    if "dark" in faults:
        x = _to_srgb(_to_linear(x) * faults["dark"])
    if "haze" in faults:
        x = (1 - faults["haze"]) * x + faults["haze"] * 0.75
    if "dull" in faults:
        y = (x @ LUMA)[..., None]
        x = y + faults["dull"] * (x - y)
    out = Image.fromarray(np.clip(np.rint(x * 255), 0, 255).astype(np.uint8))
    if "soft" in faults:
        out = out.filter(ImageFilter.GaussianBlur(faults["soft"]))
    return np.asarray(out)


# ----------------------------------------------------------------------- the methods


def cloudpic(rgb: np.ndarray, s: float) -> np.ndarray:
    src, dst = io.BytesIO(), io.BytesIO()
    Image.fromarray(rgb).save(src, "PNG")
    src.seek(0)
    pipeline.enhance_file(src, dst, s)
    dst.seek(0)
    with Image.open(dst) as out:
        return np.asarray(out.convert("RGB"))


def autocontrast(rgb: np.ndarray, s: float) -> np.ndarray:
    return np.asarray(ImageOps.autocontrast(Image.fromarray(rgb)))


def chain(rgb: np.ndarray, s: float) -> np.ndarray:
    out = ImageEnhance.Contrast(Image.fromarray(rgb)).enhance(1 + s)
    out = ImageEnhance.Sharpness(out).enhance(1 + s)
    return np.asarray(ImageEnhance.Color(out).enhance(1 + s))


def clahe(rgb: np.ndarray, s: float) -> np.ndarray:
    return np.clip(np.rint(exposure.equalize_adapthist(rgb) * 255), 0, 255).astype(np.uint8)


METHODS = {"cloudpic": cloudpic, "autocontrast": autocontrast, "chain": chain, "clahe": clahe}


# ---------------------------------------------------------------------- the measures


def distances(a: np.ndarray, b: np.ndarray) -> dict:
    de = float(np.mean(deltaE_ciede2000(rgb2lab(a), rgb2lab(b))))
    ya, yb = a.astype(np.float64) @ LUMA, b.astype(np.float64) @ LUMA
    return {"dE": de, "ssim": 1 - float(structural_similarity(ya, yb, data_range=255))}


def recovered(start: dict, end: dict) -> dict:
    """Share recovered per measure the degradation moved noticeably."""
    return {k: (start[k] - end[k]) / start[k] for k in start if start[k] >= SIGNIFICANT[k]}


def run(s: float, show_cases: bool) -> dict:
    results = {m: {"shares": [], "dE": [], "ssim": [], "farther": 0, "moves_good": [],
                   "moves_bad": [], "by_kind": {}} for m in METHODS}
    cases = 0
    for name in GOOD:
        good = good_photo(name)
        for method, fn in METHODS.items():
            results[method]["moves_good"].append(distances(good, fn(good, s))["dE"])
        for kind, faults in DEGRADATIONS.items():
            bad = degrade(good, faults)
            start = distances(bad, good)
            cases += 1
            for method, fn in METHODS.items():
                out = fn(bad, s)
                end = distances(out, good)
                shares = recovered(start, end)
                r = results[method]
                case = statistics.fmean(shares.values())
                r["shares"].append(case)
                r["by_kind"].setdefault(kind, []).append(case)
                for k, v in shares.items():
                    r[k].append(v)
                r["farther"] += any(v < 0 for v in shares.values())
                r["moves_bad"].append(distances(out, bad)["dE"])
                if show_cases:
                    print(f"  {name:11s}{kind:11s}{method:13s} dE {start['dE']:5.2f} ->"
                          f" {end['dE']:5.2f}  1-SSIM {start['ssim']:.3f} -> {end['ssim']:.3f}"
                          f"  recovered {case * 100:+5.0f}%")
    results["_cases"] = cases
    return results


def print_table(results: dict, s: float) -> None:
    cases = results.pop("_cases")
    print(f"{len(GOOD)} good photos x {len(DEGRADATIONS)} degradations = {cases} cases,"
          f" strength {s}")
    print()
    head = ("| method | recovered median | worst | dE recovered median | SSIM recovered median"
            " | farther | moves good: median dE (max) | moves degraded: median dE"
            " | good / degraded |")
    print(head)
    print("| --- " * 9 + "|")
    for method in METHODS:
        r = results[method]
        good, bad = statistics.median(r["moves_good"]), statistics.median(r["moves_bad"])
        print(f"| {method} | {statistics.median(r['shares']) * 100:.0f}%"
              f" | {min(r['shares']) * 100:.0f}%"
              f" | {statistics.median(r['dE']) * 100:.0f}%"
              f" | {statistics.median(r['ssim']) * 100:.0f}%"
              f" | {r['farther']} of {cases} | {good:.2f} ({max(r['moves_good']):.2f})"
              f" | {bad:.2f} | {good / bad:.2f} |")
    print()
    print("CloudPic's median share recovered per degradation:")
    for kind, shares in results["cloudpic"]["by_kind"].items():
        print(f"  {kind:10s} {statistics.median(shares) * 100:4.0f}%"
              f"  (worst {min(shares) * 100:.0f}%)")
    print()
    ours = results["cloudpic"]
    median = statistics.median(ours["shares"])
    ratio = statistics.median(ours["moves_good"]) / statistics.median(ours["moves_bad"])
    peers = max(statistics.median(results[m]["shares"]) for m in METHODS if m != "cloudpic")
    checks = [
        (f"recovers >= 50% (median): {median * 100:.0f}%", median >= 0.5),
        (f"no case ends farther: {ours['farther']}", ours["farther"] == 0),
        (f"a good photo moves <= half a degraded one: {ratio:.2f}", ratio <= 0.5),
        (f"beats every peer on the median: {median * 100:.0f}% vs {peers * 100:.0f}%",
         median > peers),
    ]
    for text, ok in checks:
        print(f"  [{'met' if ok else 'NOT met'}] {text}")


def print_norms() -> None:
    rows = []
    for name in GOOD:
        image = Image.fromarray(good_photo(name))
        sample = Sample.of(image, exact=True)
        m = sample.metrics()
        lo, hi = norms.span_of(sample)
        rows.append((lo, hi, m.brightness, norms.colour_ratio(m), m.sharpness))
        print(f"  {name:11s} black {lo:5.1f}  white {hi:5.1f}  brightness {m.brightness:.3f}"
              f"  colour ratio {norms.colour_ratio(m):.3f}  sharpness {m.sharpness:.3f}")
    a = np.array(rows)
    measured = {"BLACK_NORM": np.percentile(a[:, 0], 75), "WHITE_NORM": np.percentile(a[:, 1], 25),
                "BRIGHTNESS_NORM": np.percentile(a[:, 2], 25),
                "COLOUR_NORM": np.percentile(a[:, 3], 25),
                "DETAIL_NORM": np.percentile(a[:, 4], 25)}
    # (Black: the upper quartile, since a higher black point is the worse.)
    for key, value in measured.items():
        const = getattr(norms, key)
        flag = "" if abs(const - value) <= 0.005 * max(abs(value), 1) else "   <- differs"
        print(f"  {key:16s} measured {value:7.3f}   norms.py {const:7.3f}{flag}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--strength", type=float, default=pipeline.MAX_STRENGTH)
    parser.add_argument("--norms", action="store_true", help="print the norms' sources")
    parser.add_argument("--cases", action="store_true", help="print every case")
    args = parser.parse_args()
    print("CloudPic restoration benchmark (bench/bench_quality.py)")
    print()
    print("norms: the good photos' statistics and norms.py's constants")
    print_norms()
    if args.norms:
        return
    print()
    print_table(run(args.strength, args.cases), args.strength)


if __name__ == "__main__":
    main()
