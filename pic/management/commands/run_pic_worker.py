import os

from django.core.management.base import CommandError

from pic import handler
from workers.command import WorkerCommand


def available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class Command(WorkerCommand):
    help = "Run a CloudPic worker: consume cloudpic-inbox, reply on cloudpic-outbox."
    tool_name = "pic"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--threads", type=int, default=None,
                            help="Threads each job uses to apply its enhancement (default: "
                            "the CPUs divided by --concurrency, at least 1), so that jobs "
                            "times threads matches the machine.")

    def make_handler(self, *, concurrency=1, threads=None, **options) -> handler.Handler:
        if threads is None:
            threads = max(1, available_cpus() // max(concurrency or 1, 1))
        if threads < 1:
            raise CommandError(f"--threads must be at least 1, not {threads}")
        self.stdout.write(f"pic jobs use {threads} thread(s) each")
        return handler.Handler(threads)
