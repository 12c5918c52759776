"""Rows holding odd values (from an older version, or written before validation) still
render: every page, the status JSON and the admin answer without a 500, and nothing of
another job is served."""

import json

import pytest
from django.urls import reverse

from workers import aws

pytestmark = pytest.mark.django_db

ODD_RESULTS = [
    {"count": True, "min": 4, "max": 42, "mean": 18.0, "median": 15.5},
    {"count": 6, "min": 4, "max": 42, "mean": int("9" * 400), "median": 15.5},
    {"count": 6, "min": "4", "max": None, "mean": [1], "median": {"a": 1}},
    {"count": 6, "min": -1e308, "max": 1e308, "mean": 1e308, "median": 5e-324},
    {"count": 6},
    {},
    [1, 2, 3],
    "done",
    17,
]
ODD_METRICS = [
    {"before": {"contrast": "0.2", "colorfulness": "lots"}, "after": {"contrast": "0.3"}},
    {"before": {"contrast": 0, "sharpness": 0.0}, "after": {"contrast": 0.1, "sharpness": 0.2}},
    {"before": {"contrast": True}, "after": {"contrast": 10**400}},
    {"before": 1, "after": None},
    {"after": {"contrast": 0.2}},
    [],
    "metrics",
]


def render_everything(client, admin_client, job, names):
    for name in names:
        response = client.get(reverse(name, args=[job.id]))
        assert response.status_code in (200, 404), (name, response.status_code)
        if name.endswith(":status"):
            json.loads(response.content)  # strict JSON: no NaN or Infinity
    app = job._meta.app_label
    model = job._meta.model_name
    for url in (reverse(f"admin:{app}_{model}_changelist"),
                reverse(f"admin:{app}_{model}_change", args=[job.id]),
                reverse("admin-queues")):
        assert admin_client.get(url).status_code == 200, url
    assert client.get(reverse("home")).status_code == 200


@pytest.mark.parametrize("result", ODD_RESULTS)
def test_calc_pages_render_odd_results(owner_client, admin_client, sqs_queues, make_calc,
                                       make_pic, result):
    other = make_pic()
    job = make_calc(status="done", result=result, log_key=other.image_key, worker="w")
    render_everything(owner_client, admin_client, job, ["calc:job", "calc:status", "calc:log"])
    assert owner_client.get(reverse("calc:log", args=[job.id])).status_code == 404


@pytest.mark.parametrize("numbers", [["a", 1], [True, None], [], "1 2 3"])
def test_calc_pages_render_odd_numbers(owner_client, admin_client, sqs_queues, make_calc,
                                       numbers):
    result = {"count": 2, "min": 1, "max": 3, "mean": 2.0, "median": 2.0}
    job = make_calc(numbers=numbers, status="done", result=result)
    render_everything(owner_client, admin_client, job, ["calc:job", "calc:status"])


@pytest.mark.parametrize("metrics", ODD_METRICS)
def test_pic_pages_render_odd_metrics(owner_client, admin_client, sqs_queues, make_pic,
                                      metrics):
    other = make_pic()
    job = make_pic(status="done", metrics=metrics, worker="w",
                   result_key=f"pic/results/../originals/{other.id}.png")
    render_everything(owner_client, admin_client, job, ["pic:job", "pic:status", "pic:result",
                                                        "pic:original"])
    assert owner_client.get(reverse("pic:result", args=[job.id])).status_code == 404


def test_a_pic_row_of_an_unknown_format_renders(owner_client, admin_client, sqs_queues,
                                                make_pic):
    job = make_pic(status="done", format="GIF", result_key="pic/results/x.gif", metrics=None)
    render_everything(owner_client, admin_client, job, ["pic:job", "pic:status", "pic:result",
                                                        "pic:original"])


def test_odd_figures_show_as_a_dash_and_good_ones_as_numbers(owner_client, make_calc,
                                                            sqs_queues):
    job = make_calc(status="done", result={"count": True, "min": 4, "max": 42,
                                           "mean": int("9" * 400), "median": 15.5})
    page = owner_client.get(reverse("calc:job", args=[job.id])).content.decode()
    assert '<td data-stat="count">—</td>' in page and '<td data-stat="min">4</td>' in page
    assert "9" * 20 not in page
    status = owner_client.get(reverse("calc:status", args=[job.id])).json()
    assert status["result"] == {"count": None, "min": 4, "max": 42, "mean": None,
                                "median": 15.5}


def test_the_queues_page_counts_dropped_replies(admin_client, sqs_queues, make_calc):
    from jobs import tools
    from workers.reconcile import apply_message

    CALC = tools.get("calc")

    for _ in range(3):
        assert apply_message(CALC, "nonsense") is False
    page = admin_client.get(reverse("admin-queues")).content.decode()
    assert f'data-dropped="{aws.queue_name(CALC.response_queue)}">3<' in page
