"""Run a real worker command with a fault injected into its handler.

    python tests/workers/fault_worker.py run_calc_worker --once ...

FAULT_DELAY=seconds makes every job that slow; FAULT_MODE=poison makes every job
fail with a transient error. Everything else is the real command.
"""

import faulthandler
import os
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cloudsite.settings")

import django  # noqa: E402

django.setup()
faulthandler.register(signal.SIGUSR1)  # a test can ask where a stuck worker is

from django.core.management import call_command  # noqa: E402

from calc import handler  # noqa: E402

real_handle = handler.handle
delay = float(os.environ.get("FAULT_DELAY", "0"))
mode = os.environ.get("FAULT_MODE", "")


def faulty_handle(message, context):
    if mode == "poison":
        raise ConnectionError("injected fault: this job always fails")
    time.sleep(delay)
    return real_handle(message, context)


handler.handle = faulty_handle
call_command(*sys.argv[1:])
