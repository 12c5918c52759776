"""CloudPic's image pipeline: validate an upload, enhance it by up to 30 %, encode it.

Pure code: Pillow and numpy only (no Django, no boto3), so the web app, the worker,
the tests and the benchmark all call the same functions.

What "enhance by strength s" means (s in [0, MAX_STRENGTH]); every figure is measured
on the RGB (or grey) pixels, alpha ignored:

* contrast     -- RMS contrast of luma: std(Y) / 255, Y = 0.299 R + 0.587 G + 0.114 B;
* colorfulness -- Hasler & Suesstrunk: sqrt(sd(rg)^2 + sd(yb)^2) + 0.3 sqrt(mean(rg)^2 + mean(yb)^2)
                  with rg = R - G, yb = (R + G) / 2 - B, on 0-255 values;
* sharpness    -- "detail": RMS of the 4-neighbour Laplacian of Y divided by std(Y),
                  so that a plain contrast stretch does not count as sharpening;
* brightness   -- mean(Y) / 255;
* clipped      -- share (0-1) of the RGB samples that are exactly 0 or 255.

Each of contrast, colorfulness and sharpness may rise by a factor of at most 1 + s,
brightness by at most s / 6, and the clipped share by at most 2 percentage points;
s = 0 leaves the pixels untouched.  The plan also keeps colorfulness and sharpness
from falling (a stretch can press detail into black), up to the rounding of already
clipped samples.  Separate ImageEnhance factors compound and clip, so the pipeline
*plans* three small steps on a pixel sample, then applies them at full resolution
with Pillow's C code:

1. a tone curve -- partial autocontrast and a soft S-curve around the mean, one
   lookup table applied to each band (it raises contrast, and colour too, which the
   next step counts);
2. a luma-preserving saturation matrix (raises colorfulness only);
3. unsharp masking of luma with a 3x3 binomial blur, the same detail added to every
   band (raises sharpness, and contrast a little, which step 1 leaves room for).

The plan is solved in closed form where the maths allows (histogram moments for the
tone curve, exact scaling for saturation, quadratic forms for the sharpening), then
checked by running the real pipeline on the sample, and shrunk if a bound is missed.

The sample is the whole image when it is small, else an even grid of 2048 small
full-resolution tiles, so that the 3x3 operations and the Laplacian see the same
pixels there as in the full image.  ``measure`` uses the same sample, so before and
after figures are comparable, and a plan's "after" figures are its output's.

Full resolution is processed in place, in strips of rows on a few threads (Pillow
releases the GIL), so a job holds the decoded image plus a few strips: well under
two decoded copies.
"""

from __future__ import annotations

import dataclasses
import io
import math
import os
import shutil
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import BinaryIO, NamedTuple

import numpy as np
from PIL import (
    ExifTags,
    Image,
    ImageChops,
    ImageCms,
    ImageFilter,
    ImageOps,
    UnidentifiedImageError,
)

ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP")
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
MAX_PIXELS = 50_000_000
MAX_STRENGTH = 0.30

JPEG_QUALITY = 90
WEBP_QUALITY = 90
CLIP_RISE_LIMIT = 0.02  # at most 2 percentage points more clipped samples
METRIC_KEYS = ("contrast", "colorfulness", "sharpness", "brightness", "clipped")

# Rec. 601 luma, the weights Pillow's own RGB -> L conversion uses.
_LUMA = np.array([0.299, 0.587, 0.114])

# Sampling: images up to _EXACT_LIMIT pixels are measured whole; larger ones on an
# even grid of _TILES tiles of _TILE x _TILE pixels.  The outer _MARGIN pixels of a
# tile only feed the 3x3 blur and the Laplacian of the inner 4 x 4, which are exact
# there.  Many small tiles rather than a few big ones: sparse features (stars on a
# night sky) can dominate colourfulness, and only an even spread sees them fairly.
_EXACT_LIMIT = 400_000
_TILES = 2048
_TILE = 8
_MARGIN = 2

# Planning head-room: the plan aims a little under each bound, more so when it only
# sees a sample, so that the bound holds on the full image too.
# Values are (share of s for the gains, clipping budget, share of s / 6 for the lift),
# keyed by "the sample is the whole image".
_AIM = {True: (0.995, 0.019, 0.98), False: (0.97, 0.015, 0.9)}
# ... and the real pipeline, run on the sample, must then meet these.
_CHECK = {True: (1.0, CLIP_RISE_LIMIT, 1.0), False: (0.985, 0.017, 0.95)}

_S_CURVE_MAX = 0.8  # S-curve slope at the pivot for t = 1 is 1.8 (at the ends 0.2)
_SATURATION_MAX = 2.0
_SHARPEN_MAX = 2.5
_STRIP_PIXELS = 1 << 18  # full-resolution work is done in strips of about this size
_NEGLIGIBLE = 1e-3  # saturation or sharpening amounts below this are skipped


class ImageError(ValueError):
    """The upload is not an image we accept; str(error) is a message for the user."""


@dataclass(frozen=True)
class ImageInfo:
    format: str  # "JPEG" / "PNG" / "WEBP"
    width: int  # upright, i.e. after applying the EXIF orientation
    height: int

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.format]


# --------------------------------------------------------------------------- upload


def inspect(fp: BinaryIO, max_pixels: int = MAX_PIXELS) -> ImageInfo:
    """Validate an upload by its content and return its format and upright size.

    The pixel count is checked from the header before anything is decoded; then the
    whole image is decoded once, so a truncated file is refused here rather than in
    the worker.  Raises ImageError with a readable message.  Rewinds fp.
    """
    try:
        image = _open(fp, max_pixels)
        with image:  # (closes only files Pillow opened itself, never fp)
            _load(image)
            width, height = _upright_size(image)
            return ImageInfo(_format_of(image), width, height)
    finally:
        fp.seek(0)


def _open(fp: BinaryIO, max_pixels: int) -> Image.Image:
    fp.seek(0)
    head = fp.read(64)
    fp.seek(0)
    if not head:
        raise ImageError("The file is empty.")
    try:
        with warnings.catch_warnings():
            # Pillow warns about (and above twice its limit refuses) huge headers;
            # our own limit is lower and is checked just below.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(fp, formats=ALLOWED_FORMATS)
    except Image.DecompressionBombError:
        raise ImageError(_too_big_message(None, max_pixels)) from None
    except UnidentifiedImageError:
        raise ImageError(_unsupported_message(head)) from None
    except MemoryError:
        raise
    except Exception:  # any parser error on untrusted bytes means a bad file
        raise ImageError("The image file is damaged or truncated; it cannot be read.") from None
    width, height = image.size
    if width * height > max_pixels:
        raise ImageError(_too_big_message((width, height), max_pixels))
    # MPO (a JPEG with extra pictures, e.g. a phone's HDR gain map) is a JPEG whose
    # first frame is the photo; only PNG and WebP can be animations.
    if image.format in ("PNG", "WEBP") and getattr(image, "is_animated", False):
        raise ImageError(
            "Animated images are not supported; upload a still JPEG, PNG or WebP image."
        )
    return image


def _load(image: Image.Image) -> None:
    try:
        image.load()
    except MemoryError:
        raise
    except Exception:
        raise ImageError(
            "The image data is truncated or damaged, so it cannot be decoded."
        ) from None


def _too_big_message(size: tuple[int, int] | None, max_pixels: int) -> str:
    limit = f"the limit is {max_pixels / 1e6:g} megapixels"
    if size is None:
        return f"The image has far too many pixels; {limit}."
    width, height = size
    return f"The image is {width} x {height} = {width * height / 1e6:.1f} megapixels; {limit}."


def _unsupported_message(head: bytes) -> str:
    accepted = "please upload a JPEG, PNG or WebP image"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return f"GIF images (animated or not) are not accepted; {accepted}."
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"<"):
        return f"This file is markup (SVG, HTML or XML), not a photo; {accepted}."
    if b"\0" not in head:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            return f"This file is text, not an image; {accepted}."
    return f"This file is not a JPEG, PNG or WebP image (its content was checked); {accepted}."


def _format_of(image: Image.Image) -> str:
    return "JPEG" if image.format == "MPO" else image.format


def _orientation(image: Image.Image) -> int:
    return image.getexif().get(ExifTags.Base.Orientation, 1)


def _upright_size(image: Image.Image) -> tuple[int, int]:
    width, height = image.size
    return (height, width) if _orientation(image) in (5, 6, 7, 8) else (width, height)


# ------------------------------------------------------------------------ the job


def enhance_file(
    src: BinaryIO, dst: BinaryIO, strength: float, max_pixels: int = MAX_PIXELS
) -> tuple[ImageInfo, dict]:
    """Enhance the image in src and write it to dst in the same format.

    The result is upright (EXIF orientation applied and removed from its EXIF),
    keeps the ICC profile, other EXIF, DPI and alpha; JPEG is written at quality 90,
    WebP lossless if the original was, else at quality 90.  Awkward modes are
    converted first: palette -> RGB(A), 16-bit grey -> 8-bit grey (scaled, not
    clipped), CMYK -> RGB (so a CMYK JPEG comes back as an RGB JPEG).  With
    strength 0 and nothing to rotate, the original bytes are copied unchanged.

    Returns (info of the output, {"before": metrics, "after": metrics}).  Raises
    ImageError for bad input, ValueError for a strength outside [0, MAX_STRENGTH].
    """
    s = _check_strength(strength)
    # (Never image.close(): Pillow would close src, which belongs to the caller.)
    image = _open(src, max_pixels)
    _load(image)
    fmt = _format_of(image)
    if s == 0 and _orientation(image) == 1:
        # Nothing to change: hand back the original bytes, not a re-encoded copy.
        before = measure(image)
        src.seek(0)
        shutil.copyfileobj(src, dst)
        return ImageInfo(fmt, *image.size), {"before": before, "after": dict(before)}
    ImageOps.exif_transpose(image, in_place=True)  # also drops the orientation tag
    options = _save_options(image, fmt, src)
    work = _normalize(image)
    del image  # if normalizing made a copy, the decoded original is freed here
    if "icc_profile" in options and not _profile_fits(options["icc_profile"], work.mode):
        del options["icc_profile"]  # e.g. a CMYK profile on what is now RGB
    before, after = _enhance_in_place(work, s)
    work.save(dst, fmt, **options)
    return ImageInfo(fmt, *work.size), {"before": before.rounded(), "after": after.rounded()}


def _check_strength(strength: float) -> float:
    try:
        s = float(strength)
    except (TypeError, ValueError):
        raise ValueError(f"strength must be a number, not {strength!r}") from None
    if not 0 <= s <= MAX_STRENGTH + 1e-9:  # also refuses NaN
        raise ValueError(f"strength must be between 0 and {MAX_STRENGTH}, not {strength!r}")
    return min(s, MAX_STRENGTH)


def _save_options(image: Image.Image, fmt: str, src: BinaryIO) -> dict:
    options: dict = {}
    exif = image.getexif()
    exif.pop(ExifTags.Base.Orientation, None)  # the pixels will be upright
    if len(exif):
        data = exif.tobytes()
        if len(data) < 65_000:  # a JPEG APP1 segment cannot hold more
            options["exif"] = data
    if image.info.get("icc_profile"):
        options["icc_profile"] = image.info["icc_profile"]
    if fmt in ("JPEG", "PNG") and image.info.get("dpi"):
        options["dpi"] = image.info["dpi"]
    if fmt == "JPEG":
        options["quality"] = JPEG_QUALITY
    elif fmt == "WEBP":
        if _webp_is_lossless(src):
            options["lossless"] = True
        else:
            options["quality"] = WEBP_QUALITY
    return options


def _profile_fits(profile: bytes, mode: str) -> bool:
    # Bytes 16-19 of an ICC profile name its colour space.
    space = profile[16:20]
    return space == (b"GRAY" if mode in ("L", "LA") else b"RGB ")


def _webp_is_lossless(fp: BinaryIO) -> bool:
    """True when the WebP's image chunk is VP8L (lossless) rather than VP8 (lossy)."""
    fp.seek(12)
    while True:
        header = fp.read(8)
        if len(header) < 8:
            return False
        kind, size = header[:4], int.from_bytes(header[4:], "little")
        if kind in (b"VP8L", b"VP8 "):
            return kind == b"VP8L"
        if kind == b"ALPH":  # alpha beside a VP8 bitstream: lossy
            return False
        fp.seek(size + (size & 1), io.SEEK_CUR)


def _normalize(image: Image.Image) -> Image.Image:
    """Return image in L, LA, RGB or RGBA (image itself when it already is one)."""
    mode = image.mode
    if mode in ("L", "RGB") and "transparency" in image.info:
        return image.convert(mode[0] + "A" if mode == "L" else "RGBA")
    if mode in ("L", "LA", "RGB", "RGBA"):
        return image
    if mode.startswith("I"):  # 16-bit grey PNG ("I;16", or "I" from older Pillow)
        return _sixteen_bit_to_l(image)
    if mode == "CMYK":
        return _cmyk_to_rgb(image)
    if mode == "1":
        return image.convert("L")
    if mode == "La":
        return image.convert("LA")
    return image.convert("RGBA" if image.has_transparency_data else "RGB")


def _sixteen_bit_to_l(image: Image.Image) -> Image.Image:
    # Pillow's own I;16 -> L conversion clips at 255, which turns photos white;
    # scale 0..65535 to 0..255 instead, a band of rows at a time to bound memory.
    values = np.asarray(image)
    out = np.empty(values.shape, np.uint8)
    for top in range(0, values.shape[0], 512):
        rows = np.clip(values[top : top + 512], 0, 65535).astype(np.uint32)
        out[top : top + 512] = (rows * 255 + 32767) // 65535
    return Image.fromarray(out, "L")


def _cmyk_to_rgb(image: Image.Image) -> Image.Image:
    # With an embedded CMYK profile, let littlecms convert to sRGB (the result is then
    # written without a profile, which viewers read as sRGB); otherwise Pillow's
    # conversion, which already undoes the inverted CMYK that Adobe apps write.
    profile = image.info.get("icc_profile")
    if profile and profile[16:20] == b"CMYK":
        try:
            cmyk = ImageCms.ImageCmsProfile(io.BytesIO(profile))
            srgb = ImageCms.createProfile("sRGB")
            return ImageCms.profileToProfile(image, cmyk, srgb, outputMode="RGB")
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass
    return image.convert("RGB")


# ----------------------------------------------------------------- in-memory steps


def enhance(image: Image.Image, strength: float) -> Image.Image:
    """Return an enhanced copy of image (L, LA, RGB or RGBA; other modes are converted).

    Pixels only: EXIF orientation is enhance_file's job.  Strength 0 returns an
    identical copy.
    """
    s = _check_strength(strength)
    out = _normalize(image)
    if out is image:
        out = image.copy()
    if s > 0:
        _enhance_in_place(out, s)
    return out


def measure(image: Image.Image, *, exact: bool = False) -> dict:
    """The five metrics of image, rounded to 4 decimals.

    Large images are measured on a fixed grid of full-resolution tiles (so before
    and after are comparable); exact=True measures every pixel instead.
    """
    sample = _Sample.of(_normalize(image), exact=exact)
    return _metrics(sample.array(), sample.margin).rounded()


def _enhance_in_place(image: Image.Image, s: float) -> tuple[_Metrics, _Metrics]:
    sample = _Sample.of(image)
    plan, before, after = _plan(sample, s)
    if not plan.is_identity:
        _apply_in_strips(image, plan)
    return before, after


# ------------------------------------------------------------------------ metrics


class _Metrics(NamedTuple):
    contrast: float
    colorfulness: float
    sharpness: float
    brightness: float
    clipped: float

    def rounded(self) -> dict:
        return {key: round(float(value), 4) for key, value in zip(METRIC_KEYS, self, strict=True)}


def _luma(a: np.ndarray) -> np.ndarray:
    """Float32 luma of a (..., C) uint8 array (C = 1 or 3)."""
    if a.shape[-1] == 1:
        return a[..., 0].astype(np.float32)
    # (A matrix product on a flat float32 copy is several times faster than per band.)
    flat = a.reshape(-1, 3).astype(np.float32) @ _LUMA.astype(np.float32)
    return flat.reshape(a.shape[:-1])


def _core(a: np.ndarray, m: int) -> np.ndarray:
    """The measured pixels of a (A, H, B, W, ...) stack: all, or the tile centres."""
    return a if m == 0 else a[:, m:-m, :, m:-m]


def _laplacian(y: np.ndarray, m: int) -> np.ndarray:
    """4-neighbour Laplacian of y (A, H, B, W) on the measured pixels that have all
    four neighbours (all tile centres; the whole image but its outer ring)."""
    r = max(m, 1)
    h, w = y.shape[1], y.shape[3]
    return (
        y[:, r - 1 : h - r - 1, :, r : w - r]
        + y[:, r + 1 : h - r + 1, :, r : w - r]
        + y[:, r : h - r, :, r - 1 : w - r - 1]
        + y[:, r : h - r, :, r + 1 : w - r + 1]
        - 4 * y[:, r : h - r, :, r : w - r]
    )


def _metrics(a: np.ndarray, m: int) -> _Metrics:
    """Metrics of a uint8 stack a (A, H, B, W, C) whose measured pixels are _core(a, m)."""
    y = _luma(a)
    core_y = _core(y, m)
    std = float(core_y.std(dtype=np.float64))
    lap = _laplacian(y, m)
    energy = float(np.mean(np.square(lap), dtype=np.float64)) if lap.size else 0.0
    detail = math.sqrt(energy) / std if std > 1e-6 else 0.0
    core = _core(a, m)
    clipped = _metrics_clipped(core)
    colorfulness = _colorfulness(core) if a.shape[-1] == 3 else 0.0
    return _Metrics(std / 255, colorfulness, detail, float(core_y.mean(dtype=np.float64)) / 255,
                    clipped)


def _colorfulness(core: np.ndarray) -> float:
    r, g, b = (core[..., c].astype(np.float32) for c in range(3))
    rg = r - g
    yb = np.float32(0.5) * (r + g) - b
    return _hasler(
        float(rg.mean(dtype=np.float64)), float(rg.var(dtype=np.float64)),
        float(yb.mean(dtype=np.float64)), float(yb.var(dtype=np.float64)),
    )


def _hasler(mean_rg: float, var_rg: float, mean_yb: float, var_yb: float) -> float:
    spread = math.sqrt(max(var_rg, 0) + max(var_yb, 0))
    return spread + 0.3 * math.sqrt(mean_rg * mean_rg + mean_yb * mean_yb)


# ------------------------------------------------------------------------- sample


@dataclass
class _Sample:
    """The pixels a plan is made from, as a Pillow image in L or RGB mode: either the
    whole image (margin 0) or a mosaic of ny rows of nx tiles (margin _MARGIN)."""

    image: Image.Image
    ny: int
    nx: int
    margin: int

    @property
    def exact(self) -> bool:
        return self.margin == 0

    @classmethod
    def of(cls, image: Image.Image, exact: bool = False) -> _Sample:
        base_mode = "L" if image.mode in ("L", "LA") else "RGB"
        width, height = image.size
        if exact or width * height <= _EXACT_LIMIT or min(width, height) < _TILE:
            whole = image if image.mode == base_mode else image.convert(base_mode)
            return cls(whole, 1, 1, 0)
        # Tiles on a regular grid, tile (i, j) at (left + i * sx, top + j * sy).  One
        # nearest-neighbour affine transform per offset within a tile picks that pixel
        # of every tile: _TILE ** 2 calls instead of one crop per tile.
        nx = min(max(round(math.sqrt(_TILES * width / height)), 1), width - _TILE + 1)
        ny = min(max(round(_TILES / nx), 1), height - _TILE + 1)
        sx, sy = (width - _TILE) // max(nx - 1, 1), (height - _TILE) // max(ny - 1, 1)
        left = (width - _TILE - sx * (nx - 1)) // 2
        top = (height - _TILE - sy * (ny - 1)) // 2
        bands = []
        for dy in range(_TILE):
            for dx in range(_TILE):
                # Output pixel (i, j) reads input (sx (i + 1/2) + c, ...), rounded down.
                shift = (sx, 0, left + dx - sx / 2 + 0.5, 0, sy, top + dy - sy / 2 + 0.5)
                grid = image.transform((nx, ny), Image.Transform.AFFINE, shift,
                                       Image.Resampling.NEAREST)
                bands.append(np.asarray(grid.convert(base_mode) if grid.mode != base_mode
                                        else grid))
        tiles = np.stack(bands).reshape(_TILE, _TILE, ny, nx, -1).transpose(2, 0, 3, 1, 4)
        mosaic = np.ascontiguousarray(tiles).reshape(ny * _TILE, nx * _TILE, -1)
        return cls(Image.fromarray(mosaic.squeeze(-1) if base_mode == "L" else mosaic), ny, nx,
                   _MARGIN)

    def array(self, image: Image.Image | None = None) -> np.ndarray:
        """image (default: the sample itself) as a (A, H, B, W, C) uint8 stack."""
        a = np.asarray(self.image if image is None else image)
        if a.ndim == 2:
            a = a[..., None]
        h, w = a.shape[0] // self.ny, a.shape[1] // self.nx
        return a.reshape(self.ny, h, self.nx, w, a.shape[-1])


# -------------------------------------------------------------------------- plan


@dataclass(frozen=True)
class _Plan:
    lut: tuple[int, ...] | None = None  # tone curve, 256 entries
    saturation: float = 1.0  # 1 = unchanged
    sharpen: float = 0.0  # unsharp amount, 0 = none

    @property
    def is_identity(self) -> bool:
        flat = self.lut is None or self.lut == _IDENTITY
        return flat and self.saturation == 1.0 and self.sharpen == 0.0


_IDENTITY = tuple(range(256))


@dataclass(frozen=True)
class _Limits:
    """Upper bounds for each metric."""

    contrast: float
    colorfulness: float
    sharpness: float
    brightness: float
    clipped: float

    @classmethod
    def of(cls, before: _Metrics, s: float, gain: float, clip: float, lift: float) -> _Limits:
        factor = 1 + s * gain
        return cls(
            before.contrast * factor,
            before.colorfulness * factor,
            before.sharpness * factor,
            before.brightness + s / 6 * lift,
            before.clipped + clip,
        )

    def missed(self, m: _Metrics) -> set[str]:
        bounds = dataclasses.astuple(self)
        return {key for key, bound, value in zip(METRIC_KEYS, bounds, m, strict=True)
                if value > bound + 1e-12}

    def allow(self, m: _Metrics) -> bool:
        return not self.missed(m)


# A step that overshoots a figure is shrunk when the real pipeline misses it.
_DRIVERS = {
    "contrast": ("tone", "sharpen"),
    "colorfulness": ("tone", "saturation"),
    "sharpness": ("sharpen",),
    "brightness": ("tone", "sharpen"),
    "clipped": ("tone", "saturation", "sharpen"),
}


def _plan(sample: _Sample, s: float) -> tuple[_Plan, _Metrics, _Metrics]:
    """Choose tone, saturation and sharpening for strength s; return the plan and the
    sample's metrics before and after it."""
    a = sample.array()
    m = sample.margin
    before = _metrics(a, m)
    if s <= 0:
        return _Plan(), before, before
    exact = sample.exact
    aim = _Limits.of(before, s, *_AIM[exact])

    tone = _ToneFit(a, m, before, aim, _sharpening_contrast_factor(sample, before, aim))
    t = tone.t
    k, b, kept = _fit_steps(sample, tone, t, aim, before)
    if not kept and t > 0:
        # The curve presses more detail or colour into black and white than the
        # other steps can give back: use less of it, so nothing ends up lower.
        low, high, best = 0.0, t, None
        for _ in range(4):
            mid = (low + high) / 2
            fit = _fit_steps(sample, tone, mid, aim, before)
            if fit[2]:
                low, best = mid, (mid, *fit[:2])
            else:
                high = mid
        t, k, b = best or (0.0, *_fit_steps(sample, tone, 0.0, aim, before)[:2])
    curve = tone.curve

    # Run the real pipeline on the sample: the fits above only approximate rounding
    # and clipping, so shrink whichever step drives a figure that is missed.
    check = _Limits.of(before, s, *_CHECK[exact])
    amounts = {"tone": t, "saturation": k - 1, "sharpen": b}
    for _ in range(10):
        plan = _Plan(curve.lut(amounts["tone"]), 1 + amounts["saturation"], amounts["sharpen"])
        if plan.is_identity:
            break
        after = _metrics(sample.array(_apply(sample.image, plan)), m)
        missed = check.missed(after)
        if not missed:
            return plan, before, after
        drivers = {step for key in missed for step in _DRIVERS[key]
                   if amounts[step] > _NEGLIGIBLE}
        for step in drivers or amounts:  # (nothing obvious left: shrink everything)
            amounts[step] *= 0.7
    return _Plan(), before, before


@dataclass(frozen=True)
class _ToneCurve:
    """Tone curves: t = 0 is the identity, t = 1 a full autocontrast (black and white
    points at the 0.5 % / 99.5 % quantiles) followed by the strongest S-curve."""

    lo: float
    hi: float
    mean: float  # mean luma of the original: the S-curve's pivot

    def lut(self, t: float) -> tuple[int, ...]:
        v = np.arange(256, dtype=np.float64)
        black, white = t * self.lo, 255 - t * (255 - self.hi)
        u = np.clip((v - black) / (white - black), 0, 1)
        p = min(max((self.mean - black) / (white - black), 0.25), 0.75)
        k = t * _S_CURVE_MAX
        low = u < p
        z = np.where(low, u / p, (u - p) / (1 - p))
        # Quadratic halves meeting at the pivot with slope 1 + k (slope 1 - k at the ends).
        curve = np.where(low, p * (z - k * z * (1 - z)), p + (1 - p) * (z + k * z * (1 - z)))
        out = np.rint(curve * 255)
        # Only the autocontrast may clip: the S-curve's flat ends must not round a
        # dark or light value to pure black or white.
        out = np.where((u > 0) & (u < 1), np.clip(out, 1, 254), out)
        return tuple(out.astype(np.int64).tolist())


class _ToneFit:
    """The strongest tone curve within the aims, solved on histograms (exact for a
    per-band lookup table): it leaves contrast room for the sharpening and uses at
    most half the clipping budget."""

    def __init__(self, a: np.ndarray, m: int, before: _Metrics, aim: _Limits,
                 reserve: float):
        self.moments = _Moments(_core(a, m))
        lo, hi = self.moments.quantiles(0.005, 0.995)
        if hi - lo < 2:  # (nearly) flat: nothing to stretch
            lo, hi = 0.0, 255.0
        self.curve = _ToneCurve(lo, hi, before.brightness * 255)
        self.sharpness = before.sharpness
        limits = _Limits(
            aim.contrast / reserve,
            aim.colorfulness,
            math.inf,
            aim.brightness,
            before.clipped + (aim.clipped - before.clipped) / 2,
        )
        self.t = _largest(lambda t: limits.allow(self.after(t)), 1.0, steps=12)

    def after(self, t: float) -> _Metrics:
        """Point metrics after the curve for t (sharpness left as it was)."""
        return self.moments.metrics(np.asarray(self.curve.lut(t), np.float64), self.sharpness)


def _fit_steps(sample: _Sample, tone: _ToneFit, t: float, aim: _Limits,
               before: _Metrics) -> tuple[float, float, bool]:
    """Saturation and sharpening after the tone curve for t, and whether the three
    steps are expected to keep colorfulness and sharpness at least where they were."""
    toned = _apply(sample.image, _Plan(tone.curve.lut(t)))
    k = _fit_saturation(sample.array(toned), sample.margin, tone.after(t), aim, before)
    b, colorfulness, sharpness = _fit_sharpening(sample, toned, k, aim, before)
    kept = sharpness >= before.sharpness and colorfulness >= before.colorfulness * 0.999
    return k, b, kept


class _Moments:
    """Histograms of a uint8 sample, from which the point metrics after any per-band
    lookup table follow exactly: means, second moments and cross moments."""

    def __init__(self, core: np.ndarray):
        bands = core.reshape(-1, core.shape[-1])
        self.n = bands.shape[0]
        self.hist = [np.bincount(bands[:, c], minlength=256) for c in range(bands.shape[1])]
        self.joint = {}
        if bands.shape[1] == 3:
            wide = bands.astype(np.int32)
            for c, d in ((0, 1), (0, 2), (1, 2)):
                pair = np.bincount(wide[:, c] * 256 + wide[:, d], minlength=65536)
                self.joint[c, d] = pair.reshape(256, 256).astype(np.float64)

    def quantiles(self, low: float, high: float) -> tuple[float, float]:
        cdf = np.cumsum(sum(self.hist)) / (self.n * len(self.hist))
        return float(np.searchsorted(cdf, low)), float(np.searchsorted(cdf, high))

    def metrics(self, lut: np.ndarray, sharpness: float) -> _Metrics:
        n, bands = self.n, len(self.hist)
        mean = [float(h @ lut) / n for h in self.hist]
        edge = (lut == 0) | (lut == 255)
        clipped = sum(float(h[edge].sum()) for h in self.hist) / (n * bands)
        second = np.empty((bands, bands))
        for c, h in enumerate(self.hist):
            second[c, c] = float(h @ (lut * lut)) / n
        for (c, d), joint in self.joint.items():
            second[c, d] = second[d, c] = float(lut @ joint @ lut) / n
        if bands == 1:
            var = second[0, 0] - mean[0] ** 2
            return _Metrics(math.sqrt(max(var, 0)) / 255, 0.0, sharpness, mean[0] / 255, clipped)
        w = _LUMA
        luma_mean = float(w @ mean)
        var = float(w @ second @ w) - luma_mean**2
        rg, yb = np.array([1.0, -1.0, 0.0]), np.array([0.5, 0.5, -1.0])
        rg_mean, yb_mean = float(rg @ mean), float(yb @ mean)
        colorfulness = _hasler(
            rg_mean, float(rg @ second @ rg) - rg_mean**2,
            yb_mean, float(yb @ second @ yb) - yb_mean**2,
        )
        return _Metrics(
            math.sqrt(max(var, 0)) / 255, colorfulness, sharpness, luma_mean / 255, clipped
        )


def _largest(ok, high: float, steps: int) -> float:
    """Largest x in [0, high] with ok(x), by bisection (0 is taken to be ok)."""
    if ok(high):
        return high
    lo, hi = 0.0, high
    for _ in range(steps):
        mid = (lo + hi) / 2
        if ok(mid):
            lo = mid
        else:
            hi = mid
    return lo


def _fit_saturation(toned: np.ndarray, m: int, after_tone: _Metrics, aim: _Limits,
                    before: _Metrics) -> float:
    """Saturation factor k: the matrix keeps luma and scales rg and yb by k, so
    colorfulness scales by k exactly -- until samples clip, which is counted."""
    if toned.shape[-1] != 3 or after_tone.colorfulness <= 1e-9:
        return 1.0
    k = min(aim.colorfulness / after_tone.colorfulness, _SATURATION_MAX)
    if k <= 1.0 + _NEGLIGIBLE:
        return 1.0
    # Sample c of a pixel with luma y becomes c + (k - 1) (c - y).
    core = _core(toned, m).reshape(-1, 3)
    c = core.astype(np.float32)
    budget = before.clipped + 0.75 * (aim.clipped - before.clipped) - after_tone.clipped
    extra = _clip_cap(c, c - _luma(core)[:, None], k - 1, int(budget * core.size))
    return 1.0 if extra <= _NEGLIGIBLE else 1.0 + extra


def _clip_cap(base: np.ndarray, slope: np.ndarray, amount: float, allowed: int) -> float:
    """Largest a <= amount for which at most `allowed` samples that are not clipped
    now (0 < base < 255) round to 0 or 255 as base + a * slope, i.e. leave
    [0.5, 254.5).  A sample that leaves never comes back as a grows."""
    if allowed < 0:
        return 0.0
    value = base + np.float32(amount) * slope
    leaving = ((value >= 254.5) | (value < 0.5)) & (base > 0) & (base < 255)
    if np.count_nonzero(leaving) <= allowed:
        return amount
    b, s = base[leaving], np.broadcast_to(slope, base.shape)[leaving]
    when = np.where(s > 0, (254.5 - b) / s, (0.5 - b) / s)
    return float(np.partition(when, allowed)[allowed]) * 0.999


def _detail(y: np.ndarray) -> np.ndarray:
    """y - blur(y), blur the 3x3 binomial, for a (A, H, B, W) float stack.  The outer
    ring is 0: the pipeline leaves image borders unsharpened (on a tile stack the
    ring is margin, never measured)."""
    h = np.zeros_like(y)
    v = 0.25 * y[:, :-2] + 0.5 * y[:, 1:-1] + 0.25 * y[:, 2:]
    blurred = 0.25 * v[..., :-2] + 0.5 * v[..., 1:-1] + 0.25 * v[..., 2:]
    h[:, 1:-1, :, 1:-1] = y[:, 1:-1, :, 1:-1] - blurred
    return h


def _detail_kernel(b: float) -> ImageFilter.Kernel:
    """3x3 kernel giving 128 + b (y - binomial(y)); Pillow rounds it to nearest."""
    weights = [-b * w / 16 for w in (1, 2, 1, 2, 4, 2, 1, 2, 1)]
    weights[4] += b
    return ImageFilter.Kernel((3, 3), weights, scale=1, offset=128)


class _Sharpening:
    """Luma y of an image after adding round(b h), h its detail: its contrast,
    sharpness and brightness for any amount b (clipping aside), rounded as the
    pipeline rounds."""

    def __init__(self, y: np.ndarray, h: np.ndarray, m: int):
        self.y, self.h, self.m = y, h, m
        self._forms = None

    def at(self, b: float) -> tuple[float, float, float]:
        y = self.y + np.floor(self.h * np.float32(b) + np.float32(0.5)) if b else self.y
        core = _core(y, self.m)
        std = float(core.std(dtype=np.float64))
        lap = _laplacian(y, self.m)
        energy = float(np.mean(np.square(lap), dtype=np.float64)) if lap.size else 0.0
        detail = math.sqrt(energy) / std if std > 1e-6 else 0.0
        return std / 255, detail, float(core.mean(dtype=np.float64)) / 255

    def within(self, b: float, aim: _Limits) -> bool:
        contrast, sharpness, brightness = self.at(b)
        return (contrast <= aim.contrast and sharpness <= aim.sharpness
                and brightness <= aim.brightness)

    def quadratic_guess(self, aim: _Limits) -> float:
        """Largest b within the aims ignoring rounding: contrast and detail energy of
        y + b h are quadratic in b, so no pass over the pixels is needed per b."""

        def ok(b: float) -> bool:
            contrast, sharpness, brightness = self.quadratic(b)
            return (contrast <= aim.contrast and sharpness <= aim.sharpness
                    and brightness <= aim.brightness)

        return _largest(ok, _SHARPEN_MAX, steps=12)

    def quadratic(self, b: float) -> tuple[float, float, float]:
        """(contrast, sharpness, brightness) of y + b h, rounding ignored."""
        if self._forms is None:
            self._forms = self._quadratic_forms()
        (v0, v1, v2), (l0, l1, l2), my, mh = self._forms
        std = math.sqrt(max(v0 + 2 * b * v1 + b * b * v2, 0.0))
        energy = max(l0 + 2 * b * l1 + b * b * l2, 0.0)
        detail = math.sqrt(energy) / std if std > 1e-6 else 0.0
        return std / 255, detail, (my + b * mh) / 255

    def _quadratic_forms(self):
        core_y, core_h = _core(self.y, self.m), _core(self.h, self.m)
        ly, lh = _laplacian(self.y, self.m), _laplacian(self.h, self.m)

        def mean(x: np.ndarray) -> float:
            return float(np.mean(x, dtype=np.float64)) if x.size else 0.0

        my, mh = mean(core_y), mean(core_h)
        dy, dh = core_y - np.float32(my), core_h - np.float32(mh)
        variance = (mean(dy * dy), mean(dy * dh), mean(dh * dh))
        energy = (mean(ly * ly), mean(ly * lh), mean(lh * lh))
        return variance, energy, my, mh


def _sharpening_contrast_factor(sample: _Sample, before: _Metrics, aim: _Limits) -> float:
    """How much the sharpening wanted for the detail aim would raise the original's
    contrast (>= 1): the room the tone curve should leave."""
    if before.contrast <= 1e-6 or before.sharpness <= 1e-6:
        return 1.0
    a = sample.array()
    if not sample.exact:
        a = a[::2]  # an estimate: every other row of tiles will do
    y = _luma(a)
    model = _Sharpening(y, _detail(y), sample.margin)
    b = model.quadratic_guess(_Limits(math.inf, math.inf, aim.sharpness, math.inf, math.inf))
    return max(model.quadratic(b)[0] / before.contrast, 1.0)


def _fit_sharpening(sample: _Sample, toned: Image.Image, k: float, aim: _Limits,
                    before: _Metrics) -> tuple[float, float, float]:
    """Unsharp amount b for luma detail added to every band after saturation k; and
    the colorfulness (which adding the same detail to every band leaves alone) and
    sharpness to expect."""
    m = sample.margin
    saturated = toned if k == 1.0 else Image.merge("RGB", _saturated_bands(toned, k))
    out = sample.array(saturated)
    colorfulness = _colorfulness(_core(out, m)) if out.shape[-1] == 3 else 0.0
    if before.sharpness <= 1e-6:
        return 0.0, colorfulness, before.sharpness
    model = _sharpening_model(sample, toned, out)
    # The rounding-free solution, then a short bisection below it on the exact
    # rounding (which adds detail of its own on very smooth images).
    b = model.quadratic_guess(aim)
    if b > 0 and not model.within(b, aim):
        b = _largest(lambda x: model.within(x, aim), b, steps=3)
    if b > _NEGLIGIBLE:
        core = _core(out, m)
        allowed = int((aim.clipped - _metrics_clipped(core)) * core.size)
        b = _clip_cap(core.astype(np.float32), _core(model.h, m)[..., None], b, allowed)
    if b <= _NEGLIGIBLE:
        b = 0.0
    return b, colorfulness, model.at(b)[1]


def _sharpening_model(sample: _Sample, image: Image.Image, out: np.ndarray) -> _Sharpening:
    """Model of adding the detail of image's luma to out (a stack)."""
    grey = sample.array(_grey(image))[..., 0].astype(np.float32)
    return _Sharpening(_luma(out), _detail(grey), sample.margin)


def _metrics_clipped(a: np.ndarray) -> float:
    return np.count_nonzero((a == 0) | (a == 255)) / max(a.size, 1)


def _saturated_bands(image: Image.Image, k: float) -> list[Image.Image]:
    """R, G and B of image with chroma scaled by k and Rec. 601 luma kept:
    c' = y + k (c - y).

    One RGB -> L matrix conversion per band rather than one RGB -> RGB conversion:
    Pillow runs the latter releasing and retaking the GIL on every row, so it crawls
    whenever another thread runs Python (as in a worker with several jobs).
    """
    bands = []
    for c in range(3):
        row = [float(w * (1 - k)) for w in _LUMA]
        row[c] += k
        bands.append(image.convert("L", (*row, 0.0)))
    return bands


# ----------------------------------------------------------- full-resolution apply


def _apply(region: Image.Image, plan: _Plan, above: Image.Image | None = None,
           below: Image.Image | None = None) -> Image.Image:
    """Run plan on an image in L, LA, RGB or RGBA mode and return a new image.

    When region is a strip of a larger image, above and below are the rows just
    outside it (after the tone curve, as luma): the sharpening's blur reads them.
    Intermediate images are dropped as soon as they are used, to keep the strips'
    share of memory small.
    """
    alpha = region.getchannel("A") if region.mode in ("LA", "RGBA") else None
    if alpha is not None:
        region = region.convert(region.mode[:-1])
    x = region.point(_band_lut(plan, region)) if plan.lut is not None else region
    del region
    detail = _detail_image(x, plan.sharpen, above, below) if plan.sharpen > 0 else None
    if x.mode == "L":
        out = x if detail is None else ImageChops.add(x, detail, 1, -128)
    elif plan.saturation != 1.0:
        # The same luma detail goes on every band: sharper, without colour fringes.
        bands = _saturated_bands(x, plan.saturation)
        del x
        if detail is not None:
            bands = [ImageChops.add(band, detail, 1, -128) for band in bands]
        out = Image.merge("RGB", bands)
    elif detail is not None:
        out = ImageChops.add(x, detail.convert("RGB"), 1, -128)
    else:
        out = x
    if alpha is not None:
        out.putalpha(alpha)
    return out


def _detail_image(x: Image.Image, b: float, above: Image.Image | None,
                  below: Image.Image | None) -> Image.Image:
    """128 + round(b (y - blur(y))) for the luma y of x: the unsharp mask's detail."""
    y = _grey(x)
    extended, offset = _with_rows(y, above, below)
    del y
    detail = extended.filter(_detail_kernel(b))
    del extended
    # Pillow's 3x3 filters copy the outermost pixels; make that "no detail" on the
    # image's own borders (rows beyond a strip are cropped off below).
    width, height = detail.size
    for box in ((0, 0, 1, height), (width - 1, 0, width, height)):
        detail.paste(128, box)
    if above is None:
        detail.paste(128, (0, 0, width, 1))
    if below is None:
        detail.paste(128, (0, height - 1, width, height))
    if (width, height) != x.size:
        detail = detail.crop((0, offset, width, offset + x.height))
    return detail


def _band_lut(plan: _Plan, image: Image.Image) -> list[int]:
    return list(plan.lut) * len(image.getbands())


def _grey(image: Image.Image) -> Image.Image:
    return image if image.mode == "L" else image.convert("L")


def _with_rows(y: Image.Image, above: Image.Image | None,
               below: Image.Image | None) -> tuple[Image.Image, int]:
    """y with the given rows stacked above and below it, and y's offset in that."""
    if above is None and below is None:
        return y, 0
    offset = int(above is not None)
    out = Image.new("L", (y.width, y.height + offset + int(below is not None)))
    if above is not None:
        out.paste(above, (0, 0))
    out.paste(y, (0, offset))
    if below is not None:
        out.paste(below, (0, offset + y.height))
    return out, offset


def _apply_in_strips(image: Image.Image, plan: _Plan) -> None:
    """Apply plan to image in place, a strip of rows at a time, on a few threads
    (Pillow releases the GIL), so that only a few strip-sized buffers exist at once."""
    width, height = image.size
    rows = max(8, _STRIP_PIXELS // width)
    strips = [(top, min(top + rows, height)) for top in range(0, height, rows)]
    # The sharpening reads one row beyond each strip: take those rows (toned, as
    # luma) before a neighbouring strip is written back over them -- all in one go.
    edges = {}
    if plan.sharpen > 0:
        ys = sorted({y for top, bottom in strips for y in (top - 1, bottom) if 0 <= y < height})
        rows = Image.new(image.mode, (width, max(len(ys), 1)))
        for i, y in enumerate(ys):
            rows.paste(image.crop((0, y, width, y + 1)), (0, i))
        if rows.mode in ("LA", "RGBA"):
            rows = rows.convert(rows.mode[:-1])
        if plan.lut is not None:
            rows = rows.point(_band_lut(plan, rows))
        rows = _grey(rows)
        edges = {y: rows.crop((0, i, width, i + 1)) for i, y in enumerate(ys)}

    def run(strip: tuple[int, int]) -> None:
        top, bottom = strip
        region = image.crop((0, top, width, bottom))
        image.paste(_apply(region, plan, edges.get(top - 1), edges.get(bottom)), (0, top))

    workers = min(_cpu_count(), 4, len(strips))
    with _reused_buffers():
        if workers <= 1:
            for strip in strips:
                run(strip)
            return
        with ThreadPoolExecutor(workers) as pool:
            for _ in pool.map(run, strips):
                pass


# Every operation on a strip allocates a new strip-sized image.  Freed, such buffers
# go back to the OS, and the next strip pays page faults to get them again (on 2
# cores that cost about as much as the sharpening).  While strips are processed,
# let Pillow's block allocator keep freed blocks for reuse (see PILLOW_BLOCKS_MAX);
# the last job to finish restores the setting, which frees the cached blocks.
_CACHED_BLOCKS = 16
_cache_lock = threading.Lock()
_cache_users = 0
_cache_saved = 0


@contextmanager
def _reused_buffers():
    global _cache_users, _cache_saved
    core = Image.core
    if not hasattr(core, "set_blocks_max"):
        yield
        return
    with _cache_lock:
        if _cache_users == 0:
            _cache_saved = core.get_blocks_max()
            core.set_blocks_max(max(_cache_saved, _CACHED_BLOCKS))
        _cache_users += 1
    try:
        yield
    finally:
        with _cache_lock:
            _cache_users -= 1
            if _cache_users == 0:
                core.set_blocks_max(_cache_saved)


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
