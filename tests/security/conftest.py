import uuid

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from calc.models import CalcJob
from cloudsite.pages import OWNER_KEY
from pic.models import PicJob
from tests.api.conftest import api, token, user  # noqa: F401  (an API user's client)

OWNER = "owner-token"


@pytest.fixture
def owner_client(client):
    """A browser session that owns the jobs made by make_calc and make_pic."""
    session = client.session
    session[OWNER_KEY] = OWNER
    session.save()
    return client


@pytest.fixture
def make_calc(db):
    def make(numbers=(4, 8, 15, 16, 23, 42), **fields):
        return CalcJob.objects.create(numbers=list(numbers), owner=OWNER, **fields)
    return make


@pytest.fixture
def make_pic(db):
    def make(**fields):
        job_id = fields.pop("id", uuid.uuid4())
        key = f"pic/originals/{job_id}.png"
        default_storage.save(key, ContentFile(b"original of " + str(job_id).encode()))
        values = {"id": job_id, "owner": OWNER, "image_key": key, "original_name": "a.png",
                  "strength": 0.3, "format": "PNG", "width": 10, "height": 10, "size": 100}
        return PicJob.objects.create(**{**values, **fields})
    return make
