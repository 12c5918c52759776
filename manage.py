#!/usr/bin/env python
import os
import sys
from pathlib import Path


def local_secret_key() -> None:
    """On a development checkout, use the key `make run` keeps in .secret_key, so that
    `manage.py createsuperuser`, `create_api_token` etc. run as written in a second
    terminal. Only with the default settings and no key in the environment: production
    sets DJANGO_SECRET_KEY, and has no such file."""
    if os.environ.get("DJANGO_SECRET_KEY") or \
            os.environ["DJANGO_SETTINGS_MODULE"] != "cloudsite.settings":
        return
    path = Path(__file__).resolve().parent / ".secret_key"
    if path.is_file():
        os.environ["DJANGO_SECRET_KEY"] = path.read_text().strip()


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cloudsite.settings")
    local_secret_key()
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
