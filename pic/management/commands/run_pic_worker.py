from workers.command import WorkerCommand
from workers.tools import PIC


class Command(WorkerCommand):
    help = "Run a CloudPic worker: consume cloudpic-inbox, reply on cloudpic-outbox."
    tool = PIC
