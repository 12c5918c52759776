"""An upload handler that stops storing an upload at the byte limit.

Django's FILE_UPLOAD_MAX_MEMORY_SIZE only decides memory versus disk: a 60 MB upload
is still written whole to a temporary file before any form can refuse it. This
handler writes at most `limit` bytes, then drops what it wrote and only counts the
rest, so the form (or the API, with 413) can say how big the file was. It is the
site's only upload handler (settings.FILE_UPLOAD_HANDLERS), so the pages and the API
are bounded alike.
"""

import io

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler


class OversizeUpload(UploadedFile):
    """Stands in for a file that went over the limit: its size, none of its bytes."""

    def __init__(self, name: str, content_type: str | None, size: int):
        super().__init__(io.BytesIO(), name, content_type, size)


class LimitedUploadHandler(TemporaryFileUploadHandler):
    def __init__(self, request=None, limit: int | None = None):
        super().__init__(request)
        self.limit = settings.CLOUDSITE_MAX_UPLOAD_BYTES if limit is None else limit

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0
        self.too_large = False

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.too_large:
            return None
        if self.received > self.limit:
            # Give back the disk at once; the rest is read (so that the answer reaches
            # the browser) but never stored.
            self.too_large = True
            self.file.truncate(0)
            return None
        self.file.write(raw_data)
        return None

    def file_complete(self, file_size):
        if not self.too_large:
            return super().file_complete(file_size)
        self.file.close()  # a NamedTemporaryFile: closing deletes it
        return OversizeUpload(self.file_name, self.content_type, self.received)

