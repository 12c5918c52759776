"""Reading and writing photo files: the upload checks, save options that keep what the
original carried, and conversion of awkward modes to L, LA, RGB or RGBA."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
from PIL import ExifTags, Image, ImageCms, UnidentifiedImageError

from .rules import ALLOWED_FORMATS, EXTENSIONS, JPEG_QUALITY, MAX_PIXELS, WEBP_QUALITY

EXIF_LIMIT = 65_000  # a JPEG APP1 segment holds at most 64 KiB: larger EXIF is dropped
SIXTEEN_BIT_ROWS = 512  # 16-bit grey is scaled this many rows at a time, to bound memory


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


def inspect(fp: BinaryIO, max_pixels: int = MAX_PIXELS) -> ImageInfo:
    """Validate an upload by its content and return its format and upright size.

    The pixel count is checked from the header before anything is decoded; then the
    whole image is decoded once, so a truncated file is refused here rather than in
    the worker.  Raises ImageError with a readable message.  Rewinds fp.
    """
    try:
        image = open_image(fp, max_pixels)
        with image:  # (closes only files Pillow opened itself, never fp)
            load(image)
            width, height = _upright_size(image)
            return ImageInfo(format_of(image), width, height)
    finally:
        fp.seek(0)


def open_image(fp: BinaryIO, max_pixels: int) -> Image.Image:
    """Open fp as one of ALLOWED_FORMATS, its size checked from the header only."""
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


def load(image: Image.Image) -> None:
    """Decode image; a truncated or damaged file raises ImageError."""
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


def format_of(image: Image.Image) -> str:
    return "JPEG" if image.format == "MPO" else image.format


def orientation(image: Image.Image) -> int:
    return image.getexif().get(ExifTags.Base.Orientation, 1)


def _upright_size(image: Image.Image) -> tuple[int, int]:
    width, height = image.size
    return (height, width) if orientation(image) in (5, 6, 7, 8) else (width, height)



def save_options(image: Image.Image, fmt: str, src: BinaryIO) -> dict:
    options: dict = {}
    exif = image.getexif()
    exif.pop(ExifTags.Base.Orientation, None)  # the pixels will be upright
    if len(exif):
        data = exif.tobytes()
        if len(data) < EXIF_LIMIT:
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


def profile_fits(profile: bytes, mode: str) -> bool:
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


def normalize(image: Image.Image) -> Image.Image:
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
    for top in range(0, values.shape[0], SIXTEEN_BIT_ROWS):
        rows = np.clip(values[top : top + SIXTEEN_BIT_ROWS], 0, 65535).astype(np.uint32)
        out[top : top + SIXTEEN_BIT_ROWS] = (rows * 255 + 32767) // 65535
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


