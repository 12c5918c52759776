import uuid

import boto3
import pytest
from django.core.files.storage import default_storage
from moto import mock_aws
from moto.server import ThreadedMotoServer

from jobs import tools
from tests.workers.batch import Consumer
from workers import aws

BUCKET = "cloudsite-test"


@pytest.fixture(autouse=True)
def media_root(tmp_path, settings):
    """Each test gets local file storage of its own."""
    root = tmp_path / "media"
    settings.MEDIA_ROOT = root
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                    "OPTIONS": {"location": root, "allow_overwrite": True}},
    }
    return root


@pytest.fixture
def sqs_queues(settings):
    """moto in-process: every queue of docs/design.md §3, created the way setup_aws does."""
    settings.AWS_ENDPOINT_URL = None
    with mock_aws():
        aws.reset()
        aws.create_queues(tools.installed())
        yield
    aws.reset()


@pytest.fixture
def s3_bucket(sqs_queues, settings):
    """A private moto bucket behind django-storages' S3 backend as the default storage."""
    aws.create_bucket(BUCKET)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {"bucket_name": BUCKET, "default_acl": None, "file_overwrite": True,
                        "querystring_auth": True, "querystring_expire": 600,
                        "client_config": aws.client_config()},
        },
    }
    assert hasattr(default_storage, "bucket_name")
    return boto3.client("s3", region_name="us-east-1")


@pytest.fixture
def calc_consumer(sqs_queues):
    consumer = Consumer(tools.get("calc"), visibility_timeout=1, worker="test-worker")
    yield consumer
    consumer.close()


# Tests read queue depths the way the admin's dashboard does.
queue_depth = aws.queue_counts


@pytest.fixture(scope="session")
def moto_server():
    """moto in server mode on 127.0.0.1, for code running in other processes or threads."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def server_queues(moto_server, settings):
    """Queues on the moto server under a prefix of this test's own."""
    settings.AWS_ENDPOINT_URL = moto_server
    settings.CLOUDSITE_QUEUE_PREFIX = f"t{uuid.uuid4().hex[:8]}-"
    aws.reset()
    aws.create_queues(tools.installed())
    yield moto_server
    aws.reset()


@pytest.fixture
def browser_page():
    """A page in Debian's Chromium, driven by Playwright."""
    from tests.browser import chromium_page

    with chromium_page() as page:
        yield page
