"""The consumer as tests drive it: one batch at a time, waiting until it is settled."""

from workers import aws
from workers import consumer as module
from workers.inhand import State


class Consumer(module.Consumer):
    def process_batch(self, wait_time: int = aws.LONG_POLL_SECONDS) -> int:
        """Receive up to 10 requests and wait until each is settled (handled, replied,
        deleted). Returns how many were received; raises what went wrong sending."""
        records = self.receive(wait_time)
        self.hand.wait_until(lambda: all(r.state is State.SETTLED for r in records))
        errors = self.outbox.take_errors()
        if errors:
            raise errors[0]
        return len(records)
