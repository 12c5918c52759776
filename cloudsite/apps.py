from django.apps import AppConfig
from django.core.management import call_command
from django.db.models.signals import post_migrate


def create_cache_table(sender, using="default", **kwargs):
    # The abuse limits live in the database cache: every `migrate` (runlocal, deploys,
    # the test database) makes sure its table exists. A no-op for other cache backends.
    call_command("createcachetable", database=using, verbosity=0)


class CloudsiteConfig(AppConfig):
    """The site's web side: the API, tokens, abuse limits, page helpers, the dashboard."""

    name = "cloudsite"
    verbose_name = "CloudSite"

    def ready(self):
        post_migrate.connect(create_cache_table, sender=self,
                             dispatch_uid="cloudsite.create_cache_table")
