from django.db import models

from workers.models import Job


class EchoJob(Job):
    word = models.CharField(max_length=100)
    echo = models.CharField(max_length=200, blank=True)

    def request_fields(self) -> dict:
        return {"word": self.word}

    def fields_from_reply(self, reply: dict) -> dict:
        echo = reply.get("echo")
        if not isinstance(echo, str):
            raise ValueError("a done reply needs an echo")
        return {"echo": echo[:200]}
