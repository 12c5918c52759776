from django.db import models

from jobs.models import Job


class EchoJob(Job):
    word = models.CharField(max_length=100)
    echo = models.CharField(max_length=200, blank=True)

    request_fields = ("word",)
    result_fields = ("echo",)

    def clean_result(self, reply: dict) -> dict:
        echo = reply.get("echo")
        if not isinstance(echo, str):
            raise ValueError("a done reply needs an echo")
        return {"echo": echo[:200]}
