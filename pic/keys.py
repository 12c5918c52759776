"""Where CloudPic's objects live in storage (docs/design.md §5): the one key builder that
the upload, the handler, the reply check, the model and the admin all use. A key never
holds a name the user chose: only the job id and the extension of the checked format."""

ORIGINALS = "pic/originals/"
RESULTS = "pic/results/"


def original_key(job_id, extension: str) -> str:
    return f"{ORIGINALS}{job_id}.{extension}"


def result_key(job_id, extension: str) -> str:
    return f"{RESULTS}{job_id}.{extension}"
THUMBNAILS = "pic/thumbnails/"


def thumbnail_key(job_id, which: str) -> str:
    """A small JPEG of the original or the result (`which`), made once on first request."""
    return f"{THUMBNAILS}{job_id}-{which}.jpg"
