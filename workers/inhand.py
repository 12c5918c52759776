"""The messages a worker holds: one record per message, with an explicit state.

A message is taken in hand when a receive brings it (WAITING for a job thread),
RUNNING while its job runs, FINISHED once its outcome waits in the outbox, and
SETTLED when its reply was sent and it was deleted or handed back: then it is no
longer in hand. One lock guards every record and the counts; two conditions on it
wake the receiving side (room for a batch, or messages settled) and the outbox
(something to send), each only for what it waits for.
"""

import enum
import itertools
import threading
import time
from dataclasses import dataclass

from .handling import Context, Outcome

SQS_BATCH = 10  # SQS's limit of entries per batch call


class State(enum.Enum):
    WAITING = "waiting for a job thread"
    RUNNING = "its job is running"
    FINISHED = "its outcome waits in the outbox"
    SETTLED = "replied to, deleted or handed back: no longer in hand"


@dataclass(eq=False)
class Held:
    key: str  # the entry id in SQS batch calls, unique in this worker
    message: dict
    state: State = State.WAITING
    context: Context | None = None  # set when its job starts (an undecodable one has none)
    token: str | None = None  # the request's reply token, echoed in every reply
    started: float = 0.0  # time.monotonic() when its job started
    noted: bool = False  # a "running" note was queued for it
    outcome: Outcome | None = None
    finished: float = 0.0

    @property
    def receipt(self) -> str:
        return self.message["ReceiptHandle"]


class Hand:
    """Every message in hand. Methods named *_locked expect the lock held."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self.lock = threading.Lock()
        self.settled = threading.Condition(self.lock)  # room freed, or records settled
        self.to_send = threading.Condition(self.lock)  # the outbox has something new
        self.records: dict[str, Held] = {}
        self.unfinished = 0  # WAITING or RUNNING
        self.last_finished = 0.0
        self._keys = itertools.count()

    def free_locked(self) -> int:
        """Messages that may still be taken in hand. Finished jobs waiting in the outbox
        need no thread and do not count against capacity, or a batch filling up there
        would hold back the receive that feeds it; one extra batch's worth bounds them."""
        return min(self.capacity - self.unfinished,
                   self.capacity + SQS_BATCH - len(self.records))

    def room_locked(self) -> bool:
        """Room for a full batch (one receive call per ten jobs)."""
        return self.free_locked() >= min(SQS_BATCH, self.capacity)

    def free(self) -> int:
        with self.lock:
            return self.free_locked()

    def take(self, messages: list[dict]) -> list[Held]:
        with self.lock:
            records = [Held(str(next(self._keys)), message) for message in messages]
            for record in records:
                self.records[record.key] = record
            self.unfinished += len(records)
            if records:
                self.to_send.notify()  # the outbox times the "running" notes of these
        return records

    def start(self, record: Held, context: Context | None, token: str | None) -> bool:
        """WAITING -> RUNNING; False if the message was handed back before its turn."""
        with self.lock:
            if record.state is not State.WAITING:
                return False
            record.state, record.context, record.token = State.RUNNING, context, token
            record.started = time.monotonic()
        return True

    def finish_locked(self, record: Held, outcome: Outcome) -> None:
        """RUNNING -> FINISHED (the caller queues it in the outbox)."""
        record.state, record.outcome = State.FINISHED, outcome
        record.finished = self.last_finished = time.monotonic()
        self.unfinished -= 1
        if self.room_locked():
            self.settled.notify_all()

    def take_waiting(self) -> list[Held]:
        """The messages no job thread has started: they will not be (stopping)."""
        with self.lock:
            waiting = [r for r in self.records.values() if r.state is State.WAITING]
            for record in waiting:
                record.state = State.FINISHED
            self.unfinished -= len(waiting)
        return waiting

    def settle(self, records: list[Held]) -> None:
        with self.lock:
            for record in records:
                if self.records.pop(record.key, None) is None:
                    continue
                if record.state in (State.WAITING, State.RUNNING):
                    self.unfinished -= 1
                record.state = State.SETTLED
            self.settled.notify_all()

    def unfinished_receipts(self, seconds: int) -> dict[str, tuple[str, int]]:
        """{key: (receipt, seconds)} of every message whose job has not finished."""
        with self.lock:
            return {record.key: (record.receipt, seconds) for record in self.records.values()
                    if record.state in (State.WAITING, State.RUNNING)}

    def wait_until(self, predicate, timeout: float | None = None) -> bool:
        """Wait (woken when room frees up or records settle) until predicate() holds."""
        with self.lock:
            return self.settled.wait_for(predicate, timeout)
