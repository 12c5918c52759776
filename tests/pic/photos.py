"""Good photos and the faults casual photos show, for the enhance tests.

The same faults as bench/bench_quality.py (kept separate: tests do not import the
benchmarks).  scikit-image's photos ship in its wheel and load offline.
"""

import functools
import struct
import zlib

import numpy as np
from PIL import Image, ImageFilter
from skimage import data

LUMA = np.array([0.299, 0.587, 0.114])


@functools.cache
def skimage_photo(name: str) -> Image.Image:
    if name == "motorcycle":
        return Image.fromarray(data.stereo_motorcycle()[0])
    return Image.fromarray(getattr(data, name)())


def flat(image: Image.Image, haze: float = 0.25) -> Image.Image:
    """Hazy: a share of the light is a veil of 75% grey (works on L and RGB)."""
    x = np.asarray(image, np.float64) / 255
    return _image((1 - haze) * x + haze * 0.75)


def dull(image: Image.Image, chroma: float = 0.7) -> Image.Image:
    """Faded colour: chroma scaled around Rec. 601 luma."""
    x = np.asarray(image.convert("RGB"), np.float64) / 255
    y = (x @ LUMA)[..., None]
    return _image(y + chroma * (x - y))


def soft(image: Image.Image, radius: float = 1.0) -> Image.Image:
    return image.filter(ImageFilter.GaussianBlur(radius))


def dark(image: Image.Image, stops: float = 1.0) -> Image.Image:
    """Under-exposed by `stops`, in linear light."""
    x = np.asarray(image, np.float64) / 255
    linear = np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4) * 2.0**-stops
    return _image(np.where(linear <= 0.0031308, 12.92 * linear,
                           1.055 * linear ** (1 / 2.4) - 0.055))


def _image(x: np.ndarray) -> Image.Image:
    return Image.fromarray(np.clip(np.rint(x * 255), 0, 255).astype(np.uint8))


def png_bytes(width: int, height: int, bit_depth: int, color_type: int, raw: bytes) -> bytes:
    """A PNG file written by hand: Pillow cannot write 16-bit colour, nor a lying header."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body)))

    header = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
