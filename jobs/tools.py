"""The tool contract: each tool app declares its Tool on its AppConfig; the site finds them.

A tool is one app and one line in INSTALLED_APPS (docs/design.md §9). Its apps.py:

    from jobs import tools

    class EchoConfig(tools.ToolConfig):
        name = "echo"
        tool = tools.Tool(name="echo", label="CloudEcho", request_queue="cloudecho-requests",
                          response_queue="cloudecho-responses", model_name="EchoJob")

Its models.py holds the job model (a jobs.models.Job: the request and result fields and
the check of a done reply), and handler.py the function the worker runs. Everything
else is optional: pages (urls.py with `submit` and `job` views), an admin and API
endpoints of its own; without them the site serves generic ones. `ready()` checks the
contract at start-up, so a missing piece stops the process with a message naming it,
never a 500 later. Everything built per tool (pages, API, admin, Queues page, setup_aws,
the reconciler, the sweeper, runlocal's workers) loops over `installed()`.
"""

import dataclasses
import importlib.util
from dataclasses import dataclass

from django.apps import AppConfig, apps
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.utils.module_loading import module_has_submodule


@dataclass(frozen=True)
class Tool:
    name: str  # short name: log lines, the API, the generic `run_worker NAME`
    label: str  # what users read: nav, home page
    request_queue: str  # docs/design.md §3 names, without CLOUDSITE_QUEUE_PREFIX
    response_queue: str
    model_name: str  # the app's model of job rows (a jobs.models.Job)
    handler: str = ""  # dotted path of the message handler; default <app>.handler.handle
    summary: str = ""  # one sentence for the home page
    action: str = "Start a job"  # the home page's link text
    # Filled in from the AppConfig that declares the tool.
    app_label: str = ""
    app_module: str = ""
    own_pages: bool = False  # the app has urls.py; else the site's generic pages serve it

    @property
    def request_dlq(self) -> str:
        return f"{self.request_queue}-dlq"

    @property
    def response_dlq(self) -> str:
        return f"{self.response_queue}-dlq"

    def queues(self) -> list[tuple[str, str]]:
        """(queue, what it carries) for every queue of the tool, in the order SQS needs
        them created: each dead-letter queue before the queue that redrives to it."""
        return [(self.request_dlq, "dead requests"), (self.request_queue, "requests"),
                (self.response_dlq, "dead replies"), (self.response_queue, "replies")]

    @property
    def model(self):
        """The job model; the one place a tool's model is looked up."""
        return apps.get_model(self.app_label, self.model_name)

    @property
    def submit_url(self) -> str:
        return f"{self.app_label}:submit"

    @property
    def job_url(self) -> str:
        return f"{self.app_label}:job"


class ToolConfig(AppConfig):
    """The AppConfig of an app that is a tool (see the module's docstring)."""

    tool: Tool

    def __init__(self, app_name, app_module):
        super().__init__(app_name, app_module)
        declared = type(self).tool
        self.tool = dataclasses.replace(
            declared, app_label=self.label, app_module=self.name,
            handler=declared.handler or f"{self.name}.handler.handle",
            own_pages=module_has_submodule(self.module, "urls"))

    def ready(self):
        check_contract(self.tool)


def check_contract(tool: Tool) -> None:
    """Raise ImproperlyConfigured, naming the missing piece, unless `tool` is complete."""
    from .models import Job  # the models are loaded by the time ready() runs

    def fail(problem: str):
        raise ImproperlyConfigured(f"tool {tool.name!r} ({tool.app_module}): {problem}")

    try:
        model = tool.model
    except LookupError:
        fail(f"its app has no model {tool.model_name!r} (Tool.model_name)")
    if not issubclass(model, Job) or model._meta.abstract:
        fail(f"{tool.model_name} must be a concrete subclass of jobs.models.Job")
    for kind in ("request_fields", "result_fields"):
        names = getattr(model, kind)
        if not names:
            fail(f"{tool.model_name}.{kind} names no field")
        for name in names:
            try:
                model._meta.get_field(name)
            except FieldDoesNotExist:
                fail(f"{tool.model_name}.{kind} names {name!r}, which is not a field")
    if model.clean_result is Job.clean_result:
        fail(f"{tool.model_name} must define clean_result(reply): the check of a done reply")
    module = tool.handler.rpartition(".")[0]
    if not module or importlib.util.find_spec(module) is None:
        fail(f"no handler module {module!r} (Tool.handler {tool.handler!r})")
    others = [t for t in installed() if t is not tool]
    taken = {t.name for t in others} | {queue for t in others for queue, _ in t.queues()}
    if {tool.name, *(queue for queue, _ in tool.queues())} & taken:
        fail("its name or a queue name is another installed tool's too")


def installed() -> list[Tool]:
    """The tools of the installed apps, in INSTALLED_APPS order."""
    return [app.tool for app in apps.get_app_configs() if isinstance(app, ToolConfig)]


def get(name: str) -> Tool:
    for tool in installed():
        if tool.name == name:
            return tool
    raise LookupError(f"no installed tool named {name!r}")


class ToolOfApp:
    """Model attribute: the Tool of the app the model belongs to (Job.tool)."""

    def __get__(self, instance, owner) -> Tool | None:
        if owner._meta.abstract:
            return None
        app = apps.get_app_config(owner._meta.app_label)
        if not isinstance(app, ToolConfig):
            raise LookupError(f"app {app.label!r} declares no tool")
        return app.tool
