"""Hardened pages: CSP without inline script, COOP; CloudCal reads ASCII digits only."""

import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.urls import reverse

from calc.forms import NumbersForm

pytestmark = pytest.mark.django_db

TEMPLATES = Path(django_settings.BASE_DIR) / "templates"


@pytest.mark.parametrize("name", ["home", "calc:submit", "pic:submit"])
def test_pages_carry_csp_and_coop(client, name):
    response = client.get(reverse(name))
    policy = dict(part.strip().split(" ", 1) for part in
                  response["Content-Security-Policy"].split(";"))
    assert policy["script-src"] == "'self'" and "unsafe-inline" not in policy["script-src"]
    assert policy["object-src"] == "'none'" and policy["frame-ancestors"] == "'none'"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    # Nothing the policy would block: every script is a file.
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", response.content.decode())


def test_the_admin_carries_them_too(admin_client):
    response = admin_client.get(reverse("admin:index"))
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_no_template_has_inline_script_or_handlers():
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text()
        # A script element is a file, or JSON data (never run: the Swagger UI settings).
        assert not re.search(r"<script(?![^>]*\b(src=|type=\"application/json\"))[^>]*>",
                             text), path
        assert not re.search(r"\son[a-z]+\s*=", text), path


@pytest.mark.parametrize("text, token", [
    ("١٢٣", "١٢٣"),  # Arabic-Indic
    ("１２ ３", "１２"),  # fullwidth, and a fullwidth space
    ("1, ۴", "۴"),  # Extended Arabic-Indic
    ("12 ²", "²"),  # a superscript is a digit to str.isdigit
    ("1e٣", "1e٣"),
])
def test_cloudcal_takes_ascii_digits_only(text, token):
    form = NumbersForm({"numbers": text})
    assert not form.is_valid()
    [error] = form.errors.as_data()["numbers"]
    assert error.code == "not_ascii_digits" and f"“{token}”" in error.messages[0]


def test_ascii_numbers_still_parse():
    form = NumbersForm({"numbers": "1, -2.5 3e2\n+4"})
    assert form.is_valid() and form.cleaned_data["numbers"] == [1, -2.5, 300.0, 4]


INLINE_STYLE = re.compile(r"<[a-z][^>]*\sstyle\s*=", re.IGNORECASE)


def test_the_policy_allows_no_inline_style_or_script(client):
    policy = client.get(reverse("home"))["Content-Security-Policy"]
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "style-src 'self';" in policy + ";"


def test_no_template_has_a_style_attribute_or_element():
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text()
        assert not INLINE_STYLE.search(text), path
        assert "<style" not in text, path


def test_pages_render_without_inline_style(admin_client, sqs_queues):
    """Every kind of page, done jobs of both tools included, the admin's lists and forms."""
    import uuid

    from calc.models import CalcJob
    from pic.models import PicJob

    calc = CalcJob.objects.create(numbers=[1, 2, 4], owner="o", status="done", worker="w",
                                  result={"count": 3, "min": 1, "max": 4, "mean": 7 / 3,
                                          "median": 2})
    pic_id = uuid.uuid4()
    pic = PicJob.objects.create(id=pic_id, owner="o", image_key=f"pic/originals/{pic_id}.jpg",
                                strength=0.3, format="JPEG", width=40, height=30, size=1,
                                status="done", result_key=f"pic/results/{pic_id}.jpg")
    urls = [reverse("home"), reverse("calc:submit"), reverse("pic:submit"),
            reverse("calc:job", args=[calc.id]), reverse("pic:job", args=[pic.id]),
            reverse("admin:index"), reverse("admin:calc_calcjob_changelist"),
            reverse("admin:pic_picjob_changelist"),
            reverse("admin:calc_calcjob_change", args=[calc.id]),
            reverse("admin:pic_picjob_change", args=[pic.id]), reverse("admin-queues")]
    for url in urls:
        response = admin_client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert not INLINE_STYLE.search(html), (url, INLINE_STYLE.search(html))
        assert "<style" not in html, url
