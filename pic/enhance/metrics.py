"""The five metrics of a photo, measured on the same sample before and after.

Every figure is measured on the RGB (or grey) pixels, alpha ignored:

* contrast     -- RMS contrast of luma: std(Y) / 255, Y = 0.299 R + 0.587 G + 0.114 B;
* colorfulness -- Hasler & Suesstrunk: sqrt(sd(rg)^2 + sd(yb)^2) + 0.3 sqrt(mean(rg)^2 +
                  mean(yb)^2) with rg = R - G, yb = (R + G) / 2 - B, on 0-255 values;
* sharpness    -- "detail": RMS of the 4-neighbour Laplacian of Y divided by std(Y),
                  so that a plain contrast stretch does not count as sharpening;
* brightness   -- mean(Y) / 255;
* clipped      -- share (0-1) of the RGB samples that are exactly 0 or 255.

The sample is the whole image when it is small, else an even grid of small
full-resolution tiles, so that the 3x3 operations and the Laplacian see the same
pixels there as in the full image.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from PIL import Image

from .rules import METRIC_KEYS

# Rec. 601 luma, the weights Pillow's own RGB -> L conversion uses.
LUMA = np.array([0.299, 0.587, 0.114])

# Sampling: images up to EXACT_LIMIT pixels are measured whole (planning on them is
# cheap); larger ones on an even grid of TILES tiles of TILE x TILE pixels.  The
# outer MARGIN pixels of a tile only feed the 3x3 blur and the Laplacian of the
# inner 4 x 4, which are exact there.  Many small tiles rather than a few big ones:
# sparse features (stars on a night sky) can dominate colourfulness, and only an
# even spread sees them fairly.
EXACT_LIMIT = 400_000
TILES = 2048
TILE = 8
MARGIN = 2
INSET = 40
ALIGN, OFFSET = 16, 4  # large images: tiles at 4 mod 16, in the middle of JPEG's MCUs


class Metrics(NamedTuple):
    contrast: float
    colorfulness: float
    sharpness: float
    brightness: float
    clipped: float

    def rounded(self) -> dict:
        """The wire form: {key: value rounded to 4 decimals} in METRIC_KEYS order."""
        return {key: round(float(value), 4) for key, value in zip(METRIC_KEYS, self, strict=True)}


def luma(a: np.ndarray) -> np.ndarray:
    """Float32 luma of a (..., C) uint8 array (C = 1 or 3)."""
    if a.shape[-1] == 1:
        return a[..., 0].astype(np.float32)
    # (A matrix product on a flat float32 copy is several times faster than per band.)
    flat = a.reshape(-1, 3).astype(np.float32) @ LUMA.astype(np.float32)
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




def metrics_of(a: np.ndarray, m: int) -> Metrics:
    """Metrics of a uint8 stack a (A, H, B, W, C) whose measured pixels are _core(a, m)."""
    y = luma(a)
    core_y = _core(y, m)
    std = float(core_y.std(dtype=np.float64))
    lap = _laplacian(y, m)
    energy = float(np.mean(np.square(lap), dtype=np.float64)) if lap.size else 0.0
    detail = math.sqrt(energy) / std if std > 1e-6 else 0.0
    core = _core(a, m)
    clipped = np.count_nonzero((core == 0) | (core == 255)) / max(core.size, 1)
    colorfulness = _colorfulness(core) if a.shape[-1] == 3 else 0.0
    return Metrics(std / 255, colorfulness, detail, float(core_y.mean(dtype=np.float64)) / 255,
                   clipped)


class Grid(NamedTuple):
    """Where a large image's tiles are: tile (i, j) at (left + i sx, top + j sy)."""

    nx: int
    ny: int
    sx: int
    sy: int
    left: int
    top: int

    @classmethod
    def of(cls, width: int, height: int) -> Grid | None:
        """The grid of an image this size; None when it is measured whole."""
        if width * height <= EXACT_LIMIT or min(width, height) < TILE:
            return None
        # Tiles keep INSET pixels from the edges where there is room, so that the
        # delivered JPEG's MCUs around each are whole (delivered.py).
        inset = INSET if min(width, height) > 8 * INSET else 0
        w, h = width - 2 * inset, height - 2 * inset
        nx = min(max(round(math.sqrt(TILES * w / h)), 1), w - TILE + 1)
        ny = min(max(round(TILES / nx), 1), h - TILE + 1)
        sx, sy = (w - TILE) // max(nx - 1, 1), (h - TILE) // max(ny - 1, 1)
        left = inset + (w - TILE - sx * (nx - 1)) // 2
        top = inset + (h - TILE - sy * (ny - 1)) // 2
        if inset and min(sx, sy) >= ALIGN:
            # Each tile in the middle of a 16 x 16 JPEG MCU (see delivered.py): spacings
            # rounded to whole MCUs, and as many tiles as still span the image evenly.
            sx, sy = round(sx / ALIGN) * ALIGN, round(sy / ALIGN) * ALIGN
            nx, ny = min(nx, (w - TILE) // sx + 1), min(ny, (h - TILE) // sy + 1)
            left = inset + (w - TILE - sx * (nx - 1)) // 2
            top = inset + (h - TILE - sy * (ny - 1)) // 2
            left -= (left - OFFSET) % ALIGN
            top -= (top - OFFSET) % ALIGN
        return cls(nx, ny, sx, sy, left, top)


@dataclass
class Sample:
    """The pixels a plan is made from, as a Pillow image in L or RGB mode: either the
    whole image (margin 0) or a mosaic of ny rows of nx tiles (margin MARGIN)."""

    image: Image.Image
    ny: int
    nx: int
    margin: int

    @property
    def exact(self) -> bool:
        return self.margin == 0

    @classmethod
    def of(cls, image: Image.Image, exact: bool = False) -> Sample:
        base_mode = "L" if image.mode in ("L", "LA") else "RGB"
        layout = None if exact else Grid.of(*image.size)
        if layout is None:
            whole = image if image.mode == base_mode else image.convert(base_mode)
            return cls(whole, 1, 1, 0)
        # One nearest-neighbour affine transform per offset within a tile picks that
        # pixel of every tile: TILE ** 2 calls instead of one crop per tile.
        nx, ny, sx, sy, left, top = layout
        bands = []
        for dy in range(TILE):
            for dx in range(TILE):
                # Output pixel (i, j) reads input (sx (i + 1/2) + c, ...), rounded down.
                shift = (sx, 0, left + dx - sx / 2 + 0.5, 0, sy, top + dy - sy / 2 + 0.5)
                grid = image.transform((nx, ny), Image.Transform.AFFINE, shift,
                                       Image.Resampling.NEAREST)
                bands.append(np.asarray(grid.convert(base_mode) if grid.mode != base_mode
                                        else grid))
        tiles = np.stack(bands).reshape(TILE, TILE, ny, nx, -1).transpose(2, 0, 3, 1, 4)
        mosaic = np.ascontiguousarray(tiles).reshape(ny * TILE, nx * TILE, -1)
        return cls(Image.fromarray(mosaic.squeeze(-1) if base_mode == "L" else mosaic), ny, nx,
                   MARGIN)

    def array(self, image: Image.Image | None = None) -> np.ndarray:
        """image (default: the sample itself) as a (A, H, B, W, C) uint8 stack."""
        a = np.asarray(self.image if image is None else image)
        if a.ndim == 2:
            a = a[..., None]
        h, w = a.shape[0] // self.ny, a.shape[1] // self.nx
        return a.reshape(self.ny, h, self.nx, w, a.shape[-1])


    def metrics(self, image: Image.Image | None = None) -> Metrics:
        """Metrics of image (default: the sample itself), a sample-sized image."""
        return metrics_of(self.array(image), self.margin)

    def core(self) -> np.ndarray:
        """The measured uint8 samples, (..., C)."""
        return _core(self.array(), self.margin)
