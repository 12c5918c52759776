"""The tools that run on workers, and the queues each one uses (DESIGN.md §3)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Tool:
    name: str
    request_queue: str
    response_queue: str
    dead_letter_queue: str
    model: str  # "app_label.ModelName" of the job rows; used by the web side only
    handler: str  # dotted path of the message handler; used by workers only


CALC = Tool(
    name="calc",
    request_queue="cloudcal-requests",
    response_queue="cloudcal-responses",
    dead_letter_queue="cloudcal-requests-dlq",
    model="calc.CalcJob",
    handler="calc.handler.handle",
)

PIC = Tool(
    name="pic",
    request_queue="cloudpic-inbox",
    response_queue="cloudpic-outbox",
    dead_letter_queue="cloudpic-inbox-dlq",
    model="pic.PicJob",
    handler="pic.handler.handle",
)

TOOLS = (CALC, PIC)
