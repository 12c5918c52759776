"""The job files (a calc job's log, a photo and its result) as job threads read and write
them: one S3 call each, on one client shared by every thread.

django-storages' S3Storage makes a boto3 session and resource in each thread on first
use (0.1-0.35 s of CPU each: eight job threads cost the worker 2 CPU-seconds before its
first job, sixteen 4.3) and uploads through s3transfer, which runs a transfer manager
and a thread hand-off for every object. Profiled in the calc worker (bench/README.md),
that was the largest share of its CPU per job. boto3 clients are thread-safe, sessions
and resources are not: so where the default storage is an S3Storage, one client is made
from the storage's own options (bucket, prefix, credentials, endpoint, retries) and
PutObject and GetObject are called on it directly, with the write parameters
(content type, ACL, object parameters) the storage itself would send. Any other
storage (local files in development and tests) is used as it is.
"""

import tempfile
import threading
from typing import IO

from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

# Downloads larger than this spill from memory to a temporary file (as the storage's
# own max_memory_size does in settings).
SPOOL_BYTES = 8 * 1024 * 1024

_lock = threading.Lock()


def client(storage: S3Storage):
    """The storage's one shared S3 client, made on first use."""
    made = getattr(storage, "_shared_client", None)
    if made is None:
        with _lock:  # making a client is not thread-safe
            made = getattr(storage, "_shared_client", None)
            if made is None:
                made = storage._create_session().client(
                    "s3", region_name=storage.region_name, use_ssl=storage.use_ssl,
                    endpoint_url=storage.endpoint_url, config=storage.client_config,
                    verify=storage.verify)
                storage._shared_client = made
    return made


def prepare() -> None:
    """Make the shared client now (before the first job holds a message while it waits)."""
    if isinstance(default_storage, S3Storage):
        client(default_storage)


def save(key: str, content: bytes | IO[bytes]) -> None:
    """Write bytes or a binary file at `key`, replacing what is there. Raises if the storage
    would keep it under another name (a redelivered job must rewrite its own file)."""
    storage = default_storage
    if isinstance(storage, S3Storage):
        name = storage._normalize_name(clean_name(key))
        client(storage).put_object(Bucket=storage.bucket_name, Key=name, Body=content,
                                   **storage._get_write_parameters(name))
        return
    wrapped = ContentFile(content) if isinstance(content, bytes) else File(content, name=key)
    saved = storage.save(key, wrapped)
    if saved != key:
        raise RuntimeError(f"storage saved {key} as {saved}")


def open_file(key: str) -> IO[bytes]:
    """The file at `key`, to read from its start; FileNotFoundError if there is none."""
    storage = default_storage
    if not isinstance(storage, S3Storage):
        return storage.open(key, "rb")
    s3 = client(storage)
    try:
        body = s3.get_object(Bucket=storage.bucket_name,
                             Key=storage._normalize_name(clean_name(key)))["Body"]
    except s3.exceptions.NoSuchKey:
        raise FileNotFoundError(key) from None
    spooled = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    try:
        with body:
            for chunk in body.iter_chunks(1024 * 1024):
                spooled.write(chunk)
    except BaseException:
        spooled.close()
        raise
    spooled.seek(0)
    return spooled
