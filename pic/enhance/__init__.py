"""CloudPic's image pipeline: validate an upload, enhance it by up to 30 %, encode it.

Pure code: Pillow and numpy only (no Django, no boto3), so the web app, the worker,
the tests and the benchmark all call the same functions.

Strength s (in [0, MAX_STRENGTH]) is a ceiling, not a dose: each of contrast,
colorfulness and sharpness is moved only as far as the photo stands from a
well-exposed natural photo (norms.py), and by a factor of at most 1 + s; brightness
rises by at most 1 + s and clipped samples by at most 2 percentage points, all
measured on the delivered file (metrics.py defines the measures).  A photo that needs
nothing, and s = 0, come back as the original bytes.  The plan (plan.py) is made on a
sample of the pixels and applied (apply.py) at full resolution, in place, in strips of
rows.

Modules: rules (the numbers users see; importable without numpy or Pillow), files
(upload checks, reading and writing), metrics, norms, plan, apply, job (enhance_file,
enhance, measure, needs), summary (the changes in words; pure Python).
"""

from __future__ import annotations

from . import apply, files, job, metrics, norms, plan, summary
from .files import ImageError, ImageInfo, inspect
from .job import enhance, enhance_file, measure, needs
from .metrics import Metrics
from .rules import (
    ABSOLUTE_METRICS,
    ALLOWED_FORMATS,
    CLIP_RISE_LIMIT,
    CONTENT_TYPES,
    EXTENSIONS,
    GAIN_KEYS,
    JPEG_QUALITY,
    MAX_PIXELS,
    MAX_STRENGTH,
    MAX_STRENGTH_PERCENT,
    METRIC_KEYS,
    NEED_KEYS,
    WEBP_QUALITY,
    check_strength,
)
from .summary import describe

__all__ = [
    "ABSOLUTE_METRICS", "ALLOWED_FORMATS", "CLIP_RISE_LIMIT", "CONTENT_TYPES", "EXTENSIONS",
    "GAIN_KEYS", "JPEG_QUALITY", "MAX_PIXELS", "MAX_STRENGTH", "MAX_STRENGTH_PERCENT",
    "METRIC_KEYS", "NEED_KEYS", "WEBP_QUALITY", "ImageError", "ImageInfo", "Metrics",
    "apply", "check_strength", "describe", "enhance", "enhance_file", "files", "inspect",
    "job", "measure", "metrics", "needs", "norms", "plan", "summary",
]
