"""Issue 17 row 5: the admin login is throttled (django-axes), by username and address.

Before: 60 wrong passwords got 60 answers, and the right one worked straight after."""

import time
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

PASSWORD = "the-right-password-17"


@pytest.fixture
def staff(django_user_model):
    django_user_model.objects.create_user("ops", password=PASSWORD, is_staff=True)
    django_user_model.objects.create_user("ana", password=PASSWORD, is_staff=True)


def log_in(username, password, address="203.0.113.5"):
    return Client(REMOTE_ADDR=address).post(
        reverse("admin:login"), {"username": username, "password": password,
                                 "next": reverse("admin:index")})


def test_wrong_passwords_lock_the_pair_until_the_cool_off(staff, settings):
    limit = settings.AXES_FAILURE_LIMIT
    answers = [log_in("ops", f"wrong-{n}").status_code for n in range(limit)]
    assert answers[:-1] == [200] * (limit - 1)  # the form again, with its error
    assert answers[-1] == 429
    # The right password is refused now ...
    refused = log_in("ops", PASSWORD)
    assert refused.status_code == 429 and "_auth_user_id" not in refused.client.session
    # ... but not for another address, nor for another user from the same address.
    assert log_in("ops", PASSWORD, address="203.0.113.6").status_code == 302
    assert log_in("ana", PASSWORD).status_code == 302


def test_after_the_cool_off_the_right_password_works(staff, settings):
    settings.AXES_COOLOFF_TIME = timedelta(seconds=1)  # (axes reads it per request)
    for n in range(settings.AXES_FAILURE_LIMIT):
        log_in("ops", f"wrong-{n}")
    assert log_in("ops", PASSWORD).status_code == 429
    time.sleep(1.5)
    assert log_in("ops", PASSWORD).status_code == 302


def test_the_settings_lock_by_username_and_address_together():
    from cloudsite import settings as project

    assert project.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert project.AXES_FAILURE_LIMIT == 5
    assert project.AXES_COOLOFF_TIME.total_seconds() == 15 * 60


def test_axes_records_a_login_made_in_code_without_an_address(rf):
    # force_login and other logins in code have no REMOTE_ADDR: axes stores None, not
    # "unknown", which PostgreSQL's inet column would refuse.
    from cloudsite.limits import login_address

    request = rf.get("/")
    assert login_address(request) == "127.0.0.1"
    del request.META["REMOTE_ADDR"]
    assert login_address(request) is None
