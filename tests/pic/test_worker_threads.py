"""The pic worker decides how many threads a job's enhancement uses: one knob."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from pic import handler
from pic.management.commands import run_pic_worker
from workers.command import WorkerCommand


@pytest.fixture
def ran(monkeypatch):
    """Run the command without its consumer loop; yield the threads each job gets."""
    made = []

    def handle(self, *args, concurrency=1, **options):
        made.append(self.make_handler(concurrency=concurrency, **options))

    monkeypatch.setattr(WorkerCommand, "handle", handle)
    monkeypatch.setattr(run_pic_worker, "available_cpus", lambda: 8)

    def run(*args):
        call_command("run_pic_worker", *args, stdout=StringIO())
        return made[-1].threads

    return run


def test_threads_is_in_the_help():
    parser = run_pic_worker.Command().create_parser("manage.py", "run_pic_worker")
    assert "--threads" in parser.format_help()


def test_threads_default_to_the_cpus_shared_among_concurrent_jobs(ran):
    assert ran() == 8
    assert ran("--concurrency", "3") == 2
    assert ran("--concurrency", "16") == 1


def test_an_explicit_thread_count_wins(ran):
    assert ran("--threads", "3", "--concurrency", "4") == 3


def test_zero_threads_is_a_user_error(ran):
    with pytest.raises(CommandError):
        ran("--threads", "0")


def test_the_handler_passes_its_threads_to_enhance(monkeypatch):
    seen = {}

    def fake_enhance_file(src, dst, strength, **kwargs):
        seen.update(kwargs)
        raise handler.ImageError("stop here")

    monkeypatch.setattr(handler, "enhance_file", fake_enhance_file)
    monkeypatch.setattr(handler.files, "open_file", lambda key: StringIO())
    with pytest.raises(handler.PermanentError):
        handler.Handler(3)({"image_key": "pic/originals/x.jpg", "strength": 0.3}, None)
    assert seen == {"threads": 3}
    assert handler.handle.threads == 1  # the tool's own handler, when no command made one
