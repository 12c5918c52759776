"""Settings for the test suite: the project's own, with test-only environment defaults."""

import os
import tempfile

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-not-for-use-anywhere-else")
os.environ["DJANGO_DEBUG"] = "0"
os.environ.pop("CLOUDSITE_BUCKET", None)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ["CLOUDSITE_QUEUE_PREFIX"] = ""
os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
os.environ["AWS_ACCESS_KEY_ID"] = "testing"
os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
os.environ.pop("AWS_SESSION_TOKEN", None)
os.environ.pop("AWS_PROFILE", None)
os.environ.setdefault("CLOUDSITE_MEDIA_ROOT", tempfile.mkdtemp(prefix="cloudsite-media-"))

from cloudsite.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
STATIC_ROOT = tempfile.mkdtemp(prefix="cloudsite-static-")
# The abuse limits are off for the suite (many tests submit from one address within a
# minute, some in transactional databases that keep the counts); tests/security turns
# them on where it checks them.
CLOUDSITE_SUBMISSIONS_PER_MINUTE = 0
CLOUDSITE_QUEUED_PER_SESSION = 0
CLOUDSITE_QUEUED_PER_CLIENT = 0
