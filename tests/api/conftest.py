import pytest
from django.contrib.auth import get_user_model

from cloudsite.models import ApiToken
from tests.pic.conftest import jpeg_upload, photo  # noqa: F401  (the same test photo)


@pytest.fixture
def user(db):
    return get_user_model().objects.create_user("ada", password="pw-ada")


@pytest.fixture
def token(user) -> str:
    return ApiToken.issue(user, "tests")[1]


@pytest.fixture
def api(client, token):
    """Django's test client, speaking with a bearer token and no session."""
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client
