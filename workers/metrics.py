"""One CloudWatch embedded-metric-format (EMF) line per finished job, on its own logger.

CloudWatch Logs turns each such line into metrics with no AWS call from the worker:
namespace CloudSite, JobsDone and JobsFailed (Count, 1 or 0), JobDuration
(Milliseconds), by Tool. The CloudFormation dashboard reads exactly these names.

The line must be the JSON object alone, so the logger `cloudsite.metrics` does not
pass its records to the root's formatted handler: unless the site's LOGGING gives it
handlers of its own, `install()` (called by the worker command) writes them bare to
standard error. The constant part of the line is built once; a job adds three numbers
and a timestamp (bench/README.md gives the cost).
"""

import json
import logging
import sys
import time

NAMESPACE = "CloudSite"
log = logging.getLogger("cloudsite.metrics")

_DIRECTIVE = json.dumps([{
    "Namespace": NAMESPACE,
    "Dimensions": [["Tool"]],
    "Metrics": [{"Name": "JobsDone", "Unit": "Count"},
                {"Name": "JobsFailed", "Unit": "Count"},
                {"Name": "JobDuration", "Unit": "Milliseconds"}],
}], separators=(",", ":"))


def line(tool: str, *, done: bool, milliseconds: float, at: float | None = None) -> str:
    """The EMF JSON of one finished job (at: epoch seconds, now by default)."""
    stamp = int((time.time() if at is None else at) * 1000)
    return (f'{{"_aws":{{"Timestamp":{stamp},"CloudWatchMetrics":{_DIRECTIVE}}},'
            f'"Tool":{json.dumps(tool)},"JobsDone":{int(done)},"JobsFailed":{int(not done)},'
            f'"JobDuration":{milliseconds:.1f}}}')


def job_finished(tool: str, *, done: bool, milliseconds: float) -> None:
    if log.isEnabledFor(logging.INFO):
        log.info(line(tool, done=done, milliseconds=milliseconds))


def install(stream=None) -> None:
    """Write the metric lines bare to `stream` (standard error), at INFO whatever the
    site's log level, unless LOGGING routed the logger already."""
    if log.handlers:
        return
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
