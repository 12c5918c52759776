import math
import statistics

import pytest
from hypothesis import given
from hypothesis import strategies as st

from calc.stats import MAX_ABS, MAX_VALUES, check_values, summarize


def test_it_summarizes_the_design_example():
    assert summarize([4, 8, 15, 16, 23, 42]) == {
        "count": 6, "min": 4, "max": 42, "mean": 18.0, "median": 15.5,
    }


def test_a_single_value_is_every_statistic():
    assert summarize([7.25]) == {"count": 1, "min": 7.25, "max": 7.25, "mean": 7.25,
                                 "median": 7.25}


def test_odd_count_median_is_the_middle_value_in_order():
    assert summarize([9, -3, 5])["median"] == 5


def test_integer_input_is_exact_where_floats_would_drift():
    # A float sum of these loses the 1s; an exact integer sum keeps them.
    values = [10**15, 1, -(10**15), 1]
    assert summarize(values)["mean"] == 0.5


def test_it_refuses_an_empty_list():
    with pytest.raises(ValueError):
        summarize([])


@pytest.mark.parametrize("values, reason", [
    ([], "expected 1 to"),
    ("1,2", "must be a list"),
    ([1, "two"], "value 2 is not a number"),
    ([True], "value 1 is not a number"),
    ([None], "value 1 is not a number"),
    ([float("nan")], "finite"),
    ([1e16], "finite"),
    ([0] * (MAX_VALUES + 1), "expected 1 to"),
])
def test_check_values_says_why(values, reason):
    with pytest.raises(ValueError, match=reason):
        check_values(values)


finite = st.floats(min_value=-MAX_ABS, max_value=MAX_ABS, allow_nan=False, allow_infinity=False)
integers = st.integers(min_value=-(10**15), max_value=10**15)


@given(st.lists(integers, min_size=1, max_size=200))
def test_integers_match_the_statistics_module_exactly(values):
    result = summarize(values)
    assert result["count"] == len(values)
    assert result["min"] == min(values) and result["max"] == max(values)
    assert result["mean"] == float(statistics.mean(values))
    assert result["median"] == statistics.median(values)


@given(st.lists(st.one_of(finite, integers), min_size=1, max_size=200))
def test_mixed_values_match_the_statistics_module(values):
    result = summarize(values)
    assert result["min"] == min(values) and result["max"] == max(values)
    assert result["median"] == statistics.median(values)
    assert math.isclose(result["mean"], statistics.fmean(values), rel_tol=1e-9, abs_tol=1e-6)
