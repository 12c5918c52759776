"""The heartbeat: keeps every unfinished message hidden while its job waits or runs."""

import logging
import threading

from . import aws
from .inhand import SQS_BATCH, Hand

log = logging.getLogger("workers.consumer")


def change_visibility(queue: str, receipts: dict[str, tuple[str, int]]) -> None:
    """Set {key: (receipt, seconds)} in batches of ten."""
    items = list(receipts.items())
    for start in range(0, len(items), SQS_BATCH):
        aws.change_visibility_batch(queue, dict(items[start:start + SQS_BATCH]))


class Heartbeat:
    """Every visibility_timeout / 3 seconds (at least 1), one batch call per ten messages
    whose job has not finished; it wakes for nothing else."""

    def __init__(self, hand: Hand, tool, visibility_timeout: int):
        self.hand, self.tool, self.visibility_timeout = hand, tool, visibility_timeout
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._beat, daemon=True,
                                        name=f"{tool.name}-heartbeat")
        self._thread.start()

    def close(self) -> None:
        self._stopped.set()
        self._thread.join()

    def _beat(self) -> None:
        interval = max(1.0, self.visibility_timeout / 3)
        while not self._stopped.wait(interval):
            try:
                change_visibility(self.tool.request_queue,
                                  self.hand.unfinished_receipts(self.visibility_timeout))
            except Exception:
                log.exception("%s worker: heartbeat failed", self.tool.name)
