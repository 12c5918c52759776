from django import forms

from .enhance import MAX_PIXELS, ImageError, inspect

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
ACCEPT = "image/jpeg,image/png,image/webp"


class RangeInput(forms.NumberInput):
    input_type = "range"


class PicForm(forms.Form):
    image = forms.FileField(
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
        help_text=f"JPEG, PNG or WebP; at most {MAX_UPLOAD_BYTES // 2**20} MB and "
        f"{MAX_PIXELS / 1e6:g} megapixels.",
        error_messages={"required": "Choose a photo to upload.",
                        "empty": "The file is empty."},
    )
    strength = forms.IntegerField(
        min_value=0, max_value=30, initial=30,
        widget=RangeInput(attrs={"min": 0, "max": 30, "step": 1}),
        help_text="How much to enhance, 0 to 30%.",
    )

    def clean_image(self):
        upload = self.cleaned_data["image"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                "The file is %(size).1f MB; the limit is %(limit)s MB.", code="too_large",
                params={"size": upload.size / 2**20, "limit": MAX_UPLOAD_BYTES // 2**20})
        try:
            # By content, never by name or Content-Type: Pillow with an allow-list.
            self.image_info = inspect(upload)
        except ImageError as error:
            raise forms.ValidationError(str(error), code="invalid_image") from None
        return upload
