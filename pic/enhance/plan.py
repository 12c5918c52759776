"""The plan for strength s: each step moves its own dimension only as far as the photo
needs (norms.py), never past the cap of strength s.

* tone       -- a partial linear stretch of every band (black and white points pulled
                towards the norm's span): the inverse of haze and of under-exposure;
* colour     -- a luma-preserving chroma scale c' = y + k (c - y), which multiplies
                colourfulness by k exactly (until clipping) and leaves tone alone;
* detail     -- an unsharp mask of luma with a 3x3 binomial blur.

A dimension's aim is min(need, s): its measure may rise by 1 + aim.  The stretch's
amount follows from the span in closed form, the chroma scale from the colour ratio,
and the sharpening amount from one probe at full strength (detail grows about linearly
with the amount).  A step whose aim is under LITTLE is left out, so a photo that needs
nothing costs almost nothing and comes back unchanged.  The whole plan is then run on
the sample once; should it break a cap there (a side effect of one step on another
measure, or clipping), one factor scales all three steps back, found by bisection.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .apply import Plan, apply
from .metrics import Metrics, Sample
from .norms import Needs, needs_of, span_of
from .rules import CLIP_RISE_LIMIT, LITTLE

# The most each step may ever do: a chroma scale of 1.6 and an unsharp amount of 2.0 on
# the 3x3 binomial are where a photo starts to look garish or gritty.
SATURATION_MAX = 0.6
SHARPEN_MAX = 2.0

# Bisection steps on the back-off factor when the first plan breaks a cap: the plan then
# ends within 1/128 of the largest factor that keeps every cap.
STEPS = 7

# Head-room: a plan made on a sample aims a little under each cap, so that the cap
# still holds on the full image, whose pixels the sample only approximates (measured
# on the tests' large photos: gains within 1% and clipping within 0.3 points of the
# sample's).  Planned on the whole image, the caps themselves are the aims.
SAMPLED_GAIN_SHARE = 0.97  # of s, for contrast, colorfulness, sharpness and brightness
SAMPLED_CLIP_BUDGET = 0.015  # of CLIP_RISE_LIMIT's 0.02


@dataclass(frozen=True)
class Caps:
    """The highest value each metric may reach, in Metrics order."""

    bounds: Metrics

    @classmethod
    def of(cls, before: Metrics, s: float, exact: bool = True) -> Caps:
        gain = s if exact else s * SAMPLED_GAIN_SHARE
        clip = CLIP_RISE_LIMIT if exact else SAMPLED_CLIP_BUDGET
        return cls(Metrics(
            before.contrast * (1 + gain),
            before.colorfulness * (1 + gain),
            before.sharpness * (1 + gain),
            before.brightness * (1 + gain),
            before.clipped + clip,
        ))

    def allow(self, m: Metrics) -> bool:
        return all(value <= bound + 1e-12 for value, bound in zip(m, self.bounds, strict=True))


def stretch_lut(lo: float, hi: float, gain: float) -> tuple[int, ...] | None:
    """A linear stretch multiplying the span [lo, hi] by gain, black and white points
    moved in proportion to how far each is from 0 and 255 (haze lifts the blacks,
    under-exposure dims the whites); None when gain is about 1."""
    room = 255 - (hi - lo)
    if gain <= 1 + 1e-6 or room <= 0:
        return None
    # New span (hi - lo) * gain = 255 - t * room, so t of the room is taken up.
    t = min(((hi - lo) * (gain - 1)) / room, 1.0)
    black, white = t * lo, 255 - t * (255 - hi)
    v = np.arange(256, dtype=np.float64)
    out = np.clip(np.rint((v - black) * 255 / (white - black)), 0, 255)
    return tuple(out.astype(np.int64).tolist())


def make_plan(sample: Sample, s: float, limits: tuple[float, float, float] | None = None
              ) -> tuple[Plan, Metrics, Metrics, Needs]:
    """The plan for strength s, with the sample's metrics before and after it and the
    photo's needs.  limits caps the aims of contrast, colorfulness and sharpness further,
    for a second try when the delivered file broke a cap that the sample kept."""
    before = sample.metrics()
    grey = sample.image.mode == "L"
    needs = needs_of(sample, before, grey)
    if s <= 0:
        return Plan(), before, before, needs
    caps = Caps.of(before, s, sample.exact)
    share = 1.0 if sample.exact else SAMPLED_GAIN_SHARE
    aims = [min(need, s) * share for need in needs]
    if limits is not None:
        aims = [min(aim, limit) for aim, limit in zip(aims, limits, strict=True)]
    aims = [aim if aim >= LITTLE else 0.0 for aim in aims]
    if not any(aims):
        return Plan(), before, before, needs

    # Tone: the stretch multiplies contrast (and, with it, colourfulness) by 1 + aim.
    lut = stretch_lut(*span_of(sample), 1 + aims[0]) if aims[0] else None
    # Colour: the chroma scale lifts the colour ratio by 1 + aim, but the colourfulness
    # gain, with the stretch's, stays within the cap (k < 1 if the stretch alone passes it).
    k = 1.0
    if not grey and before.colorfulness > 1e-9:
        toned = 1 + aims[0]
        k = min(1 + aims[1], (1 + s * share) / toned, 1 + SATURATION_MAX)
        if abs(k - 1) < LITTLE:
            k = 1.0
    base = Plan(lut, k)
    amount = 0.0
    if aims[2]:
        # Detail grows about linearly with the unsharp amount: one probe at full strength.
        plain = sample.metrics(apply(sample.image, base)) if not base.is_identity else before
        full = sample.metrics(apply(sample.image, Plan(lut, k, SHARPEN_MAX)))
        wanted = before.sharpness * (1 + aims[2])
        if full.sharpness > plain.sharpness + 1e-9 and wanted > plain.sharpness:
            amount = SHARPEN_MAX * min(1.0, (wanted - plain.sharpness)
                                       / (full.sharpness - plain.sharpness))
    plan = Plan(lut, k, amount)
    if plan.is_identity:
        return Plan(), before, before, needs
    after = sample.metrics(apply(sample.image, plan))
    if caps.allow(after):
        return plan, before, after, needs
    return (*_back_off(sample, caps, before, plan, span_of(sample), aims[0]), needs)


def _back_off(sample: Sample, caps: Caps, before: Metrics, plan: Plan,
              span: tuple[float, float], tone: float) -> tuple[Plan, Metrics, Metrics]:
    """The largest f in [0, 1] scaling all three steps that keeps every cap."""

    def plan_at(f: float) -> Plan:
        lut = stretch_lut(*span, 1 + f * tone) if tone else None
        return Plan(lut, 1 + f * (plan.saturation - 1), f * plan.sharpen)

    best, best_after = Plan(), before
    lo, hi = 0.0, 1.0
    for _ in range(STEPS):
        f = (lo + hi) / 2
        candidate = plan_at(f)
        after = sample.metrics(apply(sample.image, candidate))
        if caps.allow(after):
            best, best_after, lo = candidate, after, f
        else:
            hi = f
    return best, before, best_after
