from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from cloudsite.models import ApiToken


class Command(BaseCommand):
    help = ("Make an API token for a user and print it once; only its hash is stored. "
            "Send it as 'Authorization: Bearer <token>' or set CLOUDSITE_TOKEN for the client.")

    def add_arguments(self, parser):
        parser.add_argument("username", help="The user the token acts for.")
        parser.add_argument("--name", default="", help="What the token is for (shown in admin).")

    def handle(self, *args, username, name="", **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user named {username!r}")
        if not user.is_active:
            raise CommandError(f"user {username!r} is inactive")
        _, raw = ApiToken.issue(user, name[:100])
        self.stdout.write(raw)
