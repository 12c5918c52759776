"""The test settings plus the third tool: the one line a new tool takes."""

from tests.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "tests.thirdtool"]  # noqa: F405

# Its own test database where the server keeps them by name (PostgreSQL): the suite that
# starts this one still holds "test_<name>".
if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_thirdtool"}  # noqa: F405
