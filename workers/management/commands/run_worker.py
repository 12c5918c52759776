from workers.command import WorkerCommand


class Command(WorkerCommand):
    help = ("Run a worker of any installed tool (run_worker NAME); calc and pic also have "
            "their own run_calc_worker and run_pic_worker.")
