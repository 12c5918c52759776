"""One client configuration for boto3 and django-storages."""

import os
import subprocess
import sys
from pathlib import Path

from workers import aws

ROOT = Path(__file__).resolve().parents[2]

SHOW_STORAGE_CONFIG = """
import django
django.setup()
from django.core.files.storage import default_storage
config = default_storage.connection.meta.client.meta.config
print(config.retries, config.connect_timeout, config.read_timeout, config.max_pool_connections)
"""


def test_boto3_clients_use_the_shared_config():
    config = aws.sqs().meta.config
    assert config.retries["mode"] == "standard"
    # botocore stores retries plus the first try.
    assert config.retries["total_max_attempts"] == aws.client_config().retries["max_attempts"] + 1
    assert config.read_timeout == aws.client_config().read_timeout
    assert config.max_pool_connections == aws.client_config().max_pool_connections


def test_the_s3_storage_of_the_settings_uses_the_same_config():
    # The settings build STORAGES once, from the environment: read them in a fresh process.
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "cloudsite.settings",
           "DJANGO_SECRET_KEY": "test-only", "CLOUDSITE_BUCKET": "any-bucket",
           "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}
    done = subprocess.run([sys.executable, "-c", SHOW_STORAGE_CONFIG], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    expected = aws.client_config()
    assert done.stdout.strip().endswith(
        f"{expected.connect_timeout} {expected.read_timeout} "
        f"{expected.max_pool_connections}")
    assert "'mode': 'standard'" in done.stdout
