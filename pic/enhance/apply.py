"""Applying a plan: a tone curve, a luma-preserving saturation step and an unsharp
mask, with Pillow's C operations, on the planning sample or on the full image in
strips of rows."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from PIL import Image, ImageChops, ImageFilter

from .metrics import LUMA

# Full-resolution work is done in strips of about this many pixels: small enough
# that the strips' buffers add little to the decoded image, large enough that
# per-strip overhead stays negligible.
STRIP_PIXELS = 1 << 18


@dataclass(frozen=True)
class Plan:
    lut: tuple[int, ...] | None = None  # tone curve, 256 entries; None = unchanged
    saturation: float = 1.0  # chroma factor, 1 = unchanged
    sharpen: float = 0.0  # unsharp amount, 0 = none

    @property
    def is_identity(self) -> bool:
        flat = self.lut is None or self.lut == IDENTITY
        return flat and self.saturation == 1.0 and self.sharpen == 0.0


IDENTITY = tuple(range(256))


def apply(region: Image.Image, plan: Plan, above: Image.Image | None = None,
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


def _band_lut(plan: Plan, image: Image.Image) -> list[int]:
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


def apply_in_strips(image: Image.Image, plan: Plan, threads: int = 1) -> None:
    """Apply plan to image in place, a strip of rows at a time, on `threads` threads
    (Pillow releases the GIL), so that only a few strip-sized buffers exist at once."""
    width, height = image.size
    rows = max(8, STRIP_PIXELS // width)
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
        image.paste(apply(region, plan, edges.get(top - 1), edges.get(bottom)), (0, top))

    workers = max(1, min(threads, len(strips)))
    if workers == 1:
        for strip in strips:
            run(strip)
        return
    # Pillow releases the GIL in its C operations, so strips run in parallel.
    with ThreadPoolExecutor(workers) as pool:
        for _ in pool.map(run, strips):
            pass


def _saturated_bands(image: Image.Image, k: float) -> list[Image.Image]:
    """R, G and B of image with chroma scaled by k and Rec. 601 luma kept:
    c' = y + k (c - y).

    One RGB -> L matrix conversion per band rather than one RGB -> RGB conversion:
    Pillow runs the latter releasing and retaking the GIL on every row, so it crawls
    whenever another thread runs Python (as in a worker with several jobs).
    """
    bands = []
    for c in range(3):
        row = [float(w * (1 - k)) for w in LUMA]
        row[c] += k
        bands.append(image.convert("L", (*row, 0.0)))
    return bands



def _detail_kernel(b: float) -> ImageFilter.Kernel:
    """3x3 kernel giving 128 + b (y - binomial(y)); Pillow rounds it to nearest."""
    weights = [-b * w / 16 for w in (1, 2, 1, 2, 4, 2, 1, 2, 1)]
    weights[4] += b
    return ImageFilter.Kernel((3, 3), weights, scale=1, offset=128)
