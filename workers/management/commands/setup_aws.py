from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from jobs import tools
from workers import aws


class Command(BaseCommand):
    help = ("Create the queues of every installed tool (with dead-letter queues) and the "
            "bucket, if missing.")

    def handle(self, *args, **options):
        try:
            for name in aws.create_queues(tools.installed()):
                self.stdout.write(f"queue {aws.queue_name(name)}: ready")
            if settings.CLOUDSITE_BUCKET:
                aws.create_bucket(settings.CLOUDSITE_BUCKET)
                self.stdout.write(f"bucket {settings.CLOUDSITE_BUCKET}: ready")
            else:
                self.stdout.write("no CLOUDSITE_BUCKET: files go to the local MEDIA_ROOT")
        except (BotoCoreError, ClientError) as error:
            raise CommandError(f"AWS refused: {error}") from None
        self.stdout.write(self.style.SUCCESS("AWS resources ready"))
