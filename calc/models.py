from django.db import models

from workers.models import Job

RESULT_KEYS = ("count", "min", "max", "mean", "median")


class CalcJob(Job):
    numbers = models.JSONField(help_text="The submitted values, in order.")
    result = models.JSONField(null=True, blank=True)
    log_key = models.CharField(max_length=255, blank=True)

    class Meta(Job.Meta):
        verbose_name = "CloudCal job"

    def request_fields(self) -> dict:
        return {"numbers": self.numbers}

    def fields_from_reply(self, reply: dict) -> dict:
        result = reply.get("result")
        if not isinstance(result, dict) or not all(
            isinstance(result.get(key), (int, float)) for key in RESULT_KEYS
        ):
            raise ValueError("a done reply needs a result with " + ", ".join(RESULT_KEYS))
        log_key = reply.get("log_key")
        if not isinstance(log_key, str) or not log_key:
            raise ValueError("a done reply needs a log_key")
        return {"result": {key: result[key] for key in RESULT_KEYS}, "log_key": log_key}
