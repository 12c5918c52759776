"""Decoding untrusted bodies: ValueError for anything unusable, never RecursionError."""

import json
import uuid

import pytest

from workers import envelope

JOB = str(uuid.uuid4())


def wrap(value) -> str:
    return json.dumps({"version": 1, "job_id": JOB, "status": "done", "result": value})


def nested(depth: int):
    value = 1
    for _ in range(depth):
        value = [value]
    return value


def test_nesting_up_to_the_limit_decodes():
    # The reply object itself is one level; the result adds the rest.
    assert envelope.decode_reply(wrap(nested(envelope.MAX_DEPTH - 1)))["job_id"] == JOB


@pytest.mark.parametrize("body", [
    wrap(nested(envelope.MAX_DEPTH)),
    "[" * 100_000 + "]" * 100_000,  # past the parser's own recursion limit
    '{"a":' * 60_000 + "1" + "}" * 60_000,
    "[" * 200_000,  # and unterminated
])
def test_deep_nesting_is_a_value_error(body):
    with pytest.raises(ValueError, match="nest|not usable JSON"):
        envelope.decode_reply(body)


@pytest.mark.parametrize("body", [
    b'{"job_id": "\xff"}',
    "\ud800",
    "x" * (envelope.MAX_BODY_BYTES + 1),
    "é" * (envelope.MAX_BODY_BYTES // 2 + 1),  # few characters, too many bytes
    wrap(float("nan")),  # json.dumps writes NaN
    wrap(1).replace('"result": 1', '"result": 1e400'),
    wrap(1).replace('"result": 1', '"result": ' + "7" * 5000),
    None,
    12,
])
def test_unusable_bodies_are_value_errors(body):
    with pytest.raises(ValueError):
        envelope.decode_reply(body)


@pytest.mark.parametrize("text, expected", [
    ("2026-11-27T19:00:00.120Z", "2026-11-27T19:00:00.120000+00:00"),
    ("2026-11-27T19:00:00", "2026-11-27T19:00:00+00:00"),  # naive: taken as UTC
    ("2026-11-27T20:00:00+01:00", "2026-11-27T20:00:00+01:00"),
])
def test_timestamps_are_always_aware(text, expected):
    assert envelope.parse_timestamp(text).isoformat() == expected


@pytest.mark.parametrize("text", ["soon", "9" * 100, 5, None, "2026-13-01T00:00:00Z"])
def test_bad_timestamps_are_none(text):
    assert envelope.parse_timestamp(text) is None


def test_pic_metric_ranges_cover_exactly_the_pipelines_metrics():
    from pic import enhance, replies

    assert set(replies.METRIC_RANGES) == set(enhance.METRIC_KEYS)
