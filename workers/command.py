"""The base of every worker command: arguments, signals, and the consumer loop."""

import logging
import os
import threading

from django.core.management.base import BaseCommand, CommandError

from jobs import tools
from jobs.tools import Tool

from . import loop, metrics
from .consumer import Consumer, Handler

log = logging.getLogger(__name__)


class WorkerCommand(BaseCommand):
    """A worker of one tool: `tool_name` names it, or, left None, the command's first
    argument does. Subclasses may add arguments (call super().add_arguments)."""

    tool_name: str | None = None
    tool: Tool

    def add_arguments(self, parser):
        if self.tool_name is None:
            parser.add_argument("tool", help="Name of the tool to work for, e.g. calc.")
        parser.add_argument("--once", action="store_true",
                            help="Handle what is queued now, then exit.")
        parser.add_argument("--concurrency", type=int, default=1,
                            help="Jobs handled at once, in threads (default 1); up to 10 "
                            "more messages wait in hand, so values above 10 help too.")
        parser.add_argument("--visibility-timeout", type=int, default=60,
                            help="Seconds a received message stays hidden from other workers; "
                            "a heartbeat extends it while the job runs (default 60).")
        parser.add_argument("--retry-delay", type=int, default=10,
                            help="Seconds before a job that failed transiently is tried again, "
                            "doubling with each attempt (default 10).")
        parser.add_argument("--grace-period", type=int, default=60,
                            help="After SIGTERM, seconds the jobs in hand may take to finish "
                            "before they are handed back to the queue (default 60).")

    def make_handler(self, **options) -> Handler | None:
        """The handler the consumer calls; None: the tool's own (Tool.handler)."""
        return None

    def handle(self, *args, once=False, concurrency=1, visibility_timeout=60, retry_delay=10,
               grace_period=60, **options):
        try:
            self.tool = tools.get(options.get("tool") or self.tool_name)
        except LookupError as error:
            raise CommandError(str(error)) from None
        metrics.install()
        try:
            consumer = Consumer(self.tool, self.make_handler(concurrency=concurrency, **options),
                                concurrency=concurrency, visibility_timeout=visibility_timeout,
                                retry_delay=retry_delay)
        except ValueError as error:
            raise CommandError(str(error)) from None

        def give_up():
            handed_back = consumer.abandon()
            log.warning("%s worker: grace period over, handed back %s jobs", self.tool.name,
                        handed_back)
            os._exit(0)  # the threads still running jobs cannot be interrupted otherwise

        def on_signal(signum, frame):
            if not consumer.stopping.is_set():
                timer = threading.Timer(grace_period, give_up)
                timer.daemon = True
                timer.start()
            consumer.stop()

        self.stdout.write(f"{self.tool.name} worker {consumer.worker} consuming "
                          f"{self.tool.request_queue} (concurrency {concurrency})")
        with loop.signals_handled(on_signal):
            try:
                handled = consumer.run(once=once)
            finally:
                consumer.close()
        self.stdout.write(f"{self.tool.name} worker stopped after {handled} messages")
