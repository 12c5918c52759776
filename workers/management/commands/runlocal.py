import os
import secrets
import signal
import socket
import subprocess
import sys

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandError

from jobs import tools
from workers import aws


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
        self.ensure_admin()

        children = [self.start_child(*argv) for argv in self.children()]
        # Waiting for the site stops on KeyboardInterrupt; SIGTERM takes the same path, and
        # so does SIGINT even where a shell started us with it ignored.
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, interrupt)
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
            self.stop_children(children)
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
                "--access-logformat", '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s']

    def start_site(self, port: int) -> subprocess.Popen:
        # A session of its own, like the children: stopped in order with them.
        return subprocess.Popen(self.site_argv(port), cwd=settings.BASE_DIR,
                                start_new_session=True)

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

    def ensure_admin(self) -> None:
        users = get_user_model().objects
        if users.filter(is_superuser=True).exists():
            return
        password = secrets.token_urlsafe(12)
        users.create_superuser("admin", "admin@localhost", password)
        self.stdout.write(self.style.WARNING(
            f"Created the admin account: user 'admin', password '{password}' "
            "(shown this once; change it with manage.py changepassword admin)"))

    @staticmethod
    def children() -> list[list[str]]:
        """One worker per installed tool (its own run_<name>_worker if it has one), then
        the reconciler."""
        commands = get_commands()
        workers = [[f"run_{tool.name}_worker"] if f"run_{tool.name}_worker" in commands
                   else ["run_worker", tool.name] for tool in tools.installed()]
        return [*workers, ["reconcile_replies"]]

    def start_child(self, *argv: str) -> subprocess.Popen:
        manage = os.path.join(settings.BASE_DIR, "manage.py")
        # A session of its own: Ctrl-C reaches only runlocal, which stops children in order.
        return subprocess.Popen([sys.executable, manage, *argv], start_new_session=True)

    def stop_children(self, children: list[subprocess.Popen]) -> None:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
