"""Abuse limits: submissions per client per minute, queued jobs per session; staff exempt."""

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from calc.models import CalcJob
from cloudsite import limits
from pic.models import PicJob

pytestmark = pytest.mark.django_db


@pytest.fixture
def submit(client, sqs_queues, django_capture_on_commit_callbacks):
    def post(who=client, **meta):
        with django_capture_on_commit_callbacks(execute=True):
            return who.post(reverse("calc:submit"), {"numbers": "1 2 3"}, **meta)
    return post


def test_a_client_gets_429_past_the_limit_per_minute(submit, settings):
    settings.CLOUDSITE_SUBMISSIONS_PER_MINUTE = 3
    assert [submit(Client()).status_code for _ in range(3)] == [302] * 3
    refused = submit(Client())
    assert refused.status_code == 429
    retry_after = int(refused["Retry-After"])
    assert 1 <= retry_after <= 61
    page = refused.content.decode()
    assert "At most 3 jobs a minute" in page and f"try again in {retry_after} second" in page
    assert CalcJob.objects.count() == 3
    # Another address has its own count.
    assert submit(Client(), REMOTE_ADDR="192.0.2.7").status_code == 302


def test_the_count_is_per_minute(submit, settings, monkeypatch):
    settings.CLOUDSITE_SUBMISSIONS_PER_MINUTE = 1
    now = 1_800_000_000.0
    monkeypatch.setattr(limits.time, "time", lambda: now)
    assert submit().status_code == 302
    assert submit().status_code == 429
    now += 60
    assert submit().status_code == 302


def test_behind_a_load_balancer_the_appended_address_counts(submit, settings):
    settings.CLOUDSITE_SUBMISSIONS_PER_MINUTE = 1
    settings.CLOUDSITE_TRUST_X_FORWARDED_FOR = True
    assert submit(HTTP_X_FORWARDED_FOR="1.1.1.1, 198.51.100.1").status_code == 302
    # A client cannot dodge the count by claiming another address in front.
    assert submit(HTTP_X_FORWARDED_FOR="2.2.2.2, 198.51.100.1").status_code == 429
    assert submit(HTTP_X_FORWARDED_FOR="198.51.100.2").status_code == 302


def test_a_session_may_have_only_so_many_jobs_queued(client, submit, settings):
    settings.CLOUDSITE_QUEUED_PER_SESSION = 2
    assert [submit().status_code for _ in range(2)] == [302, 302]
    refused = submit()
    assert refused.status_code == 429 and "at most 2 may wait at once" in refused.content.decode()
    assert refused["Retry-After"] == str(limits.QUEUED_RETRY_AFTER)
    # Pic submissions count and are refused too, before the upload is even parsed.
    upload = SimpleUploadedFile("x.png", b"\x89PNG\r\n\x1a\n")
    assert client.post(reverse("pic:submit"), {"image": upload}).status_code == 429
    assert not PicJob.objects.exists()
    CalcJob.objects.filter(pk=CalcJob.objects.first().pk).update(status="done")
    assert submit().status_code == 302
    assert Client().post(reverse("calc:submit"), {"numbers": "1"}).status_code == 302


def test_staff_are_held_to_the_limits_unless_a_setting_exempts_them(submit, settings):
    # Issue 17 row 8: staff were exempt from every limit.
    settings.CLOUDSITE_SUBMISSIONS_PER_MINUTE = 1
    settings.CLOUDSITE_QUEUED_PER_SESSION = 1
    staff = Client()
    staff.force_login(get_user_model().objects.create_user("ops", is_staff=True))
    assert [submit(staff).status_code for _ in range(2)] == [302, 429]
    settings.CLOUDSITE_LIMITS_EXEMPT_STAFF = True
    assert [submit(staff).status_code for _ in range(3)] == [302] * 3


def test_a_new_session_per_post_still_counts_against_the_address(submit, settings):
    # Issue 17 row 3: dropping the cookie gave a fresh queued quota.
    settings.CLOUDSITE_QUEUED_PER_SESSION = 2
    settings.CLOUDSITE_QUEUED_PER_CLIENT = 3
    assert [submit(Client()).status_code for _ in range(4)] == [302, 302, 302, 429]
    assert CalcJob.objects.count() == 3
    assert set(CalcJob.objects.values_list("client", flat=True)) == {"127.0.0.1"}
    assert submit(Client(), REMOTE_ADDR="192.0.2.9").status_code == 302


def test_the_api_counts_waiting_jobs_per_user(rf, settings):
    settings.CLOUDSITE_SUBMISSIONS_PER_MINUTE = 0
    settings.CLOUDSITE_QUEUED_PER_SESSION = 1
    user = get_user_model().objects.create_user("api-user")
    request = rf.post("/api/v1/calc/jobs")
    limits.check_submission(request, user=user)
    CalcJob.objects.create(numbers=[1], user=user)
    with pytest.raises(limits.SubmissionRefused) as refused:
        limits.check_submission(request, user=user)
    assert refused.value.retry_after >= 1


def test_the_defaults_are_on(settings):
    from cloudsite import settings as project

    assert project.CLOUDSITE_SUBMISSIONS_PER_MINUTE == 20
    assert project.CLOUDSITE_QUEUED_PER_SESSION == 10
    assert project.CLOUDSITE_QUEUED_PER_CLIENT == 10
    assert project.CLOUDSITE_LIMITS_EXEMPT_STAFF is False
