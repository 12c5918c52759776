"""What a well-exposed natural photo looks like, and how far a photo stands from it.

Three dimensions, each estimated from the photo alone (the original is never known):

* tone   -- the span of its samples: from the BLACK_QUANTILE to the WHITE_QUANTILE of all
            RGB samples.  A good photo reaches down to about BLACK_NORM; a hazy or flat
            photo has lifted blacks.  Dull whites alone are no fault (a grey cat in soft
            light ends at 205), but in a photo that is also dim overall (mean luma under
            BRIGHTNESS_NORM) they are under-exposure, and in one with lifted blacks
            haze: then the whites should reach about WHITE_NORM too.  The need is the
            linear stretch that would restore that span; under TONE_FLOOR it counts as
            none, since blurring alone pulls the extreme quantiles in by a few per cent.
* colour -- colourfulness per unit of contrast: Hasler-Suesstrunk colourfulness over
            255 * RMS contrast.  A linear stretch (haze, exposure) leaves this ratio
            alone; only faded colour lowers it, so it tells dull from flat.
* detail -- the sharpness measure (RMS Laplacian of luma over its spread).

The values are the lower quartiles (numpy's percentile 25) over scikit-image's shipped
natural photos (astronaut, chelsea, coffee, rocket and the left motorcycle), measured by
    python bench/bench_quality.py --norms
which prints them and flags any constant below that no longer matches.  The median
would move half of the good photos; the lowest photo would miss most mild faults; the
quartile is the trade-off, and good photos below it (chelsea's whites end at 205) are
moved.  They are measured on photos of about 0.2-0.4 megapixels: a large photo of
the same scene has less Laplacian per pixel, so the detail norm reads a 12 MP photo as
soft more readily than a small one.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .metrics import Metrics, Sample
from .rules import NEED_MAX

# The quantiles that count as the black and white points: a few specular highlights or
# dead pixels must not decide the span.
BLACK_QUANTILE, WHITE_QUANTILE = 0.001, 0.999

# Below this a tone need is none: a soft photo's span shrinks by up to about 6% (the
# benchmark's rocket, blurred), and stretching it back darkens a night sky visibly.
TONE_FLOOR = 0.08

# Measured by bench/bench_quality.py --norms (lower quartiles over the good photos).
BLACK_NORM = 3.0
WHITE_NORM = 253.0
BRIGHTNESS_NORM = 0.406  # mean luma / 255
COLOUR_NORM = 0.967  # colourfulness / (255 * contrast)
DETAIL_NORM = 0.582  # sharpness



class Needs(NamedTuple):
    """How much each measure would have to rise to reach the norm (0: nothing)."""

    contrast: float
    colorfulness: float
    sharpness: float

    def rounded(self) -> dict:
        return {key: round(min(float(v), NEED_MAX), 4) for key, v in self._asdict().items()}


def span_of(sample: Sample) -> tuple[float, float]:
    """The black and white points of the sample's samples (0-255)."""
    counts = np.bincount(sample.core().reshape(-1), minlength=256)
    cdf = np.cumsum(counts) / max(counts.sum(), 1)
    lo = float(np.searchsorted(cdf, BLACK_QUANTILE))
    hi = float(np.searchsorted(cdf, WHITE_QUANTILE))
    return lo, hi


def colour_ratio(m: Metrics) -> float:
    return m.colorfulness / (255 * m.contrast) if m.contrast > 1e-6 else 0.0


def _need(norm: float, value: float) -> float:
    if value <= 1e-9:
        return NEED_MAX if norm > 0 else 0.0
    return min(max(norm / value - 1, 0.0), NEED_MAX)


def needs_of(sample: Sample, m: Metrics, grey: bool) -> Needs:
    lo, hi = span_of(sample)
    if hi <= lo:
        return Needs(0.0, 0.0, 0.0)
    # Lifted blacks are haze, which dims the whites as much as it lifts the blacks.
    hazy = _need(hi - BLACK_NORM, hi - lo) >= TONE_FLOOR
    white = max(hi, WHITE_NORM) if hazy or m.brightness < BRIGHTNESS_NORM else hi
    tone = _need(white - min(lo, BLACK_NORM), hi - lo)
    if tone < TONE_FLOOR:
        tone = 0.0
    colour = 0.0 if grey or m.colorfulness <= 1e-9 else _need(COLOUR_NORM, colour_ratio(m))
    detail = _need(DETAIL_NORM, m.sharpness) if m.contrast > 1e-6 else 0.0
    return Needs(tone, colour, detail)
