"""Talking to the API: one httpx client, problem details turned into exit codes."""

import uuid
from collections.abc import Callable, Iterator

import httpx

from . import __version__

DONE, FAILED, USAGE, UNREACHABLE = 0, 1, 2, 3
CHUNK = 64 * 1024


class ClientError(Exception):
    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code


def detail_of(response: httpx.Response) -> str:
    try:
        problem = response.json()
        return str(problem.get("detail") or problem.get("title"))
    except (ValueError, AttributeError):
        return f"HTTP {response.status_code}"


class Api:
    def __init__(self, url: str, token: str, timeout: float = 60):
        if not token:
            raise ClientError(USAGE, "no API token: set CLOUDSITE_TOKEN or run `cloudsite "
                              "login` (make one with `manage.py create_api_token USERNAME`)")
        self.site = url.rstrip("/")
        self.http = httpx.Client(
            base_url=f"{self.site}/api/v1/", timeout=timeout,
            headers={"Authorization": f"Bearer {token}",
                     "User-Agent": f"cloudsite-client/{__version__}"})

    def request(self, method: str, path: str, **options) -> httpx.Response:
        try:
            response = self.http.request(method, path, **options)
        except httpx.TransportError as error:
            raise ClientError(UNREACHABLE, f"cannot reach {self.site}: {error}") from None
        if response.status_code < 400:
            return response
        detail = detail_of(response)
        if response.status_code == 401:
            raise ClientError(UNREACHABLE, f"not authorised by {self.site}: {detail}")
        if response.status_code == 429:
            wait = response.headers.get("Retry-After", "?")
            raise ClientError(UNREACHABLE, f"refused for now (retry after {wait} s): {detail}")
        if response.status_code >= 500:
            raise ClientError(UNREACHABLE, f"{self.site} answered {response.status_code}: "
                              f"{detail}")
        raise ClientError(USAGE, detail)

    def json(self, method: str, path: str, **options) -> dict:
        return self.request(method, path, **options).json()

    def find(self, job_id: str) -> dict:
        """A job of any tool by its id alone (ids are unique across tools)."""
        try:
            uuid.UUID(job_id)
        except ValueError:
            raise ClientError(USAGE, f"“{job_id}” is not a job id") from None
        return self.json("GET", f"jobs/{job_id}")

    def tools(self) -> list[str]:
        """The names of the site's installed tools: the site says, not this client."""
        return [tool["name"] for tool in self.json("GET", "tools")]

    def upload(self, path: str, fields: dict[str, str], name: str, data: bytes,
               content_type: str, progress: Callable[[int], None]) -> dict:
        boundary = uuid.uuid4().hex
        head = "".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n'
                       f"{value}\r\n" for key, value in fields.items())
        quoted = name.replace('"', "_").replace("\r", "_").replace("\n", "_")
        head += (f'--{boundary}\r\nContent-Disposition: form-data; name="image"; '
                 f'filename="{quoted}"\r\nContent-Type: {content_type}\r\n\r\n')
        body = head.encode() + data + f"\r\n--{boundary}--\r\n".encode()

        def chunks() -> Iterator[bytes]:
            # httpx pulls these as it sends, so progress follows the bytes on the wire.
            for start in range(0, len(body), CHUNK):
                yield body[start:start + CHUNK]
                # In bytes of the file (what the bar's total counts), not of the body
                # with its multipart envelope: never past 100%.
                progress(len(data) * min(len(body), start + CHUNK) // len(body))

        return self.json("POST", path, content=chunks(), headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Content-Length": str(len(body))})

    def download(self, url: str) -> bytes:
        # On S3 this is a redirect to a presigned URL; httpx drops the token for that host.
        try:
            response = self.http.get(url, follow_redirects=True)
        except httpx.TransportError as error:
            raise ClientError(UNREACHABLE, f"cannot download {url}: {error}") from None
        if response.status_code >= 400:
            raise ClientError(UNREACHABLE, f"cannot download {url}: {detail_of(response)}")
        return response.content
