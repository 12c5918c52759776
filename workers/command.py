"""The base of every worker command: arguments, signals, and the consumer loop."""

import signal

from django.core.management.base import BaseCommand, CommandError

from .consumer import Consumer
from .tools import Tool


class WorkerCommand(BaseCommand):
    tool: Tool

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true",
                            help="Handle what is queued now, then exit.")
        parser.add_argument("--concurrency", type=int, default=1,
                            help="Jobs handled at once, in threads (default 1).")
        parser.add_argument("--visibility-timeout", type=int, default=60,
                            help="Seconds a received message stays hidden from other workers; "
                            "a heartbeat extends it while the job runs (default 60).")

    def handle(self, *args, once=False, concurrency=1, visibility_timeout=60, **options):
        try:
            consumer = Consumer(self.tool, concurrency=concurrency,
                                visibility_timeout=visibility_timeout)
        except ValueError as error:
            raise CommandError(str(error)) from None

        def on_signal(signum, frame):
            consumer.stop()

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        self.stdout.write(f"{self.tool.name} worker {consumer.worker} consuming "
                          f"{self.tool.request_queue} (concurrency {concurrency})")
        try:
            handled = consumer.run(once=once)
        finally:
            consumer.close()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.stdout.write(f"{self.tool.name} worker stopped after {handled} messages")
