import signal
import threading
import time

from django.core.management.base import BaseCommand

from workers import aws
from workers.reconcile import drain_dead_letters, reconcile
from workers.sweep import sweep
from workers.tools import TOOLS

SWEEP_EVERY = 15  # seconds


class Command(BaseCommand):
    help = ("Apply workers' replies to job rows, fail jobs whose requests reached a "
            "dead-letter queue, and re-send lost ones; for as long as it runs (or once).")

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true",
                            help="Drain replies and dead letters, sweep once, then exit.")
        parser.add_argument("--wait-time", type=int, default=2,
                            help="Seconds each receive long-polls a response queue (default 2; "
                            "a stop waits for at most one poll per tool).")

    def handle(self, *args, once=False, wait_time=2, **options):
        stopping = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda signum, frame: stopping.set())
        self.stdout.write("reconciling replies of " + ", ".join(t.name for t in TOOLS))
        failures, next_sweep = 0, 0.0
        while not stopping.is_set():
            sweep_now = once or time.monotonic() >= next_sweep
            try:
                self.step(wait_time=1 if once else wait_time, sweep_now=sweep_now)
            except Exception as error:
                failures += 1
                delay = aws.outage_delay(failures)
                self.stderr.write(f"reconcile failed ({error}); retrying in {delay}s")
                stopping.wait(delay)
                continue
            failures = 0
            if sweep_now:
                next_sweep = time.monotonic() + SWEEP_EVERY
            if once:
                break

    def step(self, wait_time: int, sweep_now: bool) -> None:
        for tool in TOOLS:
            applied = reconcile(tool, wait_time=wait_time)
            dead = drain_dead_letters(tool)
            if applied or dead:
                self.stdout.write(f"{tool.name}: applied {applied} replies, "
                                  f"failed {dead} dead letters")
            if sweep_now:
                counts = sweep(tool)
                if any(counts.values()):
                    self.stdout.write(f"{tool.name}: sweep {counts}")
