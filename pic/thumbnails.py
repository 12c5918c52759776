"""Small JPEGs of a job's photos for the admin lists and the home page.

Made by the web process on the first request and stored under pic.keys.thumbnail_key, so
every later request serves a few kB instead of the multi-megabyte photo. Not by the
worker: that would add a decode, a write and a reply field to every job for pictures only
an admin list or a home page may ever show; a first request pays one decode, once, and
Pillow's JPEG draft mode decodes a large JPEG at 1/8 scale for it.
"""

import io
import logging

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image, ImageOps

from .keys import thumbnail_key

log = logging.getLogger(__name__)

SIZE = (160, 160)
QUALITY = 80
WHICH = ("original", "result")


def source_key(job, which: str) -> str:
    """The job's own key of that photo, or "" (never a key an older version stored)."""
    if which == "original" and job.original_is_own:
        return job.image_key
    if which == "result" and job.result_is_own:
        return job.result_key
    return ""


def thumbnail(job, which: str) -> str:
    """The storage key of the job's thumbnail of `which`, made now if it is not stored;
    "" when the job has no such photo."""
    source = source_key(job, which)
    if not source:
        return ""
    key = thumbnail_key(job.id, which)
    if default_storage.exists(key):
        return key
    try:
        with default_storage.open(source, "rb") as handle, Image.open(handle) as image:
            image.draft("RGB", SIZE)  # JPEG: decode at a fraction of the size already
            small = ImageOps.exif_transpose(image)
            small.thumbnail(SIZE)
            buffer = io.BytesIO()
            small.convert("RGB").save(buffer, "JPEG", quality=QUALITY, optimize=True)
    except FileNotFoundError:
        return ""
    except (OSError, Image.DecompressionBombError):  # not a photo Pillow can read
        log.warning("no thumbnail of %s %s: unreadable", job.id, which)
        return ""
    # Two first requests at once both write the same bytes; either copy serves.
    return default_storage.save(key, ContentFile(buffer.getvalue()))
