from django.db import models
from django.urls import reverse

from jobs.models import Job
from jobs.numbers import for_people

from . import replies
from .keys import log_key


class CalcJob(Job):
    numbers = models.JSONField(help_text="The submitted values, in order.")
    result = models.JSONField(null=True, blank=True)
    log_key = models.CharField(max_length=255, blank=True)

    class Meta(Job.Meta):
        verbose_name = "CloudCal job"

    request_fields = ("numbers",)
    result_fields = ("result", "log_key")

    def clean_result(self, reply: dict) -> dict:
        return replies.fields(self, reply)

    def api_result(self, request) -> dict:
        log_url = request.build_absolute_uri(reverse("api:calc_log", args=[self.id]))
        return {**(self.shown_result or {}), "log_url": log_url}

    @property
    def shown_result(self) -> dict | None:
        """The result as pages and the status JSON show it (odd stored values become None)."""
        return replies.displayable(self.result)

    def summary(self) -> str:
        count = len(self.numbers) if isinstance(self.numbers, list) else 0
        text = f"{count} value{'' if count == 1 else 's'}"
        result = self.shown_result if self.status == "done" else None
        if result and result.get("median") is not None:
            text += f", median {for_people(result['median'])}"
        return text

    @property
    def log_is_own(self) -> bool:
        return self.log_key == log_key(self.id)
