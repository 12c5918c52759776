from workers.command import WorkerCommand


class Command(WorkerCommand):
    help = "Run a CloudPic worker: consume cloudpic-inbox, reply on cloudpic-outbox."
    tool_name = "pic"
