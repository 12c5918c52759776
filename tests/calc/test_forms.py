import pytest

from calc.forms import NumbersForm, random_numbers
from calc.stats import MAX_VALUES


def clean(text):
    form = NumbersForm({"numbers": text})
    return form, form.is_valid()


@pytest.mark.parametrize("text, expected", [
    ("4, 8, 15, 16, 23, 42", [4, 8, 15, 16, 23, 42]),
    ("1 2\n3\t4,5", [1, 2, 3, 4, 5]),
    ("1,,2 ,  3\r\n", [1, 2, 3]),
    ("-1.5 +2 .5 3. 1e3 -2E-2", [-1.5, 2, 0.5, 3.0, 1000.0, -0.02]),
    ("42", [42]),
    ("1e15 -1000000000000000", [1e15, -(10**15)]),
])
def test_it_accepts(text, expected):
    form, valid = clean(text)
    assert valid, form.errors
    assert form.cleaned_data["numbers"] == expected


def test_integers_stay_integers():
    form, _ = clean("3 3.0")
    assert [type(v) for v in form.cleaned_data["numbers"]] == [int, float]


@pytest.mark.parametrize("text, message", [
    ("", "Enter at least one number."),
    ("  ,\n , ", "Enter at least one number."),
    ("nan", "“nan”, is not a number"),
    ("1 inf", "Value 2, “inf”, is not a number"),
    ("1e999", "is out of range"),
    ("1e16", "is out of range"),
    ("-1000000000000001", "is out of range"),
    ("9" * 5000, "has more than 40 characters"),
    ("1, two, 3", "Value 2, “two”, is not a number"),
    ("0x10", "is not a number"),
    ("1_000", "is not a number"),
])
def test_it_rejects_with_a_reason(text, message):
    form, valid = clean(text)
    assert not valid
    assert any(message in error for error in form.errors["numbers"]), form.errors


def test_it_rejects_too_many_values():
    form, valid = clean(" ".join(["1"] * (MAX_VALUES + 1)))
    assert not valid
    assert "at most 10,000 numbers (you entered 10,001)" in form.errors["numbers"][0]


def test_it_accepts_the_maximum_count():
    form, valid = clean(" ".join(["1"] * MAX_VALUES))
    assert valid and len(form.cleaned_data["numbers"]) == MAX_VALUES


def test_the_error_names_a_long_token_shortened():
    form, _ = clean("1 " + "x" * 100)
    assert "“xxxxxxxxxxxxxxxxxxxx…”" in form.errors["numbers"][0]


def test_the_prefill_is_twenty_valid_integers():
    form, valid = clean(random_numbers())
    assert valid and len(form.cleaned_data["numbers"]) == 20
