"""Every boto3 call of the project goes through this module, except the S3 calls
of django-storages (file uploads, downloads, presigned links).

It owns the clients, the cached queue-URL lookup and the batch helpers. The
client configuration (standard retry mode, a read timeout longer than the long
poll, the pool size) is botoconfig.client_config(), which settings.STORAGES
passes to django-storages too: both kinds of call follow one policy.
"""

import functools
import json
import logging
import threading

import boto3
from django.conf import settings

from .botoconfig import LONG_POLL_SECONDS as LONG_POLL_SECONDS  # re-exported
from .botoconfig import client_config

log = logging.getLogger(__name__)

MAX_RECEIVE_COUNT = 5

_lock = threading.Lock()
_queue_urls: dict[str, str] = {}


@functools.cache
def client(service: str):
    # boto3 clients are thread-safe once made; making them is not, hence the cache.
    session = boto3.session.Session()
    return session.client(
        service,
        region_name=settings.AWS_REGION,
        endpoint_url=settings.AWS_ENDPOINT_URL,
        config=client_config(),
    )


def sqs():
    with _lock:
        return client("sqs")


def s3():
    with _lock:
        return client("s3")


def reset() -> None:
    """Forget clients and queue URLs (after the endpoint or the region changed)."""
    with _lock:
        client.cache_clear()
        _queue_urls.clear()


def queue_name(name: str) -> str:
    return settings.CLOUDSITE_QUEUE_PREFIX + name


def queue_url(name: str) -> str:
    url = _queue_urls.get(name)
    if url is None:
        url = sqs().get_queue_url(QueueName=queue_name(name))["QueueUrl"]
        _queue_urls[name] = url
    return url


def send(queue: str, body: str) -> str:
    return sqs().send_message(QueueUrl=queue_url(queue), MessageBody=body)["MessageId"]


def receive(queue: str, *, wait_time: int, visibility_timeout: int | None = None,
            max_messages: int = 10) -> list[dict]:
    kwargs = {
        "QueueUrl": queue_url(queue),
        "MaxNumberOfMessages": max_messages,
        "WaitTimeSeconds": wait_time,
        "MessageSystemAttributeNames": ["ApproximateReceiveCount", "SentTimestamp"],
    }
    if visibility_timeout is not None:
        kwargs["VisibilityTimeout"] = visibility_timeout
    return sqs().receive_message(**kwargs).get("Messages", [])


def send_batch(queue: str, bodies: dict[str, str]) -> set[str]:
    """Send {entry id: body}; return the ids that SQS did not accept."""
    if not bodies:
        return set()
    entries = [{"Id": key, "MessageBody": body} for key, body in bodies.items()]
    response = sqs().send_message_batch(QueueUrl=queue_url(queue), Entries=entries)
    return _failed_ids(response, "send")


def delete_batch(queue: str, receipts: dict[str, str]) -> set[str]:
    """Delete {entry id: receipt handle}; return the ids that failed."""
    if not receipts:
        return set()
    entries = [{"Id": key, "ReceiptHandle": handle} for key, handle in receipts.items()]
    response = sqs().delete_message_batch(QueueUrl=queue_url(queue), Entries=entries)
    return _failed_ids(response, "delete")


def change_visibility_batch(queue: str, receipts: dict[str, tuple[str, int]]) -> set[str]:
    """Set {entry id: (receipt handle, seconds)}; return the ids that failed."""
    if not receipts:
        return set()
    entries = [
        {"Id": key, "ReceiptHandle": handle, "VisibilityTimeout": timeout}
        for key, (handle, timeout) in receipts.items()
    ]
    response = sqs().change_message_visibility_batch(QueueUrl=queue_url(queue), Entries=entries)
    return _failed_ids(response, "change visibility of")


def _failed_ids(response: dict, action: str) -> set[str]:
    failed = response.get("Failed", [])
    for entry in failed:
        log.warning("SQS could not %s entry %s: %s %s", action, entry["Id"],
                    entry.get("Code"), entry.get("Message"))
    return {entry["Id"] for entry in failed}


def create_queues(tools) -> list[str]:
    """Create every queue of the tools, each request and response queue with a redrive
    policy to its dead-letter queue (docs/design.md §3). Idempotent; returns the names."""
    created = []
    for tool in tools:
        for queue, dlq in ((tool.request_queue, tool.request_dlq),
                           (tool.response_queue, tool.response_dlq)):
            create_redriven_queue(queue, dlq)
            created += [dlq, queue]
    return created


def create_redriven_queue(name: str, dlq: str) -> None:
    sqs_client = sqs()
    dlq_url = sqs_client.create_queue(
        QueueName=queue_name(dlq),
        Attributes={"MessageRetentionPeriod": str(14 * 24 * 3600)},
    )["QueueUrl"]
    dlq_arn = sqs_client.get_queue_attributes(
        QueueUrl=dlq_url, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    redrive = json.dumps(
        {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVE_COUNT)}
    )
    sqs_client.create_queue(
        QueueName=queue_name(name),
        Attributes={"RedrivePolicy": redrive, "VisibilityTimeout": "60"},
    )


def create_bucket(name: str) -> None:
    s3_client = s3()
    try:
        s3_client.head_bucket(Bucket=name)
        return
    except s3_client.exceptions.ClientError as error:
        if error.response["Error"]["Code"] not in ("404", "NoSuchBucket"):
            raise
    kwargs = {"Bucket": name}
    if settings.AWS_REGION != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": settings.AWS_REGION}
    s3_client.create_bucket(**kwargs)
    s3_client.put_public_access_block(
        Bucket=name,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True, "IgnorePublicAcls": True,
            "BlockPublicPolicy": True, "RestrictPublicBuckets": True,
        },
    )


def queue_counts(queue: str) -> dict[str, int]:
    attributes = sqs().get_queue_attributes(
        QueueUrl=queue_url(queue),
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return {"visible": int(attributes["ApproximateNumberOfMessages"]),
            "in_flight": int(attributes["ApproximateNumberOfMessagesNotVisible"])}


def oldest_sent_at(queue: str) -> float | None:
    """Epoch seconds of the oldest of up to 10 sampled messages, left visible.

    Only for queues without a redrive policy: a peek counts as a receive.
    """
    messages = receive(queue, wait_time=0, visibility_timeout=0)
    stamps = [int(m["Attributes"]["SentTimestamp"]) / 1000 for m in messages
              if "SentTimestamp" in m.get("Attributes", {})]
    return min(stamps) if stamps else None
