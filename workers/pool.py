"""Starting a job pool's threads up front, each running one task first."""

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor


def run_in_each_thread(pool: ThreadPoolExecutor, size: int, task: Callable[[], object],
                       timeout: float) -> Exception | None:
    """Run task once in each of the pool's `size` threads (starting them), and return the
    first error, if any. A barrier holds each run until all are running: otherwise a
    thread done early could take a second run while another thread never starts.
    ThreadPoolExecutor's own initializer would do this lazily, and a failing one breaks
    the pool for good."""
    barrier = threading.Barrier(size, timeout=timeout)

    def run() -> None:
        task()
        barrier.wait()

    errors = []
    for future in [pool.submit(run) for _ in range(size)]:
        try:
            future.result()
        except Exception as error:
            errors.append(error)
            barrier.abort()  # let the other runs go
    return errors[0] if errors else None
