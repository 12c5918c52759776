import logging
import threading
import time

from django.core.management.base import BaseCommand

from jobs import tools
from workers import loop
from workers.reconcile import drain_dead_letters, reconcile
from workers.sweep import sweep

log = logging.getLogger(__name__)

SWEEP_EVERY = 15  # seconds


class Command(BaseCommand):
    help = ("Apply workers' replies to job rows, fail jobs whose requests reached a "
            "dead-letter queue, and re-send lost ones; for as long as it runs (or once).")

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true",
                            help="Drain replies and dead letters and sweep until there is "
                            "nothing left to do, then exit.")
        parser.add_argument("--wait-time", type=int, default=2,
                            help="Seconds each receive long-polls a response queue (default 2; "
                            "a stop waits for at most one poll per tool).")

    def handle(self, *args, once=False, wait_time=2, **options):
        self.wait_time = 1 if once else wait_time
        self.once = once
        self.next_sweep = 0.0
        stopping = threading.Event()
        installed = ", ".join(tool.name for tool in tools.installed())
        self.stdout.write(f"reconciling replies of {installed}")
        with loop.signals_handled(lambda signum, frame: stopping.set()):
            total = loop.run(self.step, name="reconciler", stopping=stopping, once=once)
        self.stdout.write(f"reconciler stopped after {total} changes")

    def step(self) -> int:
        """Drain every tool's replies and dead letters, and sweep when due; return how many
        job rows changed."""
        sweep_now = self.once or time.monotonic() >= self.next_sweep
        changed = 0
        for tool in tools.installed():
            applied = reconcile(tool, wait_time=self.wait_time)
            dead = drain_dead_letters(tool)
            if applied or dead:
                self.stdout.write(f"{tool.name}: applied {applied} replies, "
                                  f"failed {dead} dead letters")
            changed += applied + dead
            if sweep_now:
                counts = sweep(tool)
                if any(counts.values()):
                    self.stdout.write(f"{tool.name}: sweep {counts}")
                changed += sum(counts.values())
        if sweep_now:
            self.next_sweep = time.monotonic() + SWEEP_EVERY
        return changed
