"""The CloudCal chart: a line of the values up to 200 of them, a histogram past that; both
with axes, ticks at round values, and the four statistics marked where they are."""

import random
import statistics

import pytest

from calc.chart import HISTOGRAM_ABOVE, chart, nice_ticks


def result_of(values):
    return {"count": len(values), "min": min(values), "max": max(values),
            "mean": statistics.fmean(values), "median": statistics.median(values)}


@pytest.mark.parametrize("low, high, expected", [
    (0, 10, [0, 2, 4, 6, 8, 10]), (1, 20, [5, 10, 15, 20]), (-0.37, 0.41, [-0.2, 0, 0.2, 0.4]),
    (99.2, 100.9, [99.5, 100, 100.5]),
])
def test_ticks_fall_on_round_values(low, high, expected):
    assert nice_ticks(low, high) == pytest.approx(expected)


def test_twenty_values_are_a_line_with_a_dot_each_and_axes():
    values = [random.randint(-50, 50) for _ in range(20)]
    drawn = chart(values, result_of(values))
    assert drawn["kind"] == "line" and len(drawn["dots"]) == 20
    assert len(drawn["polyline"].split()) == 20
    assert len(drawn["xticks"]) >= 3 and len(drawn["yticks"]) >= 3
    # The y axis grows upwards: the highest tick is the nearest the top.
    ys = [tick["at"] for tick in drawn["yticks"]]
    assert ys == sorted(ys, reverse=True)
    marks = {mark["name"]: mark for mark in drawn["marks"]}
    assert marks["max"]["y1"] < marks["median"]["y1"] < marks["min"]["y1"] or \
        len(set(values)) == 1


def test_past_200_values_it_is_a_histogram_with_the_statistics_at_their_values():
    rng = random.Random(7)
    values = [rng.gauss(100, 15) for _ in range(10_000)] + [400]  # a long right tail
    result = result_of(values)
    drawn = chart(values, result)
    assert len(values) > HISTOGRAM_ABOVE and drawn["kind"] == "histogram"
    assert "polyline" not in drawn and 10 <= len(drawn["bars"]) <= 40
    left, right = drawn["left"], drawn["right"]
    marks = {mark["name"]: mark["x1"] for mark in drawn["marks"]}
    assert marks["min"] == left and marks["max"] == right
    # Mean and median near 100 of a 40-400 range: a fifth of the way along, mean right of
    # the median (the tail pulls it), both visible as separate lines.
    for name in ("mean", "median"):
        share = (marks[name] - left) / (right - left)
        assert 0.1 < share < 0.3, (name, share)
    assert marks["mean"] > marks["median"]
    # The tallest bar reaches the top of the plot; all of them stand on the x axis.
    assert min(bar["y"] for bar in drawn["bars"]) == drawn["top"]
    assert all(bar["y"] + bar["h"] == pytest.approx(drawn["bottom"]) for bar in drawn["bars"])


def test_equal_values_still_draw():
    for values in ([5.0] * 3, [5.0] * 500):
        drawn = chart(values, result_of(values))
        assert drawn["xticks"] and drawn["marks"]
