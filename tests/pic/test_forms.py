import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image

from pic.enhance import ImageInfo
from pic.forms import PicForm
from tests.pic.conftest import encode


def validate(upload, strength="30"):
    form = PicForm({"strength": strength}, {"image": upload})
    return form, form.is_valid()


def test_it_accepts_a_jpeg_and_reads_its_size_and_format(jpeg_upload):
    form, valid = validate(jpeg_upload())
    assert valid, form.errors
    assert (form.image_info.format, form.image_info.width, form.image_info.height) == (
        "JPEG", 512, 512)


@pytest.mark.parametrize("fmt, options", [("PNG", {}), ("WEBP", {"quality": 80})])
def test_it_accepts_png_and_webp(photo, fmt, options):
    form, valid = validate(SimpleUploadedFile("x.bin", encode(photo, fmt, **options)))
    assert valid, form.errors
    assert form.image_info.format == fmt


def test_the_name_and_content_type_do_not_matter(photo):
    upload = SimpleUploadedFile("notes.txt", encode(photo, "PNG"), "text/plain")
    assert validate(upload)[1]


@pytest.mark.parametrize("name, content, message", [
    ("empty.jpg", b"", "The file is empty."),
    ("notes.jpg", b"just some text, not a photo\n", "is text, not an image"),
    ("drawing.png", b'<svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>', "is markup"),
    ("page.jpg", b"<!doctype html><html><body>hi</body></html>", "is markup"),
    ("anim.png", None, "Animated images are not supported"),
    ("old.gif", None, "GIF images"),
])
def test_it_rejects_what_is_not_a_still_photo(photo, name, content, message):
    if name == "anim.png":
        frames = [photo.resize((32, 32)), photo.resize((32, 32)).rotate(90)]
        content = encode(frames[0], "PNG", save_all=True, append_images=frames[1:])
    elif name == "old.gif":
        content = encode(photo.resize((32, 32)), "GIF")
    form, valid = validate(SimpleUploadedFile(name, content, "image/jpeg"))
    assert not valid
    assert any(message in error for error in form.errors["image"]), form.errors


def test_a_truncated_image_is_left_to_the_worker(photo):
    # The web request reads the header only; the worker fails the job (tests/pic/test_flow).
    content = encode(photo, "JPEG", quality=90)
    form, valid = validate(SimpleUploadedFile("cut.jpg", content[: len(content) // 2]))
    assert valid and form.image_info == ImageInfo("JPEG", 512, 512)


def test_a_png_orientation_in_its_header_swaps_the_size(photo):
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    form, valid = validate(SimpleUploadedFile("r.png", encode(photo.resize((40, 60)), "PNG",
                                                               exif=exif)))
    assert valid and form.image_info == ImageInfo("PNG", 60, 40)


def test_it_rejects_too_many_pixels_from_the_header():
    # 10,000 × 6,000 = 60 MP of one colour compresses to a few kilobytes.
    content = encode(Image.new("L", (10_000, 6_000)), "PNG", optimize=True)
    assert len(content) < 200_000
    form, valid = validate(SimpleUploadedFile("huge.png", content))
    assert not valid and "60.0 megapixels; the limit is 50 megapixels" in form.errors["image"][0]


def test_it_rejects_a_file_over_the_size_limit(jpeg_upload, settings):
    settings.CLOUDSITE_MAX_UPLOAD_BYTES = 10_000
    form, valid = validate(jpeg_upload())
    assert not valid
    [error] = form.errors.as_data()["image"]
    assert error.code == "too_large" and "The file is 0.1 MB" in error.messages[0]


@pytest.mark.parametrize("strength", ["-1", "31", "abc", "12.5"])
def test_it_rejects_a_strength_outside_0_to_30(jpeg_upload, strength):
    form, valid = validate(jpeg_upload(), strength)
    assert not valid and "strength" in form.errors


def test_a_missing_file_says_so():
    form = PicForm({"strength": "30"}, {})
    assert not form.is_valid() and form.errors["image"] == ["Choose a photo to upload."]
