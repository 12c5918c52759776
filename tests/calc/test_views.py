import pytest
from django.test import Client
from django.urls import reverse

from calc.models import CalcJob
from cloudsite.pages import OWNER_KEY

pytestmark = pytest.mark.django_db


@pytest.fixture
def job_of(client, sqs_queues, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("calc:submit"), {"numbers": "1 2 3"})
    return CalcJob.objects.get()


def test_the_form_is_prefilled_with_twenty_integers(client):
    response = client.get(reverse("calc:submit"))
    numbers = response.context["form"].initial["numbers"].split(", ")
    assert len(numbers) == 20 and all(n.isdigit() for n in numbers)


@pytest.mark.parametrize("name", ["calc:job", "calc:status", "calc:log"])
def test_a_job_is_private_to_its_session(job_of, name):
    stranger = Client()
    stranger.get(reverse("calc:submit"))
    assert stranger.get(reverse(name, args=[job_of.id])).status_code == 404


def test_the_owner_sees_the_job_and_its_id_in_recent_jobs(client, job_of):
    assert client.get(reverse("calc:job", args=[job_of.id])).status_code == 200
    home = client.get(reverse("home")).content.decode()
    assert reverse("calc:job", args=[job_of.id]) in home


def test_recent_jobs_say_what_each_job_is_and_its_state(client, job_of):
    home = client.get(reverse("home")).content.decode()
    assert "3 values" in home and "Queued" in home and "just now" in home
    CalcJob.objects.filter(pk=job_of.pk).update(
        status="done", result={"count": 3, "min": 1, "max": 3, "mean": 2, "median": 2.5})
    home = client.get(reverse("home")).content.decode()
    assert "3 values, median 2.5" in home and "Done" in home


def test_staff_see_every_job(job_of, admin_client):
    assert admin_client.get(reverse("calc:job", args=[job_of.id])).status_code == 200
    assert admin_client.get(reverse("calc:status", args=[job_of.id])).status_code == 200


def test_a_job_stays_with_its_browser_after_logging_in(client, job_of, django_user_model):
    django_user_model.objects.create_user("ann", password="pw-for-tests")
    token = client.session[OWNER_KEY]
    client.force_login(django_user_model.objects.get(username="ann"))
    assert client.session[OWNER_KEY] == token
    assert client.get(reverse("calc:job", args=[job_of.id])).status_code == 200


def test_an_unknown_job_is_404(client):
    url = reverse("calc:status", args=["00000000-0000-0000-0000-000000000000"])
    assert client.get(url).status_code == 404


def test_a_post_without_a_csrf_token_is_refused():
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("calc:submit"), {"numbers": "1 2 3"})
    assert response.status_code == 403
    assert CalcJob.objects.count() == 0


def test_the_log_of_a_local_file_is_served_as_text(client, job_of, calc_consumer):
    calc_consumer.process_batch(wait_time=0)
    client.get(reverse("calc:status", args=[job_of.id]))
    response = client.get(reverse("calc:log", args=[job_of.id]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert f"job_id: {job_of.id}" in b"".join(response.streaming_content).decode()


def test_the_status_view_only_answers_get(client, job_of):
    assert client.post(reverse("calc:status", args=[job_of.id])).status_code == 405


def test_debug_is_off_and_cookies_are_httponly(settings):
    assert settings.DEBUG is False
    assert settings.SESSION_COOKIE_HTTPONLY
