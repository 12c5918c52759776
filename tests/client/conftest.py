import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from cloudsite.models import ApiToken
from jobs import tools
from tests.browser import worker_thread
from tests.pic.conftest import photo  # noqa: F401  (the test photograph)

CLIENT = Path(__file__).resolve().parents[2] / "client"
CALC = tools.get("calc")
PIC = tools.get("pic")


@pytest.fixture
def workers(server_queues):
    """Both tools' consumers polling the moto server, as EC2 workers would."""
    with worker_thread(CALC, visibility_timeout=10), worker_thread(PIC, visibility_timeout=30):
        yield


@pytest.fixture
def token(transactional_db) -> str:
    user = get_user_model().objects.create_user("ada")
    return ApiToken.issue(user, "client tests")[1]


@pytest.fixture
def cloudsite(live_server, token, tmp_path):
    """Run the installed `cloudsite` command in a process of its own against the live server."""
    def run(*args, token=token, url=None, stdin=None, timeout=90):
        env = {key: value for key, value in os.environ.items() if not key.startswith("CLOUDSITE")}
        env.update(CLOUDSITE_URL=url or live_server.url, CLOUDSITE_TOKEN=token,
                   XDG_CONFIG_HOME=str(tmp_path / "config"), NO_COLOR="1", COLUMNS="200",
                   # This checkout's client, whichever checkout the venv installed it from.
                   PYTHONPATH=os.pathsep.join(filter(None, [str(CLIENT),
                                                            env.get("PYTHONPATH")])))
        return subprocess.run([sys.executable, "-m", "cloudsite_client", *args], env=env,
                              cwd=tmp_path, input=stdin or "", capture_output=True, text=True,
                              timeout=timeout)
    return run
