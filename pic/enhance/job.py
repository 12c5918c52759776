"""The job: enhance a file (or an image) and measure it; the package's public calls."""

from __future__ import annotations

import io
import shutil
from dataclasses import replace
from typing import BinaryIO

from PIL import Image, ImageOps

from .apply import apply_in_strips
from .delivered import Blocks, decoded_after, jpeg_after, predict
from .files import (
    ImageInfo,
    format_of,
    load,
    normalize,
    open_image,
    orientation,
    profile_fits,
    save_options,
)
from .metrics import Metrics, Sample
from .plan import SHARPEN_MAX, Caps, make_plan
from .rules import LITTLE, MAX_PIXELS, check_strength

# When the delivered file breaks a cap that the plan kept before encoding (JPEG's
# quantization noise adds detail, most of all to a soft photo), the job tries again
# with the offending aims lowered by what the encoding added; after TRIES tries that
# all break a cap, it delivers the original.
TRIES = 3
ENCODING_MARGIN = 0.99  # the lowered aims keep 1% below what the cap allows
# Sharpening that reaches less than this share of its aim on the predicted delivered
# tiles is searched again on them, with this many predictions.
SHORT = 0.5
SHARPEN_PROBES = 3


def enhance_file(
    src: BinaryIO, dst: BinaryIO, strength: float, max_pixels: int = MAX_PIXELS, *,
    threads: int = 1,
) -> tuple[ImageInfo, dict]:
    """Enhance the image in src and write it to dst in the same format.

    The result is upright (EXIF orientation applied and removed from its EXIF),
    keeps the ICC profile, other EXIF, DPI and alpha; JPEG is written at quality 90,
    WebP lossless if the original was, else at quality 90.  Awkward modes are
    converted first: palette -> RGB(A), 16-bit grey -> 8-bit grey (scaled, not
    clipped), CMYK -> RGB (so a CMYK JPEG comes back as an RGB JPEG).  When nothing is
    to change (strength 0, or a photo that needs nothing) and nothing to rotate, the
    original bytes are copied unchanged.  dst must be readable and seekable (w+b):
    the "after" metrics are measured on what was written there (delivered.py).
    threads: how many threads apply the plan (the caller owns the CPU budget).

    Returns (info of the output, metrics): metrics["before"] and ["after"] hold the
    five measures of the original and of the delivered file, metrics["needed"] how
    far each of contrast, colorfulness and sharpness stood below the norm (summary.py
    turns them into sentences).  Raises ImageError for bad input, ValueError for a
    strength outside [0, MAX_STRENGTH].
    """
    s = check_strength(strength)
    start = dst.tell()
    upright, limits = True, None
    for _ in range(TRIES):
        # (Never image.close(): Pillow would close src, which belongs to the caller.)
        image = open_image(src, max_pixels)
        load(image)
        fmt = format_of(image)
        upright = orientation(image) == 1
        ImageOps.exif_transpose(image, in_place=True)  # also drops the orientation tag
        options = save_options(image, fmt, src)
        work = normalize(image)
        del image  # if normalizing made a copy, the decoded original is freed here
        blocks = Blocks.of(work) if fmt == "JPEG" else None
        plan, before, planned, needs, limits = _plan(work, s, limits, blocks, options)
        report = {"before": before.rounded(), "needed": needs.rounded()}
        if plan.is_identity and upright:
            break  # nothing to change: the original bytes, below
        if "icc_profile" in options and not profile_fits(options["icc_profile"], work.mode):
            del options["icc_profile"]  # e.g. a CMYK profile on what is now RGB
        if not plan.is_identity:
            apply_in_strips(work, plan, threads)
        dst.seek(start)
        dst.truncate()
        work.save(dst, fmt, **options)
        after = _after(dst, start, work, fmt, options, blocks)
        size = work.size
        del work
        if Caps.of(before, s).allow(after) or not upright:
            # (A rotated photo has no original to fall back on: it is delivered as is.)
            return ImageInfo(fmt, *size), {**report, "after": after.rounded()}
        limits = lowered_limits(before, planned, after, s, limits)
    # Nothing to change, or no try kept the caps on the delivered file: the original.
    dst.seek(start)
    dst.truncate()
    src.seek(0)
    shutil.copyfileobj(src, dst)
    image = open_image(src, max_pixels)
    return ImageInfo(format_of(image), *image.size), {**report, "after": report["before"]}


def _plan(work: Image.Image, s: float, limits, blocks: Blocks | None, options: dict):
    """The plan, with the sample's metrics before and after it, the needs and the limits
    it was made under.  For a large JPEG the delivered tiles are predicted first and
    the aims lowered until they keep the caps there too."""
    sample = Sample.of(work)
    plan, before, planned, needs = make_plan(sample, s, limits)
    if blocks is None:
        return plan, before, planned, needs, limits
    for _ in range(TRIES + 1):
        if plan.is_identity:
            break
        predicted = predict(blocks, work, plan, options["quality"])
        if not Caps.of(before, s).allow(predicted):
            limits = lowered_limits(before, planned, predicted, s, limits)
            plan, before, planned, needs = make_plan(sample, s, limits)
        elif plan.sharpen and predicted.sharpness < before.sharpness * (1 + LITTLE):
            # The encoder's quantization takes the sharpening away (a very smooth photo):
            # a full-resolution pass for nothing, so it is left out.
            plan = replace(plan, sharpen=0.0)
        else:
            plan = _sharpen_through_jpeg(blocks, work, plan, before, predicted, needs, s,
                                         limits, options["quality"])
            break
    return plan, before, planned, needs, limits


def _sharpen_through_jpeg(blocks, work, plan, before, predicted, needs, s, limits, quality):
    """The encoder's quantization takes much of a light sharpening away (grain at
    quality 90: +29% on the sample, +3.6% delivered) and lets a stronger one through
    steeply; when less than SHORT of the detail aim survives, a few predictions of
    the delivered tiles (bisection on the amount, up to twice the plan's) find the
    amount that reaches it."""
    aim = min(needs.sharpness, s, *(limits[2:] if limits else ())) * ENCODING_MARGIN
    caps = Caps.of(before, s)
    if not plan.sharpen or before.sharpness <= 0:
        return plan
    if predicted.sharpness >= before.sharpness * (1 + SHORT * aim):
        return plan
    best, lo, hi = plan, plan.sharpen, min(SHARPEN_MAX, 2 * plan.sharpen)
    for _ in range(SHARPEN_PROBES):
        candidate = replace(plan, sharpen=(lo + hi) / 2)
        after = predict(blocks, work, candidate, quality)
        if caps.allow(after) and after.sharpness <= before.sharpness * (1 + aim):
            best, lo = candidate, candidate.sharpen
        else:
            hi = candidate.sharpen
    return best


def _after(dst: BinaryIO, start: int, written: Image.Image, fmt: str, options: dict,
           blocks: Blocks | None) -> Metrics:
    """The metrics of the file just written to dst (see delivered.py)."""
    if blocks is not None:
        return jpeg_after(blocks, written, options["quality"])
    if fmt == "PNG" or options.get("lossless"):
        return Sample.of(written).metrics()  # lossless: the very pixels written
    dst.seek(start)
    metrics = decoded_after(dst.read())
    dst.seek(0, io.SEEK_END)
    return metrics


def lowered_limits(before: Metrics, planned: Metrics, after: Metrics, s: float,
                   limits: tuple[float, ...] | None) -> tuple[float, float, float]:
    """The aims for the next try: each gain whose cap the delivered file broke is
    lowered by the factor the encoding added to it (delivered over planned); broken
    brightness or clipping halves the tone step's gain."""
    caps = Caps.of(before, s).bounds
    new = list(limits) if limits is not None else [s, s, s]
    for i in range(3):
        if after[i] > caps[i] and before[i] > 1e-9 and planned[i] > 1e-9:
            added = after[i] / planned[i]
            new[i] = min(new[i], (1 + s) * ENCODING_MARGIN / added - 1)
    if (after.brightness > caps.brightness or after.clipped > caps.clipped) and before[0] > 1e-9:
        new[0] = min(new[0], (planned[0] / before[0] - 1) / 2)
    return new[0], new[1], new[2]


def enhance(image: Image.Image, strength: float, *, threads: int = 1) -> Image.Image:
    """Return an enhanced copy of image (L, LA, RGB or RGBA; other modes are converted).

    Pixels only, before any encoding: EXIF orientation and the checks on the delivered
    file are enhance_file's job.  Strength 0 returns an identical copy.
    """
    s = check_strength(strength)
    out = normalize(image)
    if out is image:
        out = image.copy()
    if s > 0:
        plan, _, _, _ = make_plan(Sample.of(out), s)
        if not plan.is_identity:
            apply_in_strips(out, plan, threads)
    return out


def needs(image: Image.Image) -> dict:
    """How far contrast, colorfulness and sharpness of image stand below the norm."""
    return make_plan(Sample.of(normalize(image)), 0)[3].rounded()


def measure(image: Image.Image, *, exact: bool = False) -> dict:
    """The five metrics of image, rounded to 4 decimals.

    Large images are measured on a fixed grid of full-resolution tiles (so before
    and after are comparable); exact=True measures every pixel instead.
    """
    return Sample.of(normalize(image), exact=exact).metrics().rounded()
