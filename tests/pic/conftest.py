import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from skimage import data


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


@pytest.fixture(scope="session")
def photo() -> Image.Image:
    """A real photograph shipped in scikit-image's wheel (512 × 512)."""
    return Image.fromarray(data.astronaut())


@pytest.fixture
def jpeg_upload(photo):
    def make(name="astronaut.jpg", content_type="image/jpeg"):
        return SimpleUploadedFile(name, encode(photo, "JPEG", quality=90), content_type)
    return make
