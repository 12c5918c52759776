"""Run by deploy/bootstrap.sh on each web instance before gunicorn starts.

Migrates (under a PostgreSQL advisory lock, since web instances of a new stack
boot together), collects static files for whitenoise, and creates the `admin`
user with CLOUDSITE_ADMIN_PASSWORD when the site has no superuser yet.
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cloudsite.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

MIGRATE_LOCK = 0x0C10D517  # any constant shared by every web instance


def main() -> None:
    locked = connection.vendor == "postgresql"
    if locked:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [MIGRATE_LOCK])
    try:
        call_command("migrate", interactive=False, verbosity=1)
        users = get_user_model().objects
        password = os.environ.get("CLOUDSITE_ADMIN_PASSWORD", "")
        if password and not users.filter(is_superuser=True).exists():
            users.create_superuser("admin", "", password)
            print("created superuser admin")  # noqa: T201 (a script, not a command)
    finally:
        if locked:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [MIGRATE_LOCK])
    call_command("collectstatic", interactive=False, verbosity=0)


if __name__ == "__main__":
    main()
