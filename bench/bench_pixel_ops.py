"""What one full-resolution pass costs, next to decoding and encoding the photo.

Run from the project root:  .venv/bin/python bench/bench_pixel_ops.py [--repeat N]

The enhance job's targets are 2.0 x the codec floor (decode + encode) on the median
photo and 2.5 x on the worst, one thread, so planning, applying the enhancement and
measuring the delivered file together may cost one to one and a half floors.  This
prints, for the smooth
12 MP photo of bench_enhance.py (the cheapest floor), what each candidate building
block costs over the whole image, done as the job does it: on strips of
STRIP_PIXELS pixels, one thread, medians of N runs.  A building block whose figure
is near the floor cannot be part of a job that meets the target.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from PIL import Image, ImageChops, ImageFilter  # noqa: E402

from bench.bench_enhance import make_photo  # noqa: E402
from pic.enhance.apply import STRIP_PIXELS  # noqa: E402


def median_ms(work, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per figure (median)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "smooth.jpg"
        make_photo("smooth", path)
        data = path.read_bytes()

    def decode() -> Image.Image:
        image = Image.open(io.BytesIO(data))
        image.load()
        return image

    image = decode()
    width, height = image.size
    rows = max(8, STRIP_PIXELS // width)
    strips = [image.crop((0, top, width, min(top + rows, height)))
              for top in range(0, height, rows)]
    greys = [strip.convert("L") for strip in strips]
    others = [strip.point(lambda v: 255 - v) for strip in strips]
    arrays = [np.asarray(strip).astype(np.int32) for strip in strips]
    lut = [min(255, round(v * 1.1)) for v in range(256)] * 3
    detail = ImageFilter.Kernel((3, 3), [-0.1, -0.2, -0.1, -0.2, 1.2, -0.2, -0.1, -0.2, -0.1],
                                scale=1, offset=128)
    matrix = (1.2, -0.1, -0.1, 0, -0.1, 1.2, -0.1, 0, -0.1, -0.1, 1.2, 0)

    def each(items, op):
        return lambda: [op(item) for item in items]

    def each_pair(op):
        return lambda: [op(a, b) for a, b in zip(strips, others, strict=True)]

    def in_place(a: np.ndarray) -> None:
        a *= 3

    def fresh(a: np.ndarray) -> None:
        a * 3  # noqa: B018 -- the point is the new array of the result

    figures = {
        "decode (whole image)": median_ms(decode, args.repeat),
        "encode q90 (whole image)": median_ms(
            lambda: image.save(io.BytesIO(), "JPEG", quality=90), args.repeat),
    }
    floor = sum(figures.values())
    blocks = {
        "crop + paste back (the strips' own cost)": lambda: [
            image.paste(image.crop((0, 0, width, s.height)), (0, 0)) for s in strips],
        "point: the tone curve (lookup table)": each(strips, lambda s: s.point(lut)),
        "convert to L: luma": each(strips, lambda s: s.convert("L")),
        "3x3 Kernel filter on L": each(greys, lambda g: g.filter(detail)),
        "BoxBlur(0.5) on L (= binomial 3x3)": each(greys, lambda g: g.filter(
            ImageFilter.BoxBlur(0.5))),
        "L -> RGB": each(greys, lambda g: g.convert("RGB")),
        "ImageChops.add on RGB": each_pair(lambda a, b: ImageChops.add(a, b, 1, -128)),
        "Image.blend on RGB (alpha 1.3)": each_pair(lambda a, b: Image.blend(a, b, 1.3)),
        "RGB -> RGB matrix (saturation)": each(strips, lambda s: s.convert("RGB", matrix)),
        "RGB -> YCbCr": each(strips, lambda s: s.convert("YCbCr")),
        "np.asarray of RGB strips": each(strips, np.asarray),
        "numpy int32 op, in place": each(arrays, in_place),
        "numpy int32 op, new array": each(arrays, fresh),
    }
    print(f"smooth 12 MP photo ({width} x {height}), strips of {rows} rows, one thread, "
          f"medians of {args.repeat}; load average {os.getloadavg()[0]:.2f}")
    for name, ms in figures.items():
        print(f"  {name:44s} {ms:7.1f} ms")
    print(f"  {'floor (decode + encode)':44s} {floor:7.1f} ms")
    for name, work in blocks.items():
        ms = median_ms(work, args.repeat)
        print(f"  {name:44s} {ms:7.1f} ms  {ms / floor:5.2f} x floor")


if __name__ == "__main__":
    main()
