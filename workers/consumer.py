"""The generic consumer loop shared by every worker, pipelined.

The receiving thread keeps up to `concurrency` + PREFETCH unfinished messages in hand
(workers/inhand.py: one record per message, with its state): it receives again as soon
as there is room for a full batch, while jobs run in a pool of `concurrency` threads
(workers/handling.py runs one). Each finished job goes to the outbox
(workers/outbox.py), which sends replies and deletes requests in batches while jobs
keep finishing, and a heartbeat (workers/heartbeat.py) extends the visibility of every
message in hand until its job has finished. A request is deleted only after SQS
accepted its reply.
"""

import logging
import os
import socket
import threading
from concurrent.futures import ThreadPoolExecutor

from django.utils.module_loading import import_string

from jobs.tools import Tool

from . import aws, envelope, files, handling, loop
from .handling import Context, Handler, Outcome, describe
from .heartbeat import Heartbeat, change_visibility
from .inhand import SQS_BATCH, Hand, Held, State
from .outbox import RUNNING_AFTER_SECONDS, Outbox

__all__ = ["Consumer", "Context", "Handler", "Outcome", "describe", "worker_name"]

log = logging.getLogger(__name__)

# Messages received beyond `concurrency`, waiting for a thread: one receive's worth,
# so the next receive can go out while every thread is busy.
PREFETCH = 10


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Consumer:
    def __init__(self, tool: Tool, handler: Handler | None = None, *, concurrency: int = 1,
                 visibility_timeout: int = 60, retry_delay: int = 10,
                 worker: str | None = None, running_after: float = RUNNING_AFTER_SECONDS):
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
        self.worker = worker or worker_name()
        self.stopping = threading.Event()
        self._receiving = False
        self.hand = Hand(concurrency + PREFETCH)
        self._pool = ThreadPoolExecutor(concurrency, thread_name_prefix=f"{tool.name}-job")
        self.outbox = Outbox(self.hand, tool, self.worker, running_after)
        self.heartbeat = Heartbeat(self.hand, tool, visibility_timeout)

    def stop(self) -> None:
        """Stop receiving; jobs in hand finish. Safe to call from a signal handler."""
        self.stopping.set()
        if self._receiving and threading.current_thread() is threading.main_thread():
            raise loop.StopNow

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self.outbox.close()
        self.heartbeat.close()

    def abandon(self) -> int:
        """Hand every unfinished message back to the queue at once (the grace period ran out)."""
        receipts = {key: (receipt, 0) for key, (receipt, _) in
                    self.hand.unfinished_receipts(0).items()}
        change_visibility(self.tool.request_queue, receipts)
        return len(receipts)

    def backoff(self, receive_count: int) -> int:
        return handling.backoff(self.retry_delay, receive_count)

    # The receiving side: the loop's step.

    def run(self, once: bool = False) -> int:
        """Consume until stopped (or, with once, until a receive finds nothing); then hand
        back what has not started, and return once every message in hand is settled."""
        wait_time = 1 if once else aws.LONG_POLL_SECONDS
        self.prepare()
        try:
            return loop.run(lambda: self.step(wait_time), name=f"{self.tool.name} worker",
                            stopping=self.stopping, once=once)
        finally:
            if self.stopping.is_set():
                self.hand_back_waiting()
            self.hand.wait_until(lambda: not self.hand.records)

    def prepare(self) -> None:
        """Make the AWS clients before the first receive: one for SQS and one for the job
        files, shared by every thread (workers/files.py says why not one per thread), so
        that no message waits in hand while they are made."""
        try:
            aws.sqs()
            files.prepare()
        except Exception as error:  # a slow start is no reason not to work
            log.warning("%s worker: clients not prepared: %s", self.tool.name,
                        describe(error))

    def step(self, wait_time: int = aws.LONG_POLL_SECONDS) -> int:
        """Wait for room for a batch, then receive one and start its jobs; returns how many
        messages came. Raises what went wrong sending replies since the last step."""
        errors = self.outbox.take_errors()
        if errors:
            raise errors[0]
        # A signal sets stopping without notifying anyone: look again now and then.
        while not self.hand.wait_until(
                lambda: self.hand.room_locked() or self.stopping.is_set(), timeout=0.2):
            pass
        if self.stopping.is_set():
            return 0
        return len(self.receive(wait_time))

    def receive(self, wait_time: int) -> list[Held]:
        """Receive up to a batch that fits in hand and start its jobs; their records."""
        room = max(1, min(SQS_BATCH, self.hand.free()))
        self._receiving = True
        try:
            messages = aws.receive(self.tool.request_queue, wait_time=wait_time,
                                   visibility_timeout=self.visibility_timeout,
                                   max_messages=room)
        finally:
            self._receiving = False
        records = self.hand.take(messages)
        for record in records:
            self._pool.submit(self._work, record)
        return records

    def hand_back_waiting(self) -> int:
        """Hand the messages no job has started back to the queue at once."""
        waiting = self.hand.take_waiting()
        try:
            change_visibility(self.tool.request_queue,
                              {record.key: (record.receipt, 0) for record in waiting})
        finally:
            self.hand.settle(waiting)
        return len(waiting)

    # The job side: one thread of the pool per message.

    def _work(self, record: Held) -> None:
        if record.state is not State.WAITING:
            return  # handed back already
        stopping = self.stopping.is_set()
        payload = None if stopping else handling.decode(record.message, self.tool.name)
        context = None if payload is None else Context(
            job_id=payload["job_id"], worker=self.worker, started_at=envelope.timestamp(),
            receive_count=int(record.message.get("Attributes", {}).get(
                "ApproximateReceiveCount", 1)))
        token = None if payload is None else envelope.reply_token(payload)
        if not self.hand.start(record, context, token):
            return  # handed back meanwhile
        try:
            if stopping:
                outcome = Outcome(visibility=0)
            elif payload is None:
                outcome = Outcome()  # undecodable: left to come back, then dead-lettered
            else:
                outcome = handling.run(self.handler, self.tool.name, payload, context,
                                       retry_delay=self.retry_delay)
        except Exception:
            log.exception("%s worker: a job crashed; its message will come back", self.tool.name)
            outcome = Outcome()
        with self.hand.lock:
            self.hand.finish_locked(record, outcome)
            self.outbox.add_locked(record)
