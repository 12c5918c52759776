"""The plan for strength s: the three steps in proportions fitted to the photo, scaled
by one factor.

Each step raises its own measure: the tone curve (on luma) contrast, the chroma scale
colourfulness, the sharpening detail.  First, each step alone at its full unit
(tone t = 1, saturation 1 + SATURATION_MAX, sharpening SHARPEN_MAX) is run once on
the sample, and its own gain G measured: the step's proportion is aim / G (capped at
1), so that, were gains linear, all three would reach the aim together at factor 1
(the tone curve's share of colour and detail gain is taken off the other two aims).
Then a factor f in [0, FACTOR_MAX] stands for the plan
    tone t = min(1, f p_tone), saturation 1 + SATURATION_MAX min(1, f p_colour),
    sharpening SHARPEN_MAX min(1, f p_detail),
and the largest f whose result, measured on the sample after the real pipeline has
run on it, stays within every cap is found by bisection: the plan stops at the first
cap it reaches, which is what "up to 30%" means.  Last, the sharpening and then the
saturation are left out if, at that factor, they add less than MIN_STEP_GAIN to their
own measure's gain: each costs a full-resolution pass.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .apply import Plan, apply
from .metrics import Metrics, Sample
from .rules import BRIGHTNESS_LIFT, CLIP_RISE_LIMIT

# The unit of each step: the most the plan may ever use.  A chroma scale of 1.6 and
# an unsharp amount of 1.5 on the 3x3 binomial are where a photo starts to look
# garish or gritty; on typical photos each alone gains well over 30%.
SATURATION_MAX = 0.6
SHARPEN_MAX = 1.5
# The factor may go past 1: gains are not linear in the steps (a tone curve's
# contrast gain flattens as it grows), so a step may need more than its proportion.
FACTOR_MAX = 2.0

# The S-curve's slope at its pivot at t = 1 is 1 + S_CURVE_MAX (1 - S_CURVE_MAX at the
# ends): strong enough for 30% on a flat photo, gentle enough not to posterize.
S_CURVE_MAX = 0.8
# Autocontrast maps these quantiles of the samples to black and white: a few specular
# highlights or dead pixels must not stop the stretch.
BLACK_QUANTILE, WHITE_QUANTILE = 0.001, 0.999

# A step that adds less than this to its own measure's gain, at the factor found, is left
# out: a full-resolution pass is not worth a change nobody sees (on the benchmark's smooth
# 12 MP photo, where contrast reaches its cap first, the sharpening added 0.007 to the
# detail gain for a pass that costs about as much as decoding and encoding the photo).
MIN_STEP_GAIN = 0.01

# Bisection steps on the factor: the plan ends within FACTOR_MAX / 128 of the factor at which
# the first cap is reached, a difference in the gains well under one percent; each
# further step would cost one more run of the pipeline on the sample.
STEPS = 7

# Head-room: a plan made on a sample aims a little under each cap, so that the cap
# still holds on the full image, whose pixels the sample only approximates (measured
# on the tests' large photos: gains within 1% and clipping within 0.3 points of the
# sample's).  Planned on the whole image, the caps themselves are the aims.
SAMPLED_GAIN_SHARE = 0.97  # of s, for contrast, colorfulness and sharpness
SAMPLED_LIFT_SHARE = 0.9  # of the brightness lift
SAMPLED_CLIP_BUDGET = 0.015  # of CLIP_RISE_LIMIT's 0.02


@dataclass(frozen=True)
class Caps:
    """The highest value each metric may reach, in Metrics order."""

    bounds: Metrics

    @classmethod
    def of(cls, before: Metrics, s: float, exact: bool) -> Caps:
        gain = s if exact else s * SAMPLED_GAIN_SHARE
        lift = s * BRIGHTNESS_LIFT * (1 if exact else SAMPLED_LIFT_SHARE)
        clip = CLIP_RISE_LIMIT if exact else SAMPLED_CLIP_BUDGET
        return cls(Metrics(
            before.contrast * (1 + gain),
            before.colorfulness * (1 + gain),
            before.sharpness * (1 + gain),
            before.brightness + lift,
            before.clipped + clip,
        ))

    def allow(self, m: Metrics) -> bool:
        return all(value <= bound + 1e-12 for value, bound in zip(m, self.bounds, strict=True))


@dataclass(frozen=True)
class ToneCurve:
    """Tone curves: t = 0 is the identity, t = 1 a full autocontrast followed by the
    strongest S-curve around the mean."""

    lo: float  # black point at t = 1
    hi: float  # white point at t = 1
    mean: float  # mean luma of the original: the S-curve's pivot

    @classmethod
    def of(cls, sample: Sample, before: Metrics) -> ToneCurve:
        counts = np.bincount(sample.core().reshape(-1), minlength=256)
        cdf = np.cumsum(counts) / max(counts.sum(), 1)
        lo = float(np.searchsorted(cdf, BLACK_QUANTILE))
        hi = float(np.searchsorted(cdf, WHITE_QUANTILE))
        if hi - lo < 2:  # (nearly) flat: nothing to stretch
            lo, hi = 0.0, 255.0
        return cls(lo, hi, before.brightness * 255)

    def lut(self, t: float) -> tuple[int, ...]:
        v = np.arange(256, dtype=np.float64)
        black, white = t * self.lo, 255 - t * (255 - self.hi)
        u = np.clip((v - black) / (white - black), 0, 1)
        p = min(max((self.mean - black) / (white - black), 0.25), 0.75)
        k = t * S_CURVE_MAX
        low = u < p
        z = np.where(low, u / p, (u - p) / (1 - p))
        # Quadratic halves meeting at the pivot with slope 1 + k (slope 1 - k at the ends).
        curve = np.where(low, p * (z - k * z * (1 - z)), p + (1 - p) * (z + k * z * (1 - z)))
        out = np.rint(curve * 255)
        # Only the autocontrast may clip: the S-curve's flat ends must not round a
        # dark or light value to pure black or white.
        out = np.where((u > 0) & (u < 1), np.clip(out, 1, 254), out)
        return tuple(out.astype(np.int64).tolist())


def make_plan(sample: Sample, s: float) -> tuple[Plan, Metrics, Metrics]:
    """The strongest plan in the photo's proportions that keeps every cap for
    strength s; with the sample's metrics before and after it."""
    before = sample.metrics()
    if s <= 0:
        return Plan(), before, before
    caps = Caps.of(before, s, sample.exact)
    curve = ToneCurve.of(sample, before)
    grey = sample.image.mode == "L"
    aim = s * (1 if sample.exact else SAMPLED_GAIN_SHARE)

    def gains(plan: Plan) -> list[float]:
        """Gains of contrast, colourfulness and detail after plan alone."""
        after = sample.metrics(apply(sample.image, plan))
        return [after[i] / before[i] - 1 if before[i] > 1e-9 else 0.0 for i in range(3)]

    def share(gain: float, wanted: float) -> float:
        if wanted <= 0:  # the tone curve alone already reaches this measure's aim
            return 0.0
        return 1.0 if gain <= wanted else wanted / gain

    # The tone curve also raises colour (it stretches every band) and moves detail a
    # little; the saturation and the sharpening are fitted to what it leaves.
    tone = gains(Plan(curve.lut(1.0)))
    p_tone = share(tone[0], aim)
    rest = [(1 + aim) / (1 + p_tone * tone[i]) - 1 for i in (1, 2)]
    p_colour = 0.0 if grey else share(gains(Plan(saturation=1 + SATURATION_MAX))[1], rest[0])
    p_detail = share(gains(Plan(sharpen=SHARPEN_MAX))[2], rest[1])

    def plan_at(f: float) -> Plan:
        return Plan(curve.lut(min(1.0, f * p_tone)),
                    1 + SATURATION_MAX * min(1.0, f * p_colour),
                    SHARPEN_MAX * min(1.0, f * p_detail))

    # Bisection on f: each probe runs the real pipeline on the sample.
    best, best_after = Plan(), before
    lo, hi = 0.0, FACTOR_MAX
    for _ in range(STEPS):
        f = (lo + hi) / 2
        plan = plan_at(f)
        after = sample.metrics(apply(sample.image, plan))
        if caps.allow(after):
            best, best_after, lo = plan, after, f
        else:
            hi = f
    # Then leave out a step that adds next to nothing: the sharpening first (the dearest).
    for step, measure in (("sharpen", 2), ("saturation", 1)):
        lighter = replace(best, **{step: getattr(Plan(), step)})
        if lighter == best or before[measure] <= 1e-9:
            continue
        after = sample.metrics(apply(sample.image, lighter))
        lost = (best_after[measure] - after[measure]) / before[measure]
        if caps.allow(after) and lost < MIN_STEP_GAIN:
            best, best_after = lighter, after
    return best, before, best_after
