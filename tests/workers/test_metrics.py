"""Issue 18: one CloudWatch embedded-metric-format line per finished job."""

import io
import json
import logging
import uuid

import pytest

from jobs import tools
from tests.workers.batch import Consumer
from workers import aws, envelope, metrics

CALC = tools.get("calc")
# The names another engineer's CloudFormation dashboard reads.
METRICS = {"JobsDone": "Count", "JobsFailed": "Count", "JobDuration": "Milliseconds"}
# The units CloudWatch accepts (EMF spec: MetricDefinition.Unit).
UNITS = {"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes",
         "Gigabytes", "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits",
         "Percent", "Count", "Bytes/Second", "Kilobytes/Second", "Megabytes/Second",
         "Gigabytes/Second", "Terabytes/Second", "Bits/Second", "Kilobits/Second",
         "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None"}


def check_emf(document: dict) -> None:
    """The rules of the EMF specification a CloudWatch agent or Logs would apply."""
    meta = document["_aws"]
    assert isinstance(meta["Timestamp"], int) and meta["Timestamp"] > 1_600_000_000_000
    [directive] = meta["CloudWatchMetrics"]
    assert isinstance(directive["Namespace"], str) and 1 <= len(directive["Namespace"]) <= 255
    for dimension_set in directive["Dimensions"]:
        assert 1 <= len(dimension_set) <= 30
        for name in dimension_set:  # each a string member of the root
            assert isinstance(document[name], str)
    assert 1 <= len(directive["Metrics"]) <= 100
    for metric in directive["Metrics"]:
        assert metric.get("Unit", "None") in UNITS
        value = document[metric["Name"]]  # each a number member of the root
        assert isinstance(value, int | float) and not isinstance(value, bool)


def test_the_line_follows_the_emf_spec_with_the_dashboard_s_names():
    document = json.loads(metrics.line("pic", done=False, milliseconds=1234.56, at=1.8e9))
    check_emf(document)
    [directive] = document["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "CloudSite"
    assert directive["Dimensions"] == [["Tool"]]
    assert {m["Name"]: m["Unit"] for m in directive["Metrics"]} == METRICS
    assert document["_aws"]["Timestamp"] == 1_800_000_000_000
    assert (document["Tool"], document["JobsDone"], document["JobsFailed"],
            document["JobDuration"]) == ("pic", 0, 1, pytest.approx(1234.6))


@pytest.fixture
def metric_lines(monkeypatch):
    """What `install` writes: the lines alone, whatever the site's log level."""
    stream = io.StringIO()
    monkeypatch.setattr(metrics.log, "handlers", [])
    monkeypatch.setattr(metrics.log, "propagate", True)
    monkeypatch.setattr(metrics.log, "level", logging.NOTSET)
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.WARNING)  # the site's log level at WARNING (setLevel: no stale cache)
    metrics.install(stream)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.setLevel(level)
        metrics.log.setLevel(logging.NOTSET)


def test_each_finished_job_writes_one_line_and_a_retry_none(sqs_queues, metric_lines):
    def handler(message, context):
        if message["numbers"] == ["retry"]:
            raise ConnectionError("later")
        if message["numbers"] == ["bad"]:
            raise envelope.PermanentError("bad input")
        return {}

    consumer = Consumer(CALC, handler, concurrency=3, visibility_timeout=30,
                        retry_delay=30, worker="w")
    aws.send_batch(CALC.request_queue, {
        kind: json.dumps({"version": 1, "job_id": str(uuid.uuid4()), "numbers": [kind]})
        for kind in ("ok", "bad", "retry")})
    assert consumer.process_batch(wait_time=0) == 3
    consumer.close()
    lines = metric_lines()
    for document in lines:
        check_emf(document)
    assert sorted((d["Tool"], d["JobsDone"], d["JobsFailed"]) for d in lines) == [
        ("calc", 0, 1), ("calc", 1, 0)]
    assert all(0 <= d["JobDuration"] < 5000 for d in lines)


def test_install_leaves_a_logger_that_logging_already_routes(monkeypatch):
    routed = logging.StreamHandler(io.StringIO())
    monkeypatch.setattr(metrics.log, "handlers", [routed])
    metrics.install(io.StringIO())
    assert metrics.log.handlers == [routed]
