import random
import re

from django import forms

from .stats import MAX_ABS, MAX_VALUES

SEPARATORS = re.compile(r"[,\s]+")
# [0-9], not \d: \d (and int(), float()) also take Arabic-Indic, fullwidth and other
# digits, so "١٢٣" would be read as 123.
NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
INTEGER = re.compile(r"[+-]?[0-9]+")
MAX_TOKEN_CHARS = 40


def random_numbers(count: int = 20) -> str:
    return ", ".join(str(random.randint(1, 100)) for _ in range(count))


def shorten(token: str) -> str:
    return token if len(token) <= 20 else token[:20] + "…"


def parse_number(token: str, position: int) -> int | float:
    def invalid(reason: str, code: str):
        return forms.ValidationError(
            "Value %(position)s, “%(token)s”, %(reason)s.",
            code=code,
            params={"position": position, "token": shorten(token), "reason": reason},
        )

    if not NUMBER.fullmatch(token):
        if any(char.isdigit() and not char.isascii() for char in token):
            raise invalid("uses digits other than 0 to 9", "not_ascii_digits")
        raise invalid("is not a number", "not_a_number")
    if len(token) > MAX_TOKEN_CHARS:
        raise invalid(f"has more than {MAX_TOKEN_CHARS} characters", "too_long")
    value = int(token) if INTEGER.fullmatch(token) else float(token)
    if abs(value) > MAX_ABS:  # also catches 1e999, which float() makes infinite
        raise invalid("is out of range (at most ±1e15)", "out_of_range")
    return value


class NumbersForm(forms.Form):
    numbers = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
        max_length=MAX_VALUES * (MAX_TOKEN_CHARS + 2),
        error_messages={"required": "Enter at least one number."},
        help_text=f"1 to {MAX_VALUES:,} numbers separated by commas, spaces or new lines; "
        "integers or decimals within ±1e15.",
    )

    def clean_numbers(self) -> list[int | float]:
        tokens = [token for token in SEPARATORS.split(self.cleaned_data["numbers"]) if token]
        if not tokens:
            raise forms.ValidationError("Enter at least one number.", code="empty")
        if len(tokens) > MAX_VALUES:
            raise forms.ValidationError(
                "Enter at most %(max)s numbers (you entered %(count)s).",
                code="too_many",
                params={"max": f"{MAX_VALUES:,}", "count": f"{len(tokens):,}"},
            )
        return [parse_number(token, position) for position, token in enumerate(tokens, start=1)]
