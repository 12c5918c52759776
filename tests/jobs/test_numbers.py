"""Numbers for people: 6 significant digits, no float noise; the API keeps every digit."""

import pytest

from jobs.numbers import for_people


@pytest.mark.parametrize("value, shown", [
    (100.00596800000001, "100.006"), (99.92500000000001, "99.925"),
    (2.1666666666666665, "2.16667"), (4, "4"), (4.0, "4"), (15.5, "15.5"), (-3.5, "-3.5"),
    (1234567.891, "1234570"), (1.2345678e-5, "1.23457e-05"), (0.1 + 0.2, "0.3"),
    (10**18, "1e+18"), (None, "None"), ("—", "—"),
])
def test_numbers_are_rounded_to_six_significant_digits(value, shown):
    assert for_people(value) == shown
