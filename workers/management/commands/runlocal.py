import ctypes
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandError

from jobs import tools
from jobs.models import ACTIVE, Status
from workers import aws

PR_SET_PDEATHSIG = 1  # linux/prctl.h


def interrupt(signum, frame):
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = ("The whole system on one machine: an embedded AWS emulator (moto) for SQS, "
            "the queues, the workers, the reconciler and the site on http://127.0.0.1:8000.")

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000,
                            help="Port of the site (default 8000).")
        parser.add_argument("--aws-port", type=int, default=0,
                            help="Port of the AWS emulator (default: any free port).")

    def handle(self, *args, port=8000, aws_port=0, **options):
        try:
            from moto.server import ThreadedMotoServer
        except ImportError:
            raise CommandError("runlocal needs moto[server]: pip install -r requirements.txt")

        self.check_port_free(port)
        emulator = ThreadedMotoServer(ip_address="127.0.0.1", port=aws_port, verbose=False)
        emulator.start()
        host, bound_port = emulator.get_host_and_port()
        endpoint = f"http://{host}:{bound_port}"
        self.use_endpoint(endpoint)
        self.stdout.write(f"AWS emulator (moto) on {endpoint}")

        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        call_command("setup_aws", stdout=self.stdout)
        self.resend_unfinished()
        password = self.ensure_admin()

        children = [self.start_child(*argv) for argv in self.children()]
        # Waiting for the site stops on KeyboardInterrupt; SIGTERM and SIGHUP (the terminal
        # closed) take the same path, and so does SIGINT even where a shell started us with
        # it ignored.
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, interrupt)
        if password:
            self.show_password_when_serving(port, password)
        try:
            site = self.start_site(port)
            children.insert(0, site)  # stopped first
            self.stdout.write(f"The site on http://127.0.0.1:{port}/ (gunicorn; Ctrl-C stops "
                              "everything)")
            if (status := site.wait()) != 0:
                raise CommandError(f"the site's server (gunicorn) exited with status {status}")
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            stop_children(children)
            emulator.stop()
            self.stdout.write("runlocal stopped")

    @staticmethod
    def site_argv(port: int) -> list[str]:
        """The site under gunicorn, as in production (deploy/systemd), not Django's runserver:
        runserver reads whatever of a request body the site left unread into memory, all at
        once, when it closes the request (django/core/servers/basehttp.py), so a 300 MB POST
        refused by the body limits (cloudsite/bodylimit.py) still cost 300 MB. The access
        log shows each request without its query string, where a token could be."""
        return [sys.executable, "-m", "gunicorn", "cloudsite.wsgi", "--bind", f"127.0.0.1:{port}",
                "--workers", "2", "--threads", "4", "--access-logfile", "-",
                "--logger-class", "cloudsite.accesslog.RedactingLogger",
                "--access-logformat", '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s']

    def start_site(self, port: int) -> subprocess.Popen:
        return spawn(self.site_argv(port))

    def check_port_free(self, port: int) -> None:
        # Find out before starting any child: gunicorn on a busy port would retry, then
        # exit, after the workers had started for nothing.
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                raise CommandError(f"port {port} is in use; choose another with --port")

    def use_endpoint(self, endpoint: str) -> None:
        # Children inherit the environment; this process reads settings.
        os.environ["AWS_ENDPOINT_URL"] = endpoint
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            os.environ.setdefault(name, "local-emulator")
        os.environ.setdefault("AWS_DEFAULT_REGION", settings.AWS_REGION)
        settings.AWS_ENDPOINT_URL = endpoint
        aws.reset()

    def resend_unfinished(self) -> None:
        """The embedded emulator starts empty: the requests of jobs left queued or running
        by the last run are gone with it. Send them again now rather than at the sweeper's
        resend mark (CLOUDSITE_RESEND_SECONDS); a running job's worker is gone too."""
        for tool in tools.installed():
            unfinished = tool.model.objects.filter(status__in=ACTIVE)
            unfinished.filter(status=Status.RUNNING).update(status=Status.QUEUED, worker="")
            sent = sum(job.send() for job in unfinished)
            if sent:
                self.stdout.write(f"{tool.name}: sent {sent} unfinished jobs again")

    def ensure_admin(self) -> str | None:
        """Create the admin account on the first run; return its password then."""
        users = get_user_model().objects
        if users.filter(is_superuser=True).exists():
            return None
        password = secrets.token_urlsafe(12)
        users.create_superuser("admin", "admin@localhost", password)
        self.stdout.write(self.password_block(password))
        return password

    def password_block(self, password: str) -> str:
        lines = ["Created the admin account (shown on this first run only):",
                 f"  user: admin    password: {password}",
                 "Change it with: make password  (or .venv/bin/python manage.py "
                 "changepassword admin)"]
        width = max(map(len, lines))
        rule = "+" + "-" * (width + 2) + "+"
        framed = [rule, *(f"| {line.ljust(width)} |" for line in lines), rule]
        return self.style.WARNING("\n".join(framed))

    def show_password_when_serving(self, port: int, password: str) -> None:
        """Print the password block again once the site answers, below the server's own
        start-up lines, where it does not scroll away at once."""
        def wait_and_show():
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                except OSError:
                    time.sleep(0.2)
                    continue
                self.stdout.write(self.password_block(password))
                return

        threading.Thread(target=wait_and_show, daemon=True).start()

    @staticmethod
    def children() -> list[list[str]]:
        """One worker per installed tool (its own run_<name>_worker if it has one), then
        the reconciler."""
        commands = get_commands()
        workers = [[f"run_{tool.name}_worker"] if f"run_{tool.name}_worker" in commands
                   else ["run_worker", tool.name] for tool in tools.installed()]
        return [*workers, ["reconcile_replies"]]

    def start_child(self, *argv: str) -> subprocess.Popen:
        return spawn([sys.executable, os.path.join(settings.BASE_DIR, "manage.py"), *argv])


def spawn(argv: list[str], **options) -> subprocess.Popen:
    """A child of runlocal: in a session of its own (Ctrl-C reaches only runlocal, which
    stops the children in order), and sent SIGTERM by the kernel however runlocal ends,
    even by SIGKILL."""
    return subprocess.Popen(argv, cwd=settings.BASE_DIR, start_new_session=True,
                            preexec_fn=die_with_parent(os.getpid()), **options)


def stop_children(children: list[subprocess.Popen], timeout: float = 30) -> None:
    """SIGTERM to all at once (they finish what they hold), then wait; kill stragglers."""
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in children:
        try:
            child.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def die_with_parent(parent: int):
    """A preexec_fn: the child gets SIGTERM when this process dies (Linux's parent-death
    signal), so no worker outlives `make run` and loops on the emulator that died with it.
    Elsewhere, a no-op: runlocal's own signal handlers still stop the children."""
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None

    def preexec():
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died before prctl: nobody would stop us
            os._exit(1)

    return preexec
