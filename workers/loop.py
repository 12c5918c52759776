"""The one forever-loop: a step function run until stopped, with back-off and signals.

Every long-running command (the workers, reconcile_replies) is a thin shell around
a step that returns how much it did; `run` calls it until a signal sets `stopping`
(or, with once=True, until a step does nothing).
"""

import logging
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class StopNow(BaseException):
    """Raised by a signal handler to abandon a blocking call (a long poll) at once."""


def outage_delay(failures: int) -> int:
    """Seconds to wait after `failures` failed steps in a row: 2, 4, 8, 16, 30."""
    return min(30, 2 ** min(failures, 5))


def run(step: Callable[[], int], *, name: str, stopping: threading.Event,
        once: bool = False) -> int:
    """Call step() until stopping is set; return the sum of what the steps did.

    A step that raises is logged with its traceback and retried after a back-off
    (SQS or the database unreachable: wait, do not spin). StopNow ends the loop.
    """
    total, failures = 0, 0
    while not stopping.is_set():
        try:
            done = step()
        except StopNow:
            break
        except Exception as error:
            if stopping.is_set():
                # Stopping already (runlocal shut its emulator down, say): a step failing
                # now ends the loop with one line, not a traceback and a retry.
                log.info("%s: stopping after a failed step (%s)", name, error)
                break
            failures += 1
            delay = outage_delay(failures)
            log.exception("%s: a step failed, retrying in %ss", name, delay)
            stopping.wait(delay)
            continue
        failures = 0
        total += done
        if once and done == 0:
            break
    return total


@contextmanager
def signals_handled(handler: Callable, signals=STOP_SIGNALS) -> Iterator[None]:
    """Install `handler` for SIGTERM and SIGINT, and restore the previous handlers after,
    so that a command run in-process (a test) leaves Ctrl-C working."""
    previous = {sig: signal.signal(sig, handler) for sig in signals}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
