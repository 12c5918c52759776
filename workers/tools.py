"""The tool registry: each tool app declares its Tool on its AppConfig; workers/ finds them.

A tool app subclasses ToolConfig and sets `tool` (import the module, not the
class: Django picks an apps.py's AppConfig only when it holds exactly one):

    from workers import tools

    class CalcConfig(tools.ToolConfig):
        name = "calc"
        tool = tools.Tool(name="calc", label="CloudCal", request_queue="cloudcal-requests",
                          response_queue="cloudcal-responses", model_name="CalcJob",
                          handler="calc.handler.handle")

Everything built per tool (nav, home page, admin Queues page, setup_aws, the
reconciler, the sweeper, runlocal's workers, the site's URLs) loops over
`installed()`, so a new tool is one new app and one line in INSTALLED_APPS.
"""

import dataclasses
from dataclasses import dataclass

from django.apps import AppConfig, apps


@dataclass(frozen=True)
class Tool:
    name: str  # short name: log lines, the generic `run_worker NAME`
    label: str  # what users read: nav, home page
    request_queue: str  # docs/design.md §3 names, without CLOUDSITE_QUEUE_PREFIX
    response_queue: str
    model_name: str  # the app's model of job rows (a workers.models.Job)
    handler: str  # dotted path of the message handler; imported by workers only
    summary: str = ""  # one sentence for the home page
    action: str = "Start a job"  # the home page's link text
    # Filled in from the AppConfig that declares the tool.
    app_label: str = ""
    app_module: str = ""

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
    def urls(self) -> str:
        return f"{self.app_module}.urls"

    @property
    def submit_url(self) -> str:
        return f"{self.app_label}:submit"

    @property
    def job_url(self) -> str:
        return f"{self.app_label}:job"


class ToolConfig(AppConfig):
    """The AppConfig of an app that is a tool. Its `tool` names the app's queues,
    model and handler; the app itself provides urls.py (`submit` and `job` views)."""

    tool: Tool

    def __init__(self, app_name, app_module):
        super().__init__(app_name, app_module)
        self.tool = dataclasses.replace(type(self).tool, app_label=self.label,
                                        app_module=self.name)


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
