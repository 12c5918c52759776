"""CloudPic's image pipeline: validate an upload, enhance it by up to 30 %, encode it.

Pure code: Pillow and numpy only (no Django, no boto3), so the web app, the worker,
the tests and the benchmark all call the same functions.

Enhancing by strength s (in [0, MAX_STRENGTH]) raises contrast, colorfulness and
sharpness, each by a factor of at most 1 + s, lifts brightness by at most s / 6 and
adds at most 2 percentage points of clipped samples (metrics.py defines the
measures); s = 0 leaves the pixels untouched.  Separate ImageEnhance factors compound
and clip, so the pipeline plans (plan.py) three steps on a sample of the pixels, in
proportions fitted once to the photo and scaled by one factor found on the real
pipeline (stopping at the first cap reached), then applies
them (apply.py) at full resolution, in place, in strips of rows, so that a job holds
the decoded image plus a few strips: well under two decoded copies.

Modules: rules (the numbers users see), files (upload checks, reading and writing),
metrics, plan, apply, job (enhance_file, enhance, measure).
"""

from __future__ import annotations

import importlib

from .rules import (
    ABSOLUTE_METRICS,
    ALLOWED_FORMATS,
    BRIGHTNESS_LIFT,
    CLIP_RISE_LIMIT,
    CONTENT_TYPES,
    EXTENSIONS,
    GAIN_KEYS,
    JPEG_QUALITY,
    MAX_PIXELS,
    MAX_STRENGTH,
    MAX_STRENGTH_PERCENT,
    METRIC_KEYS,
    WEBP_QUALITY,
    check_strength,
)

# The rules above are plain constants, imported at Django start-up (pic.models uses
# METRIC_KEYS).  Everything else needs numpy and Pillow, about 0.4 s to import, so
# it is loaded on first use (PEP 562): a calc worker or a manage.py command never
# pays for it.
_LAZY = {
    "ImageError": "files", "ImageInfo": "files", "inspect": "files", "Metrics": "metrics",
    "enhance_file": "job", "enhance": "job", "measure": "job",
}
_SUBMODULES = ("apply", "files", "job", "metrics", "plan")

__all__ = [
    "ABSOLUTE_METRICS", "ALLOWED_FORMATS", "BRIGHTNESS_LIFT", "CLIP_RISE_LIMIT",
    "CONTENT_TYPES", "EXTENSIONS", "GAIN_KEYS", "JPEG_QUALITY", "MAX_PIXELS", "MAX_STRENGTH",
    "MAX_STRENGTH_PERCENT", "METRIC_KEYS", "WEBP_QUALITY", "check_strength", *_LAZY,
]


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value
