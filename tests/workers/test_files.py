"""Job files through the one shared S3 client (workers/files.py) and through local storage."""

import io
import threading

import pytest

from tests.conftest import BUCKET
from workers import files


def test_s3_files_are_written_read_and_overwritten_with_the_storage_s_parameters(s3_bucket):
    files.save("pic/results/a.jpg", b"first")
    files.save("pic/results/a.jpg", io.BytesIO(b"second"))  # a redelivery rewrites it
    with files.open_file("pic/results/a.jpg") as handle:
        assert handle.read() == b"second"
    head = s3_bucket.head_object(Bucket=BUCKET, Key="pic/results/a.jpg")
    assert head["ContentType"] == "image/jpeg"  # as django-storages would have sent it
    assert [o["Key"] for o in s3_bucket.list_objects_v2(Bucket=BUCKET)["Contents"]] == [
        "pic/results/a.jpg"]


def test_a_missing_s3_file_is_file_not_found(s3_bucket):
    with pytest.raises(FileNotFoundError):
        files.open_file("pic/originals/none.jpg")


def test_threads_share_one_client(s3_bucket):
    from django.core.files.storage import default_storage

    clients = []

    def write(n):
        files.save(f"logs/calc/{n}.log", b"x")
        clients.append(files.client(default_storage))

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(clients) == 4 and len({id(client) for client in clients}) == 1


def test_local_storage_is_used_as_it_is(media_root):
    files.save("logs/calc/x.log", b"hello")
    files.save("logs/calc/x.log", b"again")
    assert (media_root / "logs/calc/x.log").read_bytes() == b"again"
    with files.open_file("logs/calc/x.log") as handle:
        assert handle.read() == b"again"
