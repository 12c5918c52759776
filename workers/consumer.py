"""The generic consumer loop shared by every worker.

A handler takes a decoded request and a Context and returns the reply's result
fields; it raises PermanentError for bad input. Anything else it raises is
taken as transient: the message is left to come back, and the dead-letter
queue catches what never succeeds.
"""

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

from django.utils.module_loading import import_string

from . import aws, envelope, loop
from .tools import Tool

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


def describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:500]


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
        self.visibility_timeout = visibility_timeout
        self.retry_delay = retry_delay
        self._in_hand: dict[str, dict] = {}
        self.worker = worker or worker_name()
        self.stopping = threading.Event()
        self._receiving = False
        self._pool = ThreadPoolExecutor(concurrency, thread_name_prefix=f"{tool.name}-job")

    def stop(self) -> None:
        """Stop receiving; jobs in hand finish. Safe to call from a signal handler."""
        self.stopping.set()
        if self._receiving and threading.current_thread() is threading.main_thread():
            raise loop.StopNow

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def abandon(self) -> int:
        """Hand every message still in hand back to the queue at once (the grace period ran out)."""
        receipts = {key: (message["ReceiptHandle"], 0)
                    for key, message in list(self._in_hand.items())}
        aws.change_visibility_batch(self.tool.request_queue, receipts)
        return len(receipts)

    def backoff(self, receive_count: int) -> int:
        """Seconds before a transiently failed message comes back: doubling per receive."""
        return min(MAX_RETRY_DELAY, self.retry_delay * 2 ** max(0, receive_count - 1))

    def run(self, once: bool = False) -> int:
        """Consume until stopped (or, with once, until a receive finds nothing)."""
        wait_time = 1 if once else aws.LONG_POLL_SECONDS
        return loop.run(lambda: self.process_batch(wait_time=wait_time),
                        name=f"{self.tool.name} worker", stopping=self.stopping, once=once)

    def process_batch(self, wait_time: int = aws.LONG_POLL_SECONDS) -> int:
        """Receive up to 10 requests, handle them, reply, delete. Returns how many were received."""
        self._receiving = True
        try:
            messages = aws.receive(self.tool.request_queue, wait_time=wait_time,
                                   visibility_timeout=self.visibility_timeout)
        finally:
            self._receiving = False
        if not messages:
            return 0
        entries = {str(index): message for index, message in enumerate(messages)}
        with self._heartbeat(entries) as in_hand:
            self._in_hand = in_hand
            results = self._pool.map(
                lambda key: self._handle_in_hand(key, entries[key], in_hand), entries)
            outcomes = dict(zip(entries, results, strict=True))
        self._settle(entries, outcomes)
        return len(messages)

    def _handle_in_hand(self, key: str, message: dict, in_hand: dict) -> Outcome:
        try:
            if self.stopping.is_set():
                return Outcome(visibility=0)
            return self.handle_message(message)
        finally:
            in_hand.pop(key, None)

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
            return Outcome(reply=note, visibility=delay)
        return Outcome(reply=reply, delete=True)

    def _settle(self, entries: dict[str, dict], outcomes: dict[str, Outcome]) -> None:
        bodies = {}
        for key, outcome in outcomes.items():
            if outcome.reply is not None:
                bodies[key] = self._encode_reply(outcome.reply)
        unsent = aws.send_batch(self.tool.response_queue, bodies)
        # A request is deleted only once its reply is safely on the response queue.
        aws.delete_batch(self.tool.request_queue, {
            key: entries[key]["ReceiptHandle"]
            for key, outcome in outcomes.items() if outcome.delete and key not in unsent
        })
        aws.change_visibility_batch(self.tool.request_queue, {
            key: (entries[key]["ReceiptHandle"], outcome.visibility)
            for key, outcome in outcomes.items() if outcome.visibility is not None
        })

    def _encode_reply(self, reply: dict) -> str:
        try:
            return envelope.encode(reply)
        except ValueError as error:
            log.error("%s job %s: reply not sendable: %s", self.tool.name, reply["job_id"], error)
            return envelope.encode(envelope.reply(
                reply["job_id"], worker=self.worker, started_at=reply.get("started_at", ""),
                error=f"the result could not be sent: {error}"))

    @contextmanager
    def _heartbeat(self, entries: dict[str, dict]):
        """Keep extending the visibility of the messages in hand until they are handled."""
        in_hand = dict(entries)
        done = threading.Event()
        interval = max(1.0, self.visibility_timeout / 3)

        def beat():
            while not done.wait(interval):
                receipts = {key: (message["ReceiptHandle"], self.visibility_timeout)
                            for key, message in list(in_hand.items())}
                if not receipts:
                    continue
                try:
                    aws.change_visibility_batch(self.tool.request_queue, receipts)
                except Exception:
                    log.exception("%s worker: heartbeat failed", self.tool.name)

        thread = threading.Thread(target=beat, name=f"{self.tool.name}-heartbeat", daemon=True)
        thread.start()
        try:
            yield in_hand
        finally:
            done.set()
            thread.join()
