from django.apps import AppConfig


class WorkersConfig(AppConfig):
    """The queue runtime: the consumer, the reconciler and the commands that run them."""

    name = "workers"
    verbose_name = "Queues and workers"
