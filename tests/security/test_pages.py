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
