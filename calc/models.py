from django.db import models

from workers.models import Job

from . import replies


class CalcJob(Job):
    numbers = models.JSONField(help_text="The submitted values, in order.")
    result = models.JSONField(null=True, blank=True)
    log_key = models.CharField(max_length=255, blank=True)

    class Meta(Job.Meta):
        verbose_name = "CloudCal job"

    def request_fields(self) -> dict:
        return {"numbers": self.numbers}

    def fields_from_reply(self, reply: dict) -> dict:
        return replies.fields(self, reply)

    @property
    def shown_result(self) -> dict | None:
        """The result as pages and the status JSON show it (odd stored values become None)."""
        return replies.displayable(self.result)

    @property
    def log_is_own(self) -> bool:
        return self.log_key == replies.log_key(self.id)
