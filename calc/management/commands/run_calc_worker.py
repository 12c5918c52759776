from workers.command import WorkerCommand


class Command(WorkerCommand):
    help = "Run a CloudCal worker: consume cloudcal-requests, reply on cloudcal-responses."
    tool_name = "calc"
