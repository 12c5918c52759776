"""An HTTP proxy in front of the AWS emulator that adds a fixed delay to every request
and counts the requests by API action, so a benchmark sees what a network round trip
to real AWS costs and how many calls each worker makes.

Actions are named as AWS names them: SQS's ("ReceiveMessage", "SendMessageBatch", ...)
from the JSON protocol's X-Amz-Target header or the query protocol's Action field; S3's
from the method and path ("PutObject", "GetObject", ...).
"""

from __future__ import annotations

import http.client
import json
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

# Hop-by-hop headers are the proxy's own business on each side.
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
              "proxy-connection", "content-length"}

S3_ACTIONS = {"GET": "GetObject", "PUT": "PutObject", "HEAD": "HeadObject",
              "DELETE": "DeleteObject", "POST": "PostObject"}


def items_of(action: str, body: bytes, response: bytes) -> int | None:
    """Entries of an SQS batch call, messages of a receive (JSON protocol); else None."""
    try:
        if action.endswith("Batch"):
            return len(json.loads(body)["Entries"])
        if action == "ReceiveMessage":
            return len(json.loads(response or b"{}").get("Messages", []))
    except (ValueError, KeyError, TypeError):
        pass
    return None


def action_of(method: str, path: str, headers, body: bytes) -> str:
    target = headers.get("X-Amz-Target")
    if target:
        return target.rsplit(".", 1)[-1]
    if method == "POST" and b"Action=" in body[:4096]:
        action = parse_qs(body.decode("latin-1")).get("Action")
        if action:
            return action[0]
    parts = [part for part in urlsplit(path).path.split("/") if part]
    if len(parts) <= 1:  # the bucket itself: HeadBucket, CreateBucket, ListObjects...
        return {"GET": "ListObjects", "PUT": "CreateBucket", "HEAD": "HeadBucket"}.get(
            method, f"Bucket{method.title()}")
    return S3_ACTIONS.get(method, f"Object{method.title()}")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A client hanging up (a worker stopping) is not worth a traceback.
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class DelayProxy:
    """Forward 127.0.0.1:<port> to the emulator, sleeping `delay` seconds per request."""

    def __init__(self, target_port: int, delay: float = 0.0):
        self.target_port = target_port
        self.delay = delay
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._items: Counter[str] = Counter()
        self._answered: Counter[str] = Counter()  # calls whose items are counted
        # Called with each request's action as it arrives, before the delay (a benchmark
        # reads the worker's CPU time at its first receive: the end of its start-up).
        self.on_request: Callable[[str], None] | None = None
        self.server = _Server(("127.0.0.1", 0), self._handler_class())
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True,
                                        name="delay-proxy")
        self._thread.start()

    def counts(self) -> Counter[str]:
        """A copy of the calls so far, by action."""
        with self._lock:
            return Counter(self._counts)

    def carried(self) -> tuple[Counter[str], Counter[str]]:
        """Copies, taken together, of the SQS batch calls and receives answered so far and
        of the items they carried, by action. Both are counted when the answer comes back
        (a receive still waiting is in neither), so calls and items always match."""
        with self._lock:
            return Counter(self._answered), Counter(self._items)

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
            self._items.clear()
            self._answered.clear()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _count(self, action: str) -> None:
        with self._lock:
            self._counts[action] += 1

    def _count_items(self, action: str, body: bytes, response: bytes) -> None:
        items = items_of(action, body, response)
        if items is not None:
            with self._lock:
                self._answered[action] += 1
                self._items[action] += items

    def _handler_class(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as boto3 expects
            upstream: http.client.HTTPConnection | None = None

            def log_message(self, format, *args):  # noqa: A002 (the base class's name)
                pass

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    chunks = []
                    while size := int(self.rfile.readline().split(b";")[0], 16):
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _forward(self):
                body = self._body()
                action = action_of(self.command, self.path, self.headers, body)
                proxy._count(action)
                if proxy.on_request is not None:
                    proxy.on_request(action)
                if proxy.delay:
                    time.sleep(proxy.delay)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                headers["Content-Length"] = str(len(body))
                for attempt in (1, 2):
                    if self.upstream is None:
                        self.upstream = http.client.HTTPConnection(
                            "127.0.0.1", proxy.target_port, timeout=60)
                    try:
                        self.upstream.request(self.command, self.path, body, headers)
                        response = self.upstream.getresponse()
                        data = response.read()
                        break
                    except (http.client.HTTPException, OSError):
                        # The emulator closed an idle keep-alive connection: reconnect once.
                        self.upstream.close()
                        self.upstream = None
                        if attempt == 2:
                            self.send_error(502)
                            return
                if 200 <= response.status < 300:
                    proxy._count_items(action, body, data)
                self.send_response_only(response.status, response.reason)
                for key, value in response.getheaders():
                    if key.lower() not in HOP_BY_HOP:
                        self.send_header(key, value)
                # A HEAD answer names the object's length, not that of its (empty) body.
                length = response.getheader("Content-Length") if self.command == "HEAD" else None
                self.send_header("Content-Length", length or str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _forward

        return Handler
