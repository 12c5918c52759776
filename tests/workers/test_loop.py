"""The forever-loop: a failing step is retried with a traceback, unless a stop was asked for
(runlocal shut the emulator down): then the first failure ends the loop in one line."""

import logging
import threading

from workers import loop


def test_a_step_failing_after_a_stop_ends_the_loop_quietly(caplog):
    stopping = threading.Event()
    calls = []

    def step():
        calls.append(1)
        stopping.set()  # a signal arrived while the step was talking to SQS...
        raise ConnectionError("connection refused")  # ...which had just gone away

    with caplog.at_level(logging.INFO, logger="workers.loop"):
        assert loop.run(step, name="calc worker", stopping=stopping) == 0
    assert calls == [1]
    assert [record.levelno for record in caplog.records] == [logging.INFO]
    assert "stopping after a failed step (connection refused)" in caplog.text
    assert not any(record.exc_info for record in caplog.records)


def test_without_a_stop_a_failing_step_is_logged_and_retried(caplog, monkeypatch):
    stopping = threading.Event()
    monkeypatch.setattr(loop, "outage_delay", lambda failures: 0)
    results = iter([ConnectionError("down"), 2, 0])

    def step():
        result = next(results)
        if isinstance(result, Exception):
            raise result
        return result

    assert loop.run(step, name="reconciler", stopping=stopping, once=True) == 2
    assert any(record.exc_info for record in caplog.records)
