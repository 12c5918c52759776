"""API tokens: a user's key to the JSON API, stored only as a hash."""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

PREFIX = "cs_"


def digest(raw: str) -> str:
    # A token is 256 random bits, not a password a person picked: nobody can guess it
    # from its SHA-256, so a slow salted hash would buy nothing and would rule out
    # finding the row by an indexed lookup on every request.
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True,
                            help_text="What the token is for, say the laptop it lives on.")
    digest = models.CharField(max_length=64, unique=True, editable=False)
    hint = models.CharField(max_length=12, editable=False,
                            help_text="The token's first characters, to tell tokens apart.")
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True,
                                      help_text="Set to revoke; a revoked token gets 401.")

    class Meta:
        verbose_name = "API token"
        ordering = ["-created_at"]
        # The table it had in the workers app: moving the model changed no data
        # (cloudsite/migrations/0001_api_tokens.py).
        db_table = "workers_apitoken"

    def __str__(self) -> str:
        return f"{self.hint}… ({self.user})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @classmethod
    def issue(cls, user, name: str = "") -> tuple["ApiToken", str]:
        """Make a token; the raw value is returned this once and never stored."""
        raw = PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(user=user, name=name, digest=digest(raw),
                                   hint=raw[:len(PREFIX) + 6])
        return token, raw

    @classmethod
    def user_for(cls, raw: str):
        """The active user a raw token belongs to, or None."""
        token = (cls.objects.select_related("user")
                 .filter(digest=digest(raw), revoked_at__isnull=True, user__is_active=True)
                 .first())
        if token is None:
            return None
        now = timezone.now()
        # Once a minute is enough to show which tokens are in use, without a write per call.
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            cls.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user

    def revoke(self) -> bool:
        updated = type(self).objects.filter(pk=self.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now())
        return bool(updated)


class Submitter(models.Model):
    """One who submits jobs: a client address (`ip:…`), a browser session (`session:…`)
    or an account (`user:…`). cloudsite.limits locks its row while it counts the jobs
    waiting and inserts the new one, so parallel submissions queue on it; an address's
    row also counts its submissions in the current minute, with one atomic UPDATE."""

    key = models.CharField(max_length=100, unique=True)
    window = models.BigIntegerField(default=0, help_text="The minute counted (epoch // 60).")
    submissions = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return self.key
