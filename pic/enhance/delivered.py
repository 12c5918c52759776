"""Measuring the delivered file: the "after" metrics are those of what users get.

Small images are decoded again whole.  Lossless files (PNG, lossless WebP) decode to
exactly the pixels written, so those are measured.  A large JPEG is not decoded again
in full (that alone would cost half as much as decoding and encoding it): its sampled
tiles are, exactly.  JPEG codes each MCU (16 x 16 pixels at 4:2:0, 8 x 8 in grey) on
its own; decoding reads chroma one sample into the neighbouring MCUs, which reaches 2
pixels into an MCU.  A large image's 8 x 8 sample tiles sit 4 pixels inside an MCU
(metrics.Grid), so the MCUs holding them, encoded in a mosaic of their own with the same
settings and decoded, give the tiles' pixels exactly as the delivered file has them, as
tests/pic/test_enhance_quality.py checks against a full decode.

The same blocks let the job predict, before the full-resolution pass, what the
encoder will add (predict()): JPEG's quantization noise raises the detail of a soft
photo by 10% and more, which would break the cap on the delivered file.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from .apply import Plan, apply
from .files import normalize
from .metrics import ALIGN, MARGIN, TILE, Grid, Metrics, Sample

MCU = BLOCK = ALIGN  # one MCU per tile
REACH = 2  # pixels beyond a tile whose MCU must be the image's own (chroma upsampling)
HALO = 1  # rows and columns a block needs beyond itself for the 3x3 sharpening


class Blocks:
    """The MCU-aligned blocks around a large image's sample tiles."""

    def __init__(self, grid: Grid, width: int, height: int):
        self.grid = grid
        tx = grid.left + grid.sx * np.arange(grid.nx)
        ty = grid.top + grid.sy * np.arange(grid.ny)
        self.bx = (tx - REACH) // MCU * MCU
        self.by = (ty - REACH) // MCU * MCU
        self.ox, self.oy = tx - self.bx, ty - self.by  # the tiles within their blocks
        # Whole MCUs only, and a halo inside the image (its edges are sharpened apart).
        self.ok = bool(
            self.ox.min() >= REACH and self.ox.max() + TILE + REACH <= BLOCK
            and self.oy.min() >= REACH and self.oy.max() + TILE + REACH <= BLOCK
            and self.bx.min() >= HALO and self.by.min() >= HALO
            and self.bx.max() + BLOCK <= min(width // MCU * MCU, width - HALO)
            and self.by.max() + BLOCK <= min(height // MCU * MCU, height - HALO)
        )

    @classmethod
    def of(cls, image: Image.Image) -> Blocks | None:
        grid = Grid.of(*image.size)
        if grid is None or image.mode not in ("L", "RGB"):
            return None
        blocks = cls(grid, *image.size)
        return blocks if blocks.ok else None

    def mosaic(self, image: Image.Image, halo: int = 0) -> np.ndarray:
        """The blocks (grown by halo on each side) as one (ny B, nx B, C) array."""
        size = BLOCK + 2 * halo
        cols = ((self.bx - halo)[:, None] + np.arange(size)).reshape(-1)
        rows = []
        for y in self.by - halo:
            strip = np.asarray(image.crop((0, int(y), image.width, int(y) + size)))
            rows.append(strip[:, cols] if strip.ndim == 3 else strip[:, cols, None])
        return np.concatenate(rows, axis=0)

    def tiles(self, mosaic: np.ndarray) -> Sample:
        """The sample tiles cut out of a decoded block mosaic, as a Sample."""
        g = self.grid
        a = mosaic.reshape(g.ny, BLOCK, g.nx, BLOCK, -1)
        r = self.oy[:, None] + np.arange(TILE)  # (ny, TILE)
        c = self.ox[:, None] + np.arange(TILE)  # (nx, TILE)
        t = a[np.arange(g.ny)[:, None, None, None], r[:, :, None, None],
              np.arange(g.nx)[None, None, :, None], c[None, None, :, :]]
        out = np.ascontiguousarray(t).reshape(g.ny * TILE, g.nx * TILE, -1)
        return Sample(Image.fromarray(out[..., 0] if out.shape[-1] == 1 else out),
                      g.ny, g.nx, MARGIN)


def _through_jpeg(mosaic: np.ndarray, quality: int) -> np.ndarray:
    image = Image.fromarray(mosaic[..., 0] if mosaic.shape[-1] == 1 else mosaic)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    buffer.seek(0)
    with Image.open(buffer) as decoded:
        a = np.asarray(decoded)
    return a if a.ndim == 3 else a[..., None]


def jpeg_after(blocks: Blocks, written: Image.Image, quality: int) -> Metrics:
    """The delivered JPEG's metrics on the sample tiles, from the written image."""
    return blocks.tiles(_through_jpeg(blocks.mosaic(written), quality)).metrics()


def predict(blocks: Blocks, original: Image.Image, plan: Plan, quality: int) -> Metrics:
    """What the delivered JPEG's sample tiles will measure once plan is applied."""
    grown = blocks.mosaic(original, HALO)
    g, size = blocks.grid, BLOCK + 2 * HALO
    image = Image.fromarray(grown[..., 0] if grown.shape[-1] == 1 else grown)
    done = np.asarray(apply(image, plan)) if not plan.is_identity else grown
    done = done.reshape(g.ny, size, g.nx, size, -1)[:, HALO:-HALO, :, HALO:-HALO]
    mosaic = np.ascontiguousarray(done).reshape(g.ny * BLOCK, g.nx * BLOCK, -1)
    return blocks.tiles(_through_jpeg(mosaic, quality)).metrics()


def decoded_after(data: bytes) -> Metrics:
    """The metrics of a written file, decoded again whole."""
    with Image.open(io.BytesIO(data)) as written:
        written.load()
        return Sample.of(normalize(written)).metrics()
