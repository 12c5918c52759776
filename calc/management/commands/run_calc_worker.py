from workers.command import WorkerCommand
from workers.tools import CALC


class Command(WorkerCommand):
    help = "Run a CloudCal worker: consume cloudcal-requests, reply on cloudcal-responses."
    tool = CALC
