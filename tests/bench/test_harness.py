"""The benchmark harness pieces that could break without anyone noticing: the proxy's
delay and its count by action, and the naive worker the figures are compared with."""

import json
import time
import uuid
from urllib.parse import urlparse

import boto3
import pytest

from bench.naive_worker import naive_step
from bench.proxy import DelayProxy, action_of
from calc.handler import handle as calc_handle
from tests.conftest import queue_depth
from workers import aws, envelope
from workers.tools import CALC


@pytest.fixture
def proxy(moto_server):
    proxy = DelayProxy(urlparse(moto_server).port, delay=0.05)
    yield proxy
    proxy.close()


def client(service, url):
    return boto3.client(service, endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


@pytest.mark.server
def test_the_proxy_counts_sqs_and_s3_calls_by_action_and_delays_each(proxy):
    sqs, s3 = client("sqs", proxy.url), client("s3", proxy.url)
    started = time.monotonic()
    queue = sqs.create_queue(QueueName=f"proxy-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    sqs.send_message(QueueUrl=queue, MessageBody="hello")
    assert sqs.receive_message(QueueUrl=queue)["Messages"][0]["Body"] == "hello"
    bucket = f"proxy-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="a/b.txt", Body=b"x" * 100_000)
    assert s3.get_object(Bucket=bucket, Key="a/b.txt")["Body"].read() == b"x" * 100_000
    assert s3.head_object(Bucket=bucket, Key="a/b.txt")["ContentLength"] == 100_000
    elapsed = time.monotonic() - started

    assert proxy.counts() == {"CreateQueue": 1, "SendMessage": 1, "ReceiveMessage": 1,
                              "CreateBucket": 1, "PutObject": 1, "GetObject": 1,
                              "HeadObject": 1}
    assert elapsed >= 7 * 0.05
    proxy.reset()
    assert proxy.counts() == {}


def test_it_names_query_protocol_actions():
    assert action_of("POST", "/", {}, b"Action=DeleteMessageBatch&Version=2012-11-05") == (
        "DeleteMessageBatch")
    assert action_of("POST", "/", {"X-Amz-Target": "AmazonSQS.SendMessage"}, b"{}") == (
        "SendMessage")


def test_the_naive_worker_completes_a_calc_job(sqs_queues, media_root):
    job_id = str(uuid.uuid4())
    aws.send(CALC.request_queue, json.dumps({"version": 1, "job_id": job_id,
                                             "numbers": [4, 8, 15, 16, 23, 42]}))

    assert naive_step(CALC, calc_handle, wait_time=0) == 1

    replies = aws.receive(CALC.response_queue, wait_time=0)
    assert len(replies) == 1
    reply = envelope.decode_reply(replies[0]["Body"])
    assert reply["job_id"] == job_id and reply["status"] == "done"
    assert reply["result"]["median"] == 15.5
    assert (media_root / "logs" / "calc" / f"{job_id}.log").exists()
    assert queue_depth(CALC.request_queue) == {"visible": 0, "in_flight": 0}
    assert naive_step(CALC, calc_handle, wait_time=0) == 0


def test_the_naive_worker_replies_failed_to_bad_input(sqs_queues):
    job_id = str(uuid.uuid4())
    aws.send(CALC.request_queue, json.dumps({"version": 1, "job_id": job_id, "numbers": []}))

    assert naive_step(CALC, calc_handle, wait_time=0) == 1

    reply = envelope.decode_reply(aws.receive(CALC.response_queue, wait_time=0)[0]["Body"])
    assert reply["status"] == "failed" and "bad input" in reply["error"]
