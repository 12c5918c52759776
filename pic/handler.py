"""The CloudPic message handler: original from storage, enhanced result back to storage."""

import tempfile

from workers import files
from workers.consumer import Context
from workers.envelope import PermanentError

from .enhance.files import ImageError
from .enhance.job import enhance_file
from .enhance.rules import check_strength
from .keys import ORIGINALS, result_key


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


class Handler:
    """The message handler, with the threads each job may use to apply its enhancement:
    the worker command makes it from --threads, since the worker owns the CPU budget
    (jobs in parallel x threads per job)."""

    def __init__(self, threads: int = 1):
        if threads < 1:
            raise ValueError(f"threads must be at least 1, not {threads}")
        self.threads = threads

    def __call__(self, message: dict, context: Context) -> dict:
        key, strength = parse(message)
        try:
            original = files.open_file(key)
        except FileNotFoundError:
            raise PermanentError(f"the original image {key} does not exist") from None
        # The result goes to a temporary file (Pillow asks for a real file descriptor when
        # it saves, so a spooled in-memory buffer would roll over to disk anyway).
        with original, tempfile.TemporaryFile() as enhanced:
            try:
                info, metrics = enhance_file(original, enhanced, strength,
                                             threads=self.threads)
            except ImageError as error:
                raise PermanentError(
                    f"the original image cannot be enhanced: {error}") from None
            original.close()  # free its download buffer before uploading the result
            enhanced.seek(0)
            key_out = result_key(context.job_id, info.extension)
            # Overwrites: a redelivered job rewrites its own result, never adds a copy.
            files.save(key_out, enhanced)
        return {"result_key": key_out, "metrics": metrics}


# The tool's handler (pic.apps names it): one thread per job, unless the worker command
# makes one of its own.
handle = Handler()
