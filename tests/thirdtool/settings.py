"""The test settings plus the third tool: the one line a new tool takes."""

from tests.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "tests.thirdtool"]  # noqa: F405
