import signal
import threading

from django.core.management.base import BaseCommand

from workers.reconcile import reconcile
from workers.tools import TOOLS


class Command(BaseCommand):
    help = "Apply workers' replies to job rows, for as long as it runs (or once with --once)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Drain the replies, then exit.")
        parser.add_argument("--wait-time", type=int, default=5,
                            help="Seconds each receive long-polls a response queue (default 5).")

    def handle(self, *args, once=False, wait_time=5, **options):
        stopping = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda signum, frame: stopping.set())
        self.stdout.write("reconciling replies of " + ", ".join(t.name for t in TOOLS))
        failures = 0
        while not stopping.is_set():
            try:
                applied = sum(reconcile(tool, wait_time=1 if once else wait_time) for tool in TOOLS)
            except Exception as error:
                failures += 1
                delay = min(30, 2 ** min(failures, 5))
                self.stderr.write(f"reconcile failed ({error}); retrying in {delay}s")
                stopping.wait(delay)
                continue
            failures = 0
            if applied:
                self.stdout.write(f"applied {applied} replies")
            if once:
                break
