"""The CloudPic message handler: original from storage, enhanced result back to storage."""

import tempfile

from django.core.files import File
from django.core.files.storage import default_storage

from workers.consumer import Context
from workers.envelope import PermanentError

from .enhance.files import ImageError
from .enhance.job import enhance_file
from .enhance.rules import check_strength
from .keys import ORIGINALS, result_key

# Threads each job may use to apply its enhancement.  The worker command sets it from
# --threads: the worker owns the CPU budget (jobs in parallel x threads per job).
_threads = 1


def set_threads(threads: int) -> None:
    global _threads
    if threads < 1:
        raise ValueError(f"threads must be at least 1, not {threads}")
    _threads = threads


def parse(message: dict) -> tuple[str, float]:
    key, strength = message.get("image_key"), message.get("strength")
    if not isinstance(key, str) or not key.startswith(ORIGINALS) or ".." in key:
        raise PermanentError(f"bad input: image_key must name an original, not {key!r}")
    # On the wire the strength is a JSON number (not a string check_strength would take).
    if isinstance(strength, bool) or not isinstance(strength, (int, float)):
        raise PermanentError(f"bad input: strength must be a number, not {strength!r}")
    try:
        return key, check_strength(strength)
    except ValueError as error:
        raise PermanentError(f"bad input: {error}") from None


def handle(message: dict, context: Context) -> dict:
    key, strength = parse(message)
    try:
        original = default_storage.open(key, "rb")
    except FileNotFoundError:
        raise PermanentError(f"the original image {key} does not exist") from None
    # The result goes to a temporary file (Pillow asks for a real file descriptor when
    # it saves, so a spooled in-memory buffer would roll over to disk anyway).
    with original, tempfile.TemporaryFile() as enhanced:
        try:
            info, metrics = enhance_file(original, enhanced, strength, threads=_threads)
        except ImageError as error:
            raise PermanentError(f"the original image cannot be enhanced: {error}") from None
        original.close()  # free its download buffer before uploading the result
        enhanced.seek(0)
        key_out = result_key(context.job_id, info.extension)
        saved = default_storage.save(key_out, File(enhanced, name=key_out))
    if saved != key_out:  # the storage must overwrite, or a redelivery would leave a copy
        raise RuntimeError(f"storage saved {key_out} as {saved}")
    return {"result_key": key_out, "metrics": metrics}
