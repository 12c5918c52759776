"""Where the site and the token come from: the environment first, then `cloudsite login`."""

import json
import os
import sys
from pathlib import Path

DEFAULT_URL = "http://127.0.0.1:8000"


def config_path() -> Path:
    if sys.platform == "win32" and os.environ.get("APPDATA"):
        base = Path(os.environ["APPDATA"])
    else:
        base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "cloudsite" / "config.json"


def load() -> dict:
    try:
        stored = json.loads(config_path().read_text())
    except (OSError, ValueError):
        stored = {}
    return {
        "url": os.environ.get("CLOUDSITE_URL") or stored.get("url") or DEFAULT_URL,
        "token": os.environ.get("CLOUDSITE_TOKEN") or stored.get("token") or "",
    }


def save(url: str, token: str) -> Path:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    # Created 0600 from the start: the token is never readable by others, even briefly.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump({"url": url, "token": token}, handle)
    os.chmod(path, 0o600)  # an older file may have had wider bits
    return path
