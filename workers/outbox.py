"""The outbox: replies sent and requests deleted in micro-batches, from a thread of its own.

Each finished job's outcome waits here; a batch of 10 goes out at once, a partial batch
when nothing else is running, when no job has finished for FLUSH_GAP_SECONDS, or after
FLUSH_MAX_SECONDS. So a slow job never holds another job's reply or delete, and a busy
worker makes about three SQS calls per ten jobs. A request is deleted only after SQS
accepted its reply.

It also sends a "running" note for each job still unfinished RUNNING_AFTER_SECONDS
after it started, batched with the other replies. A calc job finishes in milliseconds
and never gets one (it would only add calls); a 12 MP photo takes seconds. A note is
never sent once its job's terminal reply is queued.
"""

import logging
import threading
import time

from . import aws, envelope, handling
from .inhand import SQS_BATCH, Hand, Held, State

log = logging.getLogger("workers.consumer")

# A partial batch of replies waits for more while jobs keep finishing: a full batch
# saves SQS calls (measured: with a fixed 50 ms wait, batches of about 5 and 1.4-1.5
# AWS calls per calc job on a busy 2-core machine, where jobs finish ~50 ms apart).
# It goes out once no job has finished for FLUSH_GAP_SECONDS (the rest are slow or
# absent: a slow job never holds the others' replies; 0.1 s still split batches when a
# loaded machine paused the jobs) and never waits longer than FLUSH_MAX_SECONDS, short
# beside a job's queueing time and the visibility timeout.
FLUSH_GAP_SECONDS = 0.15
FLUSH_MAX_SECONDS = 0.5
# Measured on the pic worker's mixed feed (bench/README.md): at 0.5 s, under load, 28 of
# 40 photos got a note at concurrency 4 (+0.35 calls per photo); at 1.0 s, 8 (+0.05).
# A job done within a second gains little from showing "running".
RUNNING_AFTER_SECONDS = 1.0


class Outbox:
    def __init__(self, hand: Hand, tool, worker: str,
                 running_after: float = RUNNING_AFTER_SECONDS):
        self.hand, self.tool, self.worker = hand, tool, worker
        self.running_after = running_after
        # (record, its running note) or (record, None): its outcome. Guarded by hand.lock.
        self._entries: list[tuple[Held, dict | None, float]] = []
        self._closed = False
        self._errors: list[Exception] = []
        self._thread = threading.Thread(target=self._send_forever, daemon=True,
                                        name=f"{tool.name}-outbox")
        self._thread.start()

    def add_locked(self, record: Held) -> None:
        """Queue a finished record's outcome (hand.lock held)."""
        self._entries.append((record, None, record.finished))
        self.hand.to_send.notify()

    def close(self) -> None:
        with self.hand.lock:
            self._closed = True
            self.hand.to_send.notify()
        self._thread.join()

    def take_errors(self) -> list[Exception]:
        """What went wrong sending since the last call (SQS refused a batch)."""
        with self.hand.lock:
            errors, self._errors = self._errors, []
        return errors

    def _send_forever(self) -> None:
        hand = self.hand
        while True:
            with hand.lock:
                while (wait := self._wait_locked()) > 0:
                    hand.to_send.wait(None if wait == float("inf") else wait)
                if not self._entries and self._closed:
                    return
                batch = self._take_batch_locked()
            if not batch:
                continue
            try:
                self._send(batch)
            except Exception as error:
                # SQS refused: the requests stay undeleted and come back after their
                # visibility timeout; the receiving thread backs off.
                log.exception("%s worker: could not send replies", self.tool.name)
                with hand.lock:
                    self._errors.append(error)
            finally:
                hand.settle([record for record, note, _ in batch if note is None])

    def _wait_locked(self) -> float:
        """Seconds to wait before sending (0: send now, or closed and empty); queues the
        running notes that are due on the way."""
        if self._closed:
            return 0
        now = time.monotonic()
        next_note = self._queue_notes_locked(now)
        if not self._entries:
            return next_note
        if len(self._entries) >= SQS_BATCH or not self.hand.unfinished:
            return 0
        due = min(self.hand.last_finished + FLUSH_GAP_SECONDS,
                  self._entries[0][2] + FLUSH_MAX_SECONDS)
        return min(max(0.0, due - now), next_note)

    def _queue_notes_locked(self, now: float) -> float:
        """Queue a running note for each job running longer than running_after; return
        the seconds until the next one is due (an unbounded wait when none can be)."""
        if not self.hand.unfinished:
            return float("inf")
        next_due = float("inf")
        for record in self.hand.records.values():
            if record.state is State.WAITING:
                next_due = min(next_due, now + self.running_after)
            elif record.state is State.RUNNING and not record.noted:
                due = record.started + self.running_after
                if due > now:
                    next_due = min(next_due, due)
                elif record.context is not None:
                    record.noted = True
                    context = record.context
                    self._entries.append((record, handling.running_note(
                        context.job_id, worker=self.worker, started_at=context.started_at,
                        token=record.token), now))
        return next_due - now

    def _take_batch_locked(self) -> list[tuple[Held, dict | None, float]]:
        batch = []
        while self._entries and len(batch) < SQS_BATCH:
            entry = self._entries.pop(0)
            record, note, _ = entry
            if note is not None and record.state is not State.RUNNING:
                continue  # its terminal reply is queued: the note would only trail it
            batch.append(entry)
        return batch

    def _send(self, batch: list[tuple[Held, dict | None, float]]) -> None:
        bodies, deletes, visibilities = {}, {}, {}
        for record, note, _ in batch:
            if note is not None:
                bodies[f"{record.key}r"] = envelope.encode(note)
                continue
            outcome = record.outcome
            if outcome.reply is not None:
                bodies[record.key] = handling.encode_reply(outcome.reply, self.worker,
                                                           self.tool.name)
            if outcome.delete:
                deletes[record.key] = record.receipt
            if outcome.visibility is not None:
                visibilities[record.key] = (record.receipt, outcome.visibility)
        unsent = aws.send_batch(self.tool.response_queue, bodies)
        # A request is deleted only once its reply is safely on the response queue.
        aws.delete_batch(self.tool.request_queue,
                         {key: receipt for key, receipt in deletes.items() if key not in unsent})
        aws.change_visibility_batch(self.tool.request_queue, visibilities)
