"""Tests of the pure CloudPic pipeline, the pic/enhance package (no Django, no AWS).

Photographs come from scikit-image's wheel (they load offline); everything else is
generated here, including hand-built PNG files for 16-bit colour and for headers
that claim more pixels than the file holds.
"""

import io
import math
import threading

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PIL import ExifTags, Image, ImageCms, ImageEnhance, ImageOps

from pic import enhance
from pic.enhance import ImageError, ImageInfo, enhance_file, inspect, measure
from pic.enhance.metrics import Sample
from pic.enhance.plan import make_plan

from .photos import dull, flat, png_bytes, skimage_photo, soft

S = enhance.MAX_STRENGTH
TOLERANCE = 1e-3  # metrics are reported to 4 decimals
GAINS = ("contrast", "colorfulness", "sharpness")


# ----------------------------------------------------------------------- helpers


def encoded(image: Image.Image, fmt: str, **options) -> io.BytesIO:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    buffer.seek(0)
    return buffer


def run(src: io.BytesIO, strength: float = S) -> tuple[ImageInfo, dict, Image.Image, bytes]:
    dst = io.BytesIO()
    info, metrics = enhance_file(src, dst, strength)
    data = dst.getvalue()
    result = Image.open(io.BytesIO(data))
    result.load()
    return info, metrics, result, data


def gains(before: dict, after: dict) -> dict:
    return {key: after[key] / before[key] for key in GAINS if before[key] > 0}


def assert_within_bounds(before: dict, after: dict, s: float) -> None:
    for key, gain in gains(before, after).items():
        assert gain <= 1 + s + TOLERANCE, f"{key} rose by {gain:.4f} at s={s}"
    if before["brightness"] > 0:
        assert after["brightness"] / before["brightness"] <= 1 + s + TOLERANCE
    assert after["clipped"] - before["clipped"] <= 0.02 + TOLERANCE


def mean_abs_difference(a: Image.Image, b: Image.Image) -> float:
    return float(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)).mean())


def grainy(image: Image.Image, size: tuple[int, int], seed: int = 1) -> Image.Image:
    """image upscaled to size, with sensor-like grain (so it has detail to measure)."""
    rng = np.random.default_rng(seed)
    big = np.asarray(image.resize(size, Image.Resampling.BICUBIC), np.float64)
    big += rng.normal(0, 4, big.shape[:2])[..., None]
    return Image.fromarray(np.clip(big, 0, 255).astype(np.uint8))


# ------------------------------------------------------- what "enhance by s" means


@pytest.mark.parametrize(
    "name", ["astronaut", "chelsea", "coffee", "rocket", "immunohistochemistry"]
)
def test_it_enhances_hazy_photos_within_the_caps(name):
    original = flat(skimage_photo(name))
    before = measure(original, exact=True)
    after = measure(enhance.enhance(original, S), exact=True)
    assert_within_bounds(before, after, S)
    assert gains(before, after)["contrast"] > 1 + 0.5 * S


def test_a_step_that_is_not_needed_is_left_out():
    # A hazy photo with good colour and detail: only the tone step runs.
    plan, before, after, needs = make_plan(Sample.of(flat(skimage_photo("motorcycle"))), S)
    assert plan.lut is not None and plan.saturation == 1.0 and plan.sharpen == 0.0


def test_a_soft_photo_gets_the_sharpening_only():
    original = soft(skimage_photo("motorcycle"))
    plan, before, after, _ = make_plan(Sample.of(original), S)
    assert plan.lut is None and plan.saturation == 1.0 and plan.sharpen > 0
    assert after.sharpness / before.sharpness > 1 + 0.9 * S


def test_sharpening_is_kept_on_a_large_soft_photo_planned_on_a_sample():
    original = soft(grainy(skimage_photo("coffee"), (1800, 1200)), 2.0)
    plan, before, after, _ = make_plan(Sample.of(original), S)
    # (A 3x3 unsharp mask can do little against a blur this wide: at its strongest it
    # adds about 10% here.)
    assert plan.sharpen > 0
    assert after.sharpness / before.sharpness > 1.05


@pytest.mark.parametrize("s", [0.05, 0.15, 0.25])
def test_it_scales_with_the_strength(s):
    original = soft(dull(flat(skimage_photo("motorcycle"))))
    before = measure(original, exact=True)
    after = measure(enhance.enhance(original, s), exact=True)
    assert_within_bounds(before, after, s)
    assert all(gain > 1 for gain in gains(before, after).values())


def test_it_keeps_the_caps_on_the_full_image_when_it_plans_on_a_sample():
    # 1800 x 1200 is large enough to be planned on tiles; measure every pixel after.
    original = dull(flat(grainy(skimage_photo("coffee"), (1800, 1200))), 0.6)
    before = measure(original, exact=True)
    after = measure(enhance.enhance(original, S), exact=True)
    assert_within_bounds(before, after, S)
    assert all(gain > 1.02 for key, gain in gains(before, after).items() if key != "sharpness")


def test_it_keeps_the_caps_on_sparse_stars_planned_on_a_sample():
    # Black sky with small bright, colourful objects: colourfulness and clipping
    # hang on a few pixels, which a sample of a few big tiles would miss.
    original = flat(grainy(skimage_photo("hubble_deep_field"), (1800, 1200)))
    before = measure(original, exact=True)
    after = measure(enhance.enhance(original, S), exact=True)
    assert_within_bounds(before, after, S)
    assert all(gain >= 1 for gain in gains(before, after).values())


@pytest.mark.parametrize("size", [(6000, 90), (90, 6000), (50_000, 9)])
def test_it_handles_long_thin_images(size):
    original = flat(grainy(skimage_photo("coffee"), size))  # big enough to be sampled, in odd grids
    before = measure(original, exact=True)
    result = enhance.enhance(original, S)
    assert result.size == size
    assert_within_bounds(before, measure(result, exact=True), S)


def test_enhance_leaves_its_argument_alone():
    original = skimage_photo("rocket")
    pixels = original.tobytes()
    enhance.enhance(original, S)
    assert original.tobytes() == pixels


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# A 3 x 3 photo where the tone curve alone overshoots the detail aim and the
# sharpening cannot move detail at all (once a division by zero in the planner).
@example(width=3, height=3, seed=1084774962, noise=0.7306066076410245, grey=False, s=S)
@given(
    width=st.integers(1, 90),
    height=st.integers(1, 90),
    seed=st.integers(0, 2**32 - 1),
    noise=st.floats(0, 60),
    grey=st.booleans(),
    s=st.floats(0, S),
)
def test_it_keeps_the_caps_on_generated_images(width, height, seed, noise, grey, s):
    rng = np.random.default_rng(seed)
    ramp = np.linspace(rng.uniform(0, 128), rng.uniform(128, 255), width)
    base = np.broadcast_to(ramp, (height, width))[..., None] * rng.uniform(0.3, 1, 3)
    pixels = base + rng.normal(0, noise, (height, width, 3))
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    if grey:
        image = image.convert("L")
    before = measure(image, exact=True)
    result = enhance.enhance(image, s)
    assert result.size == image.size and result.mode == image.mode
    assert_within_bounds(before, measure(result, exact=True), s)


def test_the_naive_imageenhance_chain_would_break_the_caps():
    # Why the pipeline plans: three separate factors of 1.3 overshoot the colour cap.
    original = skimage_photo("coffee")
    naive = ImageEnhance.Contrast(original).enhance(1.3)
    naive = ImageEnhance.Sharpness(naive).enhance(1.3)
    naive = ImageEnhance.Color(naive).enhance(1.3)
    before, after = measure(original, exact=True), measure(naive, exact=True)
    assert gains(before, after)["colorfulness"] > 1 + S + 0.1


def test_strength_zero_returns_identical_pixels():
    original = skimage_photo("chelsea")
    result = enhance.enhance(original, 0)
    assert result is not original
    assert result.tobytes() == original.tobytes()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_strength_zero_hands_back_the_original_file(fmt):
    src = encoded(skimage_photo("chelsea"), fmt)
    info, metrics, result, data = run(src, 0)
    assert data == src.getvalue()
    assert info == ImageInfo(fmt, 451, 300)
    assert metrics["before"] == metrics["after"]


def test_strength_zero_still_turns_the_photo_upright():
    original = skimage_photo("chelsea")
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    _, _, result, _ = run(encoded(original, "PNG", exif=exif), 0)
    assert result.tobytes() == original.transpose(Image.Transpose.ROTATE_270).tobytes()


def test_metrics_carry_the_wire_keys_and_describe_the_output():
    original = dull(flat(skimage_photo("rocket")))
    info, metrics, result, _ = run(encoded(original, "PNG"))
    assert set(metrics) == {"before", "after", "needed"}
    for side in ("before", "after"):
        assert list(metrics[side]) == list(enhance.METRIC_KEYS)
        assert all(isinstance(v, float) and v == round(v, 4) for v in metrics[side].values())
    assert list(metrics["needed"]) == list(enhance.NEED_KEYS)
    assert metrics["needed"] == enhance.needs(original)
    assert metrics["needed"]["contrast"] > 0.2 and metrics["needed"]["colorfulness"] > 0.05
    assert metrics["after"] == measure(result)  # a lossless file: exactly its pixels
    assert metrics["before"] == measure(original)
    assert_within_bounds(metrics["before"], metrics["after"], S)


def test_strips_give_the_same_pixels_as_one_pass(monkeypatch):
    original = soft(dull(flat(skimage_photo("coffee"))))
    whole = enhance.enhance(original, S)
    monkeypatch.setattr(enhance.apply, "STRIP_PIXELS", 5_000)  # 8-row strips
    assert enhance.enhance(original, S, threads=3).tobytes() == whole.tobytes()


def test_concurrent_jobs_do_not_disturb_each_other():
    src = encoded(flat(skimage_photo("astronaut")), "JPEG", quality=90).getvalue()
    expected = run(io.BytesIO(src))[3]
    results = []

    def job():
        results.append(run(io.BytesIO(src))[3])

    threads = [threading.Thread(target=job) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [expected] * 3


@pytest.mark.parametrize("strength", [-0.01, 0.31, 1.0, math.nan, "strong", None])
def test_it_rejects_a_strength_outside_0_to_30_percent(strength):
    with pytest.raises(ValueError) as caught:
        enhance.enhance(skimage_photo("chelsea"), strength)
    assert not isinstance(caught.value, ImageError)  # a caller's bug, not a bad upload
    with pytest.raises(ValueError):
        enhance_file(encoded(skimage_photo("chelsea"), "PNG"), io.BytesIO(), strength)


# ------------------------------------------------------------- real files


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_output_format_and_size_follow_the_input(fmt):
    info, _, result, _ = run(encoded(skimage_photo("coffee"), fmt))
    assert result.format == fmt == info.format
    assert result.size == (600, 400) == (info.width, info.height)
    assert info.extension == enhance.EXTENSIONS[fmt]


def test_it_applies_the_exif_orientation_and_clears_the_tag():
    pixels = np.zeros((40, 60, 3), np.uint8)
    pixels[:20, :30] = (250, 20, 20)  # red block in the stored top-left corner
    stored = Image.fromarray(pixels)
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # display rotated 90 degrees clockwise
    exif[ExifTags.Base.Make] = "CloudPic test camera"
    src = encoded(stored, "JPEG", quality=95, exif=exif)

    assert inspect(src) == ImageInfo("JPEG", 40, 60)
    info, _, result, _ = run(src)
    assert result.size == (40, 60) == (info.width, info.height)
    upright = np.asarray(result, np.float64)
    assert upright[:30, 20:, 0].mean() > 150  # the block is now top-right
    assert upright[:30, :20, 0].mean() < 60
    tags = result.getexif()
    assert tags.get(ExifTags.Base.Orientation) in (None, 1)
    assert tags.get(ExifTags.Base.Make) == "CloudPic test camera"  # other EXIF kept


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_it_keeps_the_icc_profile(fmt):
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    _, _, result, _ = run(encoded(skimage_photo("coffee"), fmt, icc_profile=profile))
    assert result.info.get("icc_profile") == profile


def rgba_photo() -> Image.Image:
    image = dull(skimage_photo("chelsea")).convert("RGBA")
    alpha = np.tile(np.linspace(0, 255, image.width).astype(np.uint8), (image.height, 1))
    image.putalpha(Image.fromarray(alpha))
    return image


@pytest.mark.parametrize(
    ("fmt", "options"),
    [("PNG", {}), ("WEBP", {"lossless": True}), ("WEBP", {"quality": 90})],
)
def test_it_keeps_alpha(fmt, options):
    src = encoded(rgba_photo(), fmt, **options)
    original = Image.open(io.BytesIO(src.getvalue()))
    _, metrics, result, _ = run(src)
    assert result.mode == "RGBA"
    assert result.getchannel("A").tobytes() == original.getchannel("A").tobytes()
    assert gains(metrics["before"], metrics["after"])["colorfulness"] > 1


def test_it_writes_lossless_webp_for_a_lossless_original():
    _, _, _, lossless = run(encoded(skimage_photo("coffee"), "WEBP", lossless=True))
    _, _, _, lossy = run(encoded(skimage_photo("coffee"), "WEBP", quality=90))
    assert lossless[12:16] == b"VP8L" and lossy[12:16] == b"VP8 "


def test_it_converts_palette_images_to_rgb():
    original = flat(skimage_photo("coffee")).quantize(64)
    _, metrics, result, _ = run(encoded(original, "PNG"))
    assert result.mode == "RGB" and result.size == original.size
    assert mean_abs_difference(result, original.convert("RGB")) < 25
    assert_within_bounds(metrics["before"], metrics["after"], S)


def test_it_keeps_the_transparency_of_palette_images():
    original = flat(skimage_photo("coffee")).quantize(64)
    original.info["transparency"] = 0
    src = encoded(original, "PNG")
    _, _, result, _ = run(src)
    expected = Image.open(io.BytesIO(src.getvalue())).convert("RGBA").getchannel("A")
    assert result.mode == "RGBA"
    assert result.getchannel("A").tobytes() == expected.tobytes()


def test_it_enhances_grayscale_jpeg_as_grayscale():
    original = soft(flat(skimage_photo("camera")))
    info, metrics, result, _ = run(encoded(original, "JPEG", quality=95))
    assert result.mode == "L" and info.format == "JPEG"
    assert metrics["before"]["colorfulness"] == metrics["after"]["colorfulness"] == 0
    assert_within_bounds(metrics["before"], metrics["after"], S)
    assert gains(metrics["before"], metrics["after"])["contrast"] > 1.05
    assert gains(metrics["before"], metrics["after"])["sharpness"] > 1.05


def test_it_keeps_grayscale_with_alpha():
    grey = flat(skimage_photo("camera"))
    alpha = Image.linear_gradient("L").resize(grey.size)
    original = Image.merge("LA", (grey, alpha))
    _, _, result, _ = run(encoded(original, "PNG"))
    assert result.mode == "LA"
    assert result.getchannel("A").tobytes() == alpha.tobytes()


def cmyk_jpeg(**options) -> tuple[Image.Image, io.BytesIO]:
    rgb = flat(skimage_photo("coffee"))
    return rgb, encoded(rgb.convert("CMYK"), "JPEG", quality=95, **options)


def test_it_converts_cmyk_jpeg_to_rgb_without_going_dark():
    rgb, src = cmyk_jpeg()
    assert Image.open(io.BytesIO(src.getvalue())).mode == "CMYK"
    info, metrics, result, _ = run(src)
    assert result.mode == "RGB" and info.format == "JPEG"
    original = measure(rgb)
    assert abs(metrics["before"]["brightness"] - original["brightness"]) < 0.02
    assert measure(result)["brightness"] > original["brightness"] - 0.1  # haze removed
    assert mean_abs_difference(result, rgb) < 30  # an inverted image would be ~100 off


def test_a_broken_cmyk_profile_falls_back_to_the_plain_conversion():
    profile = bytes(16) + b"CMYK" + bytes(108)  # claims CMYK, is not a profile
    rgb, src = cmyk_jpeg(icc_profile=profile)
    _, _, result, _ = run(src)
    assert result.mode == "RGB" and "icc_profile" not in result.info  # not a CMYK one
    assert mean_abs_difference(result, rgb) < 30


def test_it_scales_16_bit_grey_png_down_instead_of_clipping():
    # A ramp over the middle of the range: it needs a stretch, so it is re-encoded.
    ramp = np.tile(np.linspace(16000, 50000, 256).astype(np.uint16), (64, 1))
    src = encoded(Image.fromarray(ramp), "PNG")
    assert Image.open(io.BytesIO(src.getvalue())).mode.startswith("I")
    as_8_bit = enhance.enhance(Image.open(io.BytesIO(src.getvalue())), 0)
    assert as_8_bit.mode == "L"
    assert np.array_equal(np.asarray(as_8_bit), np.rint(ramp / 257).astype(np.uint8))
    info, _, result, _ = run(src)
    assert result.mode == "L" and info.format == "PNG"
    assert 0.35 < measure(result)["brightness"] < 0.65  # not white


def test_it_reads_16_bit_colour_png_without_turning_white():
    rgb = np.asarray(flat(skimage_photo("chelsea")), np.uint16) * 257
    rows = b"".join(b"\0" + row.astype(">u2").tobytes() for row in rgb)
    src = io.BytesIO(png_bytes(451, 300, 16, 2, rows))
    _, _, result, _ = run(src)
    assert result.mode == "RGB"
    original = measure(skimage_photo("chelsea"))
    assert abs(measure(result)["brightness"] - original["brightness"]) < 0.1


def test_it_accepts_a_multi_picture_jpeg_as_jpeg():
    # Phones and cameras write MPO: a JPEG followed by more pictures (e.g. a gain map).
    src = encoded(flat(skimage_photo("chelsea")), "MPO", save_all=True,
                  append_images=[skimage_photo("coffee")])
    assert inspect(src) == ImageInfo("JPEG", 451, 300)
    info, _, result, _ = run(src)
    assert info == ImageInfo("JPEG", 451, 300) and result.format == "JPEG"


# ----------------------------------------------------------------------- rejects


def reject(data: bytes, max_pixels: int = enhance.MAX_PIXELS) -> str:
    """The message of both inspect's and enhance_file's ImageError for data."""
    src = io.BytesIO(data)
    with pytest.raises(ImageError) as caught:
        inspect(src, max_pixels)
    assert src.tell() == 0
    with pytest.raises(ImageError):
        enhance_file(io.BytesIO(data), io.BytesIO(), S, max_pixels)
    return str(caught.value)


def test_it_rejects_an_empty_file():
    assert "empty" in reject(b"")


@pytest.mark.parametrize(
    "data",
    [
        b"just some notes, saved as photo.jpg\n",
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>',
        b"<!DOCTYPE html><html><body><img src=x onerror=alert(1)></body></html>",
        b"\xef\xbb\xbf  <svg></svg>",
    ],
)
def test_it_rejects_text_svg_and_html_whatever_their_name(data):
    message = reject(data)
    assert "JPEG, PNG or WebP" in message
    assert "text" in message or "markup" in message


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_it_rejects_a_truncated_image(fmt):
    data = encoded(skimage_photo("coffee"), fmt).getvalue()
    assert "truncated" in reject(data[: len(data) // 2])


def test_it_rejects_too_many_pixels_from_the_header_before_decoding():
    # 8000 x 7000 = 56 MP claimed by a 60-byte file: decoding it would fail, so a
    # message about its size shows that the header alone was read.
    data = png_bytes(8000, 7000, 8, 2, b"")
    assert len(data) < 100
    message = reject(data)
    assert "56.0 megapixels" in message and "50 megapixels" in message


def test_it_rejects_a_huge_header_beyond_pillows_own_bomb_limit():
    assert "too many pixels" in reject(png_bytes(20000, 20000, 8, 2, b""))


def test_the_pixel_limit_is_a_parameter():
    data = encoded(skimage_photo("chelsea"), "PNG").getvalue()
    assert inspect(io.BytesIO(data), 451 * 300) == ImageInfo("PNG", 451, 300)
    assert "megapixels" in reject(data, max_pixels=451 * 300 - 1)


def test_it_rejects_gif_animated_or_not():
    frames = [Image.new("P", (20, 20), i) for i in range(3)]
    animated = encoded(frames[0], "GIF", save_all=True, append_images=frames[1:], loop=0)
    assert "GIF" in reject(animated.getvalue())
    assert "GIF" in reject(encoded(frames[0], "GIF").getvalue())


@pytest.mark.parametrize("fmt", ["WEBP", "PNG"])
def test_it_rejects_animated_webp_and_png(fmt):
    frames = [skimage_photo("chelsea"), skimage_photo("chelsea").rotate(180)]
    src = encoded(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100)
    assert Image.open(io.BytesIO(src.getvalue())).is_animated
    assert "Animated" in reject(src.getvalue())


@pytest.mark.parametrize("fmt", ["BMP", "TIFF"])
def test_it_rejects_other_image_formats(fmt):
    assert "not a JPEG, PNG or WebP" in reject(encoded(skimage_photo("chelsea"), fmt).getvalue())


def test_inspect_rewinds_and_reports_the_upright_size():
    src = encoded(skimage_photo("chelsea"), "WEBP")
    src.seek(7)
    assert inspect(src) == ImageInfo("WEBP", 451, 300)
    assert src.tell() == 0
    assert ImageInfo("WEBP", 1, 1).extension == "webp"


def test_a_static_png_stays_accepted_after_an_orientation_swap():
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 8
    src = encoded(skimage_photo("chelsea"), "PNG", exif=exif)
    assert inspect(src) == ImageInfo("PNG", 300, 451)
    info, _, result, _ = run(src)
    assert result.size == (300, 451) == (info.width, info.height)
    assert result.tobytes() != b""
    expected = ImageOps.exif_transpose(Image.open(io.BytesIO(src.getvalue())))
    assert expected.size == result.size
