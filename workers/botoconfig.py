"""The one botocore configuration of every AWS client: boto3's in workers/aws.py and
django-storages' S3 client (settings.STORAGES). No Django import, so settings can use it."""

from botocore.config import Config

LONG_POLL_SECONDS = 20


def client_config() -> Config:
    return Config(
        retries={"mode": "standard", "max_attempts": 5},
        connect_timeout=5,
        # Longer than the long poll, or every quiet receive would time out.
        read_timeout=LONG_POLL_SECONDS + 10,
        # Worker threads, the heartbeat and the reply sender share one client each.
        max_pool_connections=50,
    )
