"""The naive worker the benchmark compares CloudSite's with: one message at a time.

Receive one, handle it, send one reply, delete one -- four calls per job plus what the
handler itself makes, each paying a full round trip.  It uses the project's own handler
and envelope, so the work per job is the same as CloudSite's worker does.

    python bench/naive_worker.py calc|pic      (environment as for run_calc_worker)
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def naive_step(tool, handler, worker: str = "naive", wait_time: int = 1) -> int:
    """Handle at most one request; return how many were received (0 or 1)."""
    from workers import aws, envelope
    from workers.consumer import Context

    sqs = aws.sqs()
    messages = aws.receive(tool.request_queue, wait_time=wait_time, max_messages=1)
    if not messages:
        return 0
    message = messages[0]
    payload = envelope.decode(message["Body"])
    context = Context(job_id=payload["job_id"], worker=worker,
                      started_at=envelope.timestamp(), receive_count=1)
    try:
        reply = envelope.reply(payload["job_id"], worker=worker, started_at=context.started_at,
                               result=handler(payload, context))
    except envelope.PermanentError as error:
        reply = envelope.reply(payload["job_id"], worker=worker, started_at=context.started_at,
                               error=str(error))
    sqs.send_message(QueueUrl=aws.queue_url(tool.response_queue),
                     MessageBody=envelope.encode(reply))
    sqs.delete_message(QueueUrl=aws.queue_url(tool.request_queue),
                       ReceiptHandle=message["ReceiptHandle"])
    return 1


def main(tool_name: str) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cloudsite.settings")
    import django

    django.setup()
    from django.utils.module_loading import import_string

    from jobs import tools

    tool = tools.get(tool_name)
    handler = import_string(tool.handler)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stopping.set())
    while not stopping.is_set():
        naive_step(tool, handler)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "calc")
