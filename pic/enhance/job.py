"""The job: enhance a file (or an image) and measure it; the package's public calls."""

from __future__ import annotations

import shutil
from typing import BinaryIO

from PIL import Image, ImageOps

from .apply import apply_in_strips
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
from .plan import make_plan
from .rules import MAX_PIXELS, check_strength


def enhance_file(
    src: BinaryIO, dst: BinaryIO, strength: float, max_pixels: int = MAX_PIXELS, *,
    threads: int = 1,
) -> tuple[ImageInfo, dict]:
    """Enhance the image in src and write it to dst in the same format.

    The result is upright (EXIF orientation applied and removed from its EXIF),
    keeps the ICC profile, other EXIF, DPI and alpha; JPEG is written at quality 90,
    WebP lossless if the original was, else at quality 90.  Awkward modes are
    converted first: palette -> RGB(A), 16-bit grey -> 8-bit grey (scaled, not
    clipped), CMYK -> RGB (so a CMYK JPEG comes back as an RGB JPEG).  With
    strength 0 and nothing to rotate, the original bytes are copied unchanged.
    threads: how many threads apply the plan (the caller owns the CPU budget).

    Returns (info of the output, {"before": metrics, "after": metrics}).  Raises
    ImageError for bad input, ValueError for a strength outside [0, MAX_STRENGTH].
    """
    s = check_strength(strength)
    # (Never image.close(): Pillow would close src, which belongs to the caller.)
    image = open_image(src, max_pixels)
    load(image)
    fmt = format_of(image)
    if s == 0 and orientation(image) == 1:
        # Nothing to change: hand back the original bytes, not a re-encoded copy.
        before = measure(image)
        src.seek(0)
        shutil.copyfileobj(src, dst)
        return ImageInfo(fmt, *image.size), {"before": before, "after": dict(before)}
    ImageOps.exif_transpose(image, in_place=True)  # also drops the orientation tag
    options = save_options(image, fmt, src)
    work = normalize(image)
    del image  # if normalizing made a copy, the decoded original is freed here
    if "icc_profile" in options and not profile_fits(options["icc_profile"], work.mode):
        del options["icc_profile"]  # e.g. a CMYK profile on what is now RGB
    before, after = _enhance_in_place(work, s, threads)
    work.save(dst, fmt, **options)
    return ImageInfo(fmt, *work.size), {"before": before.rounded(), "after": after.rounded()}


def enhance(image: Image.Image, strength: float, *, threads: int = 1) -> Image.Image:
    """Return an enhanced copy of image (L, LA, RGB or RGBA; other modes are converted).

    Pixels only: EXIF orientation is enhance_file's job.  Strength 0 returns an
    identical copy.
    """
    s = check_strength(strength)
    out = normalize(image)
    if out is image:
        out = image.copy()
    if s > 0:
        _enhance_in_place(out, s, threads)
    return out


def measure(image: Image.Image, *, exact: bool = False) -> dict:
    """The five metrics of image, rounded to 4 decimals.

    Large images are measured on a fixed grid of full-resolution tiles (so before
    and after are comparable); exact=True measures every pixel instead.
    """
    return Sample.of(normalize(image), exact=exact).metrics().rounded()


def _enhance_in_place(image: Image.Image, s: float, threads: int) -> tuple[Metrics, Metrics]:
    plan, before, after = make_plan(Sample.of(image), s)
    if not plan.is_identity:
        apply_in_strips(image, plan, threads)
    return before, after
