"""The generic consumer loop shared by every worker, pipelined.

The receiving thread keeps up to `concurrency` + PREFETCH unfinished messages
in hand: it receives again as soon as there is room for a full batch, while jobs
run in a pool of `concurrency` threads. Each finished job goes to the outbox,
which sends replies and deletes requests in batches of 10 while jobs keep
finishing; a partial batch goes out when nothing else is running, when no job
has finished for FLUSH_GAP_SECONDS, or after FLUSH_MAX_SECONDS. So a slow job
never holds another job's reply or delete, nor the next receive, and a busy
worker makes about three SQS calls per ten jobs. A request is
deleted only after SQS accepted its reply; a heartbeat extends the visibility
of every message in hand until its job has finished.

A handler takes a decoded request and a Context and returns the reply's result
fields; it raises PermanentError for bad input. Anything else it raises is
taken as transient: the message is left to come back, and the dead-letter
queue catches what never succeeds.
"""

import itertools
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.core.files.storage import default_storage
from django.utils.module_loading import import_string

from jobs.tools import Tool

from . import aws, envelope, loop, pool

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Context:
    job_id: str
    worker: str
    started_at: str
    receive_count: int


Handler = Callable[[dict, Context], dict]


@dataclass
class Outcome:
    reply: dict | None = None
    delete: bool = False
    # Seconds until the message may be received again; 0 hands it back at once.
    visibility: int | None = None


MAX_RETRY_DELAY = 900
# Messages received beyond `concurrency`, waiting for a thread: one receive's worth,
# so the next receive can go out while every thread is busy.
PREFETCH = 10
SQS_BATCH = 10  # SQS's limit of entries per batch call
# A partial batch of replies waits for more while jobs keep finishing: a full batch
# saves SQS calls (measured: with a fixed 50 ms wait, batches of about 5 and 1.4-1.5
# AWS calls per calc job on a busy 2-core machine, where jobs finish ~50 ms apart).
# It goes out once no job has finished for FLUSH_GAP_SECONDS (the rest are slow or
# absent: a slow job never holds the others' replies; 0.1 s still split batches when a
# loaded machine paused the jobs) and never waits longer than FLUSH_MAX_SECONDS, short
# beside a job's queueing time and the visibility timeout.
FLUSH_GAP_SECONDS = 0.15
FLUSH_MAX_SECONDS = 0.5
# How long start-up waits for every job thread to be up and connected to storage.
PREPARE_TIMEOUT_SECONDS = 30


def describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:500]


def _connect_storage() -> None:
    # The property makes this thread's connection; other storages have none.
    getattr(default_storage, "connection", None)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Consumer:
    def __init__(self, tool: Tool, handler: Handler | None = None, *, concurrency: int = 1,
                 visibility_timeout: int = 60, retry_delay: int = 10,
                 worker: str | None = None):
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if visibility_timeout < 1:
            raise ValueError("visibility timeout must be at least 1 second")
        if retry_delay < 0:
            raise ValueError("retry delay cannot be negative")
        self.tool = tool
        self.handler = handler or import_string(tool.handler)
        self.concurrency = concurrency
        self.capacity = concurrency + PREFETCH
        self.visibility_timeout = visibility_timeout
        self.retry_delay = retry_delay
        self.worker = worker or worker_name()
        self.stopping = threading.Event()
        self._receiving = False
        self._closed = False
        self._keys = itertools.count()
        # Guards the collections below; notified whenever one of them changes.
        self._changed = threading.Condition()
        self._in_hand: dict[str, dict] = {}  # received and not yet settled
        self._unfinished: set[str] = set()  # in hand, job not finished: the heartbeat's
        self._unstarted: set[str] = set()  # in hand, waiting for a thread
        # Finished, reply and delete to send: (key, outcome, when it finished).
        self._outbox: list[tuple[str, Outcome, float]] = []
        self._last_finished = 0.0
        self._flush_errors: list[Exception] = []
        self._pool = ThreadPoolExecutor(concurrency, thread_name_prefix=f"{tool.name}-job")
        self._threads = [
            threading.Thread(target=target, name=f"{tool.name}-{name}", daemon=True)
            for name, target in (("outbox", self._send_outbox), ("heartbeat", self._beat))]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Stop receiving; jobs in hand finish. Safe to call from a signal handler."""
        self.stopping.set()
        if self._receiving and threading.current_thread() is threading.main_thread():
            raise loop.StopNow

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        for thread in self._threads:
            thread.join()

    def abandon(self) -> int:
        """Hand every unfinished message back to the queue at once (the grace period ran out)."""
        with self._changed:
            receipts = {key: (self._in_hand[key]["ReceiptHandle"], 0)
                        for key in self._unfinished}
        self._change_visibility(receipts)
        return len(receipts)

    def backoff(self, receive_count: int) -> int:
        """Seconds before a transiently failed message comes back: doubling per receive."""
        return min(MAX_RETRY_DELAY, self.retry_delay * 2 ** max(0, receive_count - 1))

    # The receiving side: the loop's step.

    def run(self, once: bool = False) -> int:
        """Consume until stopped (or, with once, until a receive finds nothing); then hand
        back what has not started, and return once every message in hand is settled."""
        wait_time = 1 if once else aws.LONG_POLL_SECONDS
        self.prepare_threads()
        try:
            return loop.run(lambda: self.step(wait_time), name=f"{self.tool.name} worker",
                            stopping=self.stopping, once=once)
        finally:
            if self.stopping.is_set():
                self.hand_back_unstarted()
            self._wait_until(lambda: not self._in_hand)

    def prepare_threads(self) -> None:
        """Start every job thread and make its storage connection, before the first receive.

        django-storages' S3 backend makes a boto3 session per thread on first use: 0.1-0.35 s
        of CPU each, and seconds when eight threads start at once (measured: 2.2 s for
        eight). Made lazily, that time fell on the first jobs, with their messages in hand
        and their visibility timeout running, and split the first reply batches.
        """
        error = pool.run_in_each_thread(self._pool, self.concurrency, _connect_storage,
                                        timeout=PREPARE_TIMEOUT_SECONDS)
        if error:  # a slow start is no reason not to work: the jobs connect lazily
            log.warning("%s worker: job threads not prepared: %s", self.tool.name,
                        describe(error))

    def step(self, wait_time: int = aws.LONG_POLL_SECONDS) -> int:
        """Wait for room for a batch, then receive one and start its jobs; returns how many
        messages came. Raises what went wrong sending replies since the last step."""
        self._raise_flush_error()
        # A signal sets stopping without notifying anyone: look again now and then.
        while not self._wait_until(lambda: self._room() or self.stopping.is_set(),
                                   timeout=0.2):
            pass
        if self.stopping.is_set():
            return 0
        return len(self._receive(wait_time))

    def process_batch(self, wait_time: int = aws.LONG_POLL_SECONDS) -> int:
        """Receive up to 10 requests and wait until each is settled (handled, replied,
        deleted). Returns how many were received."""
        keys = self._receive(wait_time)
        self._wait_until(lambda: not any(key in self._in_hand for key in keys))
        self._raise_flush_error()
        return len(keys)

    def hand_back_unstarted(self) -> int:
        with self._changed:
            keys, self._unstarted = list(self._unstarted), set()
            receipts = {key: (self._in_hand[key]["ReceiptHandle"], 0) for key in keys}
        try:
            self._change_visibility(receipts)
        finally:
            self._settled(keys)
        return len(keys)

    def _free(self) -> int:
        """Messages that may still be taken in hand (the lock is held). Finished jobs
        waiting in the outbox need no thread and do not count against capacity, or a batch
        filling up there would hold back the receive that feeds it; one extra batch's
        worth bounds them."""
        return min(self.capacity - len(self._unfinished),
                   self.capacity + SQS_BATCH - len(self._in_hand))

    def _room(self) -> bool:
        """Room for a full batch (one receive call per ten jobs)."""
        return self._free() >= min(SQS_BATCH, self.capacity)

    def _receive(self, wait_time: int) -> list[str]:
        with self._changed:
            room = max(1, min(SQS_BATCH, self._free()))
        self._receiving = True
        try:
            messages = aws.receive(self.tool.request_queue, wait_time=wait_time,
                                   visibility_timeout=self.visibility_timeout,
                                   max_messages=room)
        finally:
            self._receiving = False
        keys = [str(next(self._keys)) for _ in messages]
        with self._changed:
            for key, message in zip(keys, messages, strict=True):
                self._in_hand[key] = message
                self._unfinished.add(key)
                self._unstarted.add(key)
        for key, message in zip(keys, messages, strict=True):
            self._pool.submit(self._work, key, message)
        return keys

    def _wait_until(self, predicate, timeout: float | None = None) -> bool:
        # Not self.stopping.wait: that is the loop's back-off alone.
        with self._changed:
            return self._changed.wait_for(predicate, timeout)

    def _raise_flush_error(self) -> None:
        with self._changed:
            errors, self._flush_errors = self._flush_errors, []
        if errors:
            raise errors[0]

    # The job side: one thread of the pool per message.

    def _work(self, key: str, message: dict) -> None:
        with self._changed:
            if key not in self._unstarted:
                return  # handed back already
            self._unstarted.discard(key)
        try:
            outcome = Outcome(visibility=0) if self.stopping.is_set() else \
                self.handle_message(message)
        except Exception:
            log.exception("%s worker: a job crashed; its message will come back", self.tool.name)
            outcome = Outcome()
        with self._changed:
            self._unfinished.discard(key)
            self._last_finished = time.monotonic()
            self._outbox.append((key, outcome, self._last_finished))
            self._changed.notify_all()

    def handle_message(self, message: dict) -> Outcome:
        try:
            payload = envelope.decode(message["Body"])
        except envelope.UndecodableMessage as error:
            log.error("%s worker: undecodable message %s left for the dead-letter queue: %s",
                      self.tool.name, message.get("MessageId"), error)
            return Outcome()
        job_id = payload["job_id"]
        context = Context(
            job_id=job_id,
            worker=self.worker,
            started_at=envelope.timestamp(),
            receive_count=int(message.get("Attributes", {}).get("ApproximateReceiveCount", 1)),
        )
        started = time.monotonic()
        try:
            envelope.check_version(payload)
            result = self.handler(payload, context)
            reply = envelope.reply(job_id, worker=self.worker, started_at=context.started_at,
                                   result=result)
            log.info("%s job %s done in %.0f ms", self.tool.name, job_id,
                     (time.monotonic() - started) * 1000)
        except envelope.PermanentError as error:
            reply = envelope.reply(job_id, worker=self.worker, started_at=context.started_at,
                                   error=str(error))
            log.info("%s job %s failed: %s", self.tool.name, job_id, error)
        except Exception as error:
            delay = self.backoff(context.receive_count)
            log.exception("%s job %s: transient failure (receive %s), back in %s s",
                          self.tool.name, job_id, context.receive_count, delay)
            note = envelope.progress(job_id, worker=self.worker, error=describe(error),
                                     attempt=context.receive_count)
            return Outcome(reply=envelope.bind(note, payload), visibility=delay)
        return Outcome(reply=envelope.bind(reply, payload), delete=True)

    # The outbox: replies and deletes in micro-batches, from a thread of its own.

    def _send_outbox(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._outbox or self._closed)
                if not self._outbox:
                    return  # closed
                while (wait := self._flush_wait()) > 0:
                    self._changed.wait(wait)
                batch = [(key, outcome) for key, outcome, _ in self._outbox[:SQS_BATCH]]
                self._outbox = self._outbox[SQS_BATCH:]
            try:
                self._settle(batch)
            except Exception as error:
                # SQS refused: the requests stay undeleted and come back after their
                # visibility timeout; the receiving thread backs off.
                log.exception("%s worker: could not send replies", self.tool.name)
                with self._changed:
                    self._flush_errors.append(error)
            finally:
                self._settled([key for key, _ in batch])

    def _flush_wait(self) -> float:
        """Seconds the outbox should still wait for more entries (0: send now). The lock
        is held; waiting on the condition wakes early whenever another job finishes."""
        if len(self._outbox) >= SQS_BATCH or not self._unfinished or self._closed:
            return 0
        due = min(self._last_finished + FLUSH_GAP_SECONDS,
                  self._outbox[0][2] + FLUSH_MAX_SECONDS)
        return max(0.0, due - time.monotonic())

    def _settle(self, batch: list[tuple[str, Outcome]]) -> None:
        with self._changed:
            messages = {key: self._in_hand[key] for key, _ in batch}
        outcomes = dict(batch)
        bodies = {key: self._encode_reply(outcome.reply)
                  for key, outcome in outcomes.items() if outcome.reply is not None}
        unsent = aws.send_batch(self.tool.response_queue, bodies)
        # A request is deleted only once its reply is safely on the response queue.
        aws.delete_batch(self.tool.request_queue, {
            key: messages[key]["ReceiptHandle"]
            for key, outcome in outcomes.items() if outcome.delete and key not in unsent
        })
        aws.change_visibility_batch(self.tool.request_queue, {
            key: (messages[key]["ReceiptHandle"], outcome.visibility)
            for key, outcome in outcomes.items() if outcome.visibility is not None
        })

    def _settled(self, keys: list[str]) -> None:
        with self._changed:
            for key in keys:
                self._in_hand.pop(key, None)
                self._unfinished.discard(key)
            self._changed.notify_all()

    def _encode_reply(self, reply: dict) -> str:
        try:
            return envelope.encode(reply)
        except ValueError as error:
            log.error("%s job %s: reply not sendable: %s", self.tool.name, reply["job_id"], error)
            return envelope.encode(envelope.bind(envelope.reply(
                reply["job_id"], worker=self.worker, started_at=reply.get("started_at", ""),
                error=f"the result could not be sent: {error}"), reply))

    # The heartbeat: keep every unfinished message hidden while its job waits or runs.

    def _beat(self) -> None:
        interval = max(1.0, self.visibility_timeout / 3)
        while True:
            with self._changed:
                if self._changed.wait_for(lambda: self._closed, timeout=interval):
                    return
                receipts = {key: (self._in_hand[key]["ReceiptHandle"], self.visibility_timeout)
                            for key in self._unfinished}
            try:
                self._change_visibility(receipts)
            except Exception:
                log.exception("%s worker: heartbeat failed", self.tool.name)

    def _change_visibility(self, receipts: dict[str, tuple[str, int]]) -> None:
        items = list(receipts.items())
        for start in range(0, len(items), SQS_BATCH):
            aws.change_visibility_batch(self.tool.request_queue,
                                        dict(items[start:start + SQS_BATCH]))
