import uuid

import pytest
from django.urls import reverse

from calc.models import CalcJob

pytestmark = pytest.mark.django_db


@pytest.fixture
def jobs():
    job_id = uuid.uuid4()
    done = CalcJob.objects.create(id=job_id, numbers=[1, 2], owner="a", status="done",
                                  worker="ip-1:7", result={"count": 2, "min": 1, "max": 2,
                                                           "mean": 1.5, "median": 1.5},
                                  log_key=f"logs/calc/{job_id}.log")
    queued = CalcJob.objects.create(numbers=[5], owner="b")
    return done, queued


def test_admin_needs_a_staff_login(client, django_user_model):
    changelist = reverse("admin:calc_calcjob_changelist")
    assert client.get(changelist).status_code == 302
    django_user_model.objects.create_user("joe", password="pw-for-tests")
    client.force_login(django_user_model.objects.get(username="joe"))
    assert client.get(changelist).status_code == 302


def test_the_changelist_shows_status_worker_and_summary(admin_client, jobs):
    page = admin_client.get(reverse("admin:calc_calcjob_changelist")).content.decode()
    assert "ip-1:7" in page and "n=2 min=1 max=2 mean=1.5 median=1.5" in page


def test_it_filters_by_status(admin_client, jobs):
    response = admin_client.get(reverse("admin:calc_calcjob_changelist") + "?status__exact=queued")
    assert list(response.context["cl"].queryset) == [jobs[1]]


@pytest.mark.parametrize("spell", [str, lambda u: str(u).upper(), lambda u: u.hex,
                                   lambda u: str(u)[:8]])
def test_it_searches_by_id(admin_client, jobs, spell):
    url = reverse("admin:calc_calcjob_changelist") + "?q=" + spell(jobs[0].id)
    assert list(admin_client.get(url).context["cl"].queryset) == [jobs[0]]


def test_the_detail_page_is_read_only_and_links_the_log(admin_client, jobs):
    page = admin_client.get(reverse("admin:calc_calcjob_change", args=[jobs[0].id]))
    html = page.content.decode()
    assert reverse("calc:log", args=[jobs[0].id]) in html
    assert 'name="worker"' not in html  # shown, not editable
    assert admin_client.get(reverse("admin:calc_calcjob_add")).status_code == 403
