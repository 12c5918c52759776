"""CloudPic's rules as users see them, defined once: which files, how big, how strong,
and what is measured.  The form, the handler, the model and the templates import
these names rather than repeating the numbers."""

# Accepted formats, by Pillow's name, with the extension and Content-Type we serve.
ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP")
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
MAX_PIXELS = 50_000_000  # ~150 MiB decoded: what a worker can hold twice

# Strength s is a share: 0 leaves the photo alone, MAX_STRENGTH is "up to 30%".
MAX_STRENGTH = 0.30
MAX_STRENGTH_PERCENT = round(MAX_STRENGTH * 100)  # the upload form's slider

# The metrics of a photo, in the order replies and pages show them.
METRIC_KEYS = ("contrast", "colorfulness", "sharpness", "brightness", "clipped")
GAIN_KEYS = ("contrast", "colorfulness", "sharpness")  # each moved only as the photo needs
# Contrast, colorfulness, sharpness and brightness may each rise by at most 1 + s.
RATIO_CAPPED = ("contrast", "colorfulness", "sharpness", "brightness")
# Shares of 0-1, whose change reads best in percentage points.
ABSOLUTE_METRICS = ("brightness", "clipped")
CLIP_RISE_LIMIT = 0.02  # at most 2 percentage points more clipped samples
# metrics["needed"]: how far each GAIN_KEYS measure stood below the norm (0 = nothing
# to improve), a share, reported up to NEED_MAX.
NEED_KEYS = GAIN_KEYS
NEED_MAX = 9.99
# A need or a change below this share is "little to improve": nobody would see it.
LITTLE = 0.02

JPEG_QUALITY = 90
WEBP_QUALITY = 90


def check_strength(strength: float) -> float:
    """strength as a float in [0, MAX_STRENGTH]; ValueError otherwise (a caller's bug,
    not a bad upload, hence not ImageError)."""
    try:
        s = float(strength)
    except (TypeError, ValueError):
        raise ValueError(f"strength must be a number, not {strength!r}") from None
    if not 0 <= s <= MAX_STRENGTH + 1e-9:  # also refuses NaN
        raise ValueError(f"strength must be between 0 and {MAX_STRENGTH}, not {strength!r}")
    return min(s, MAX_STRENGTH)
