from django import forms
from django.conf import settings
from PIL import ExifTags, Image

from .enhance.files import ImageError, ImageInfo, format_of, open_image
from .enhance.rules import CONTENT_TYPES, MAX_PIXELS, MAX_STRENGTH_PERCENT

ACCEPT = ",".join(CONTENT_TYPES.values())  # the file picker offers only these


class RangeInput(forms.NumberInput):
    input_type = "range"


def inspect_header(upload) -> ImageInfo:
    """Format, upright size, frames and pixel count from the header alone.

    Nothing is decoded here (a 47 KB PNG can claim 49 megapixels, which would cost the
    web process about 150 MB to decode); a file whose pixel data is damaged fails in
    the worker, and the job says why. enhance.files.open_image is the header
    half of enhance.inspect(). Raises ImageError with a readable message; rewinds the file.
    """
    try:
        image = open_image(upload, MAX_PIXELS)
        with image:
            width, height = image.size
            if orientation(image) in (5, 6, 7, 8):
                width, height = height, width
            return ImageInfo(format_of(image), width, height)
    finally:
        upload.seek(0)


def orientation(image: Image.Image) -> int:
    # PngImageFile.getexif() decodes the whole image when the eXIf chunk is not
    # before the pixel data, so a PNG only counts what its header already holds.
    if image.format == "PNG":
        if "exif" not in image.info:
            return 1
        exif = Image.Exif()
        exif.load(image.info["exif"])
    else:
        exif = image.getexif()
    value = exif.get(ExifTags.Base.Orientation, 1)
    return value if isinstance(value, int) else 1


class PicForm(forms.Form):
    image = forms.FileField(
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
        error_messages={"required": "Choose a photo to upload.",
                        "empty": "The file is empty."},
    )
    strength = forms.IntegerField(
        min_value=0, max_value=MAX_STRENGTH_PERCENT, initial=MAX_STRENGTH_PERCENT,
        widget=RangeInput(attrs={"min": 0, "max": MAX_STRENGTH_PERCENT, "step": 1}),
        help_text=f"How much to enhance, 0 to {MAX_STRENGTH_PERCENT}%.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_bytes = settings.CLOUDSITE_MAX_UPLOAD_BYTES
        self.fields["image"].help_text = (
            f"JPEG, PNG or WebP; at most {self.max_bytes / 2**20:g} MB and "
            f"{MAX_PIXELS / 1e6:g} megapixels.")

    def clean_image(self):
        upload = self.cleaned_data["image"]
        # An OversizeUpload (pic/uploads.py) has its size but none of its bytes.
        if upload.size > self.max_bytes:
            raise forms.ValidationError(
                "The file is %(size).1f MB; the limit is %(limit)s MB.", code="too_large",
                params={"size": upload.size / 2**20, "limit": f"{self.max_bytes / 2**20:g}"})
        try:
            # By content, never by name or Content-Type: Pillow with an allow-list.
            self.image_info = inspect_header(upload)
        except ImageError as error:
            raise forms.ValidationError(str(error), code="invalid_image") from None
        return upload
