"""The photo pipeline on its own: what comes out is upright, clean and small; hostile files are refused."""
from __future__ import annotations

import io

import pytest
from PIL import Image, ImageCms

from app.photos.processing import PhotoRejected, normalise_photo
from tests.photos.images import camera_jpeg, encoded, png_claiming

LIMITS = {"max_pixels": 50_000_000, "long_edge": 1600, "thumb_edge": 320, "quality": 85}


def _open(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_a_sideways_camera_jpeg_comes_out_upright_without_any_metadata():
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    source = camera_jpeg(orientation=6, gps=True, comment=b"shot at Prinsengracht 263", icc_profile=profile)
    assert "icc_profile" in _open(source).info
    assert _open(source).getexif().get_ifd(0x8825)  # the source really carries a position
    result = normalise_photo(source, **LIMITS)
    image = _open(result.jpeg)
    assert image.format == "JPEG" and image.size == (400, 300) == (result.width, result.height)
    top, bottom = image.getpixel((200, 40)), image.getpixel((200, 260))
    assert top[0] > 150 and top[2] < 80, "red must be on top"
    assert bottom[2] > 150 and bottom[0] < 80, "blue must be below"
    assert len(image.getexif()) == 0
    assert b"Exif" not in result.jpeg and b"PhoneCo" not in result.jpeg and b"Prinsengracht" not in result.jpeg
    assert "icc_profile" not in image.info and "comment" not in image.info
    thumb = _open(result.thumbnail)
    assert max(thumb.size) == 320 and b"Exif" not in result.thumbnail


def test_large_photos_are_shrunk_to_the_long_edge():
    result = normalise_photo(camera_jpeg(orientation=1, size=(4000, 3000)), **LIMITS)
    assert (result.width, result.height) == (1600, 1200)
    assert _open(result.jpeg).size == (1600, 1200)


def test_a_polyglot_loses_whatever_was_appended_to_the_image():
    payload = b"PK\x03\x04" + b"<script>alert('owned')</script>" * 20
    result = normalise_photo(camera_jpeg(gps=False) + payload, **LIMITS)
    assert b"<script>" not in result.jpeg and b"PK\x03\x04" not in result.jpeg
    assert _open(result.jpeg).format == "JPEG"


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        (encoded("GIF", "P"), 415, "unsupported_image_type"),
        (encoded("BMP"), 415, "unsupported_image_type"),
        (encoded("TIFF"), 415, "unsupported_image_type"),
        (b"%PDF-1.7\n1 0 obj<<>>endobj\n", 415, "unsupported_image_type"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', 415, "unsupported_image_type"),
        (b"<!doctype html><html><body>hi</body></html>", 415, "unsupported_image_type"),
        (camera_jpeg()[:1500], 422, "invalid_image"),
        (encoded("PNG")[:60], 422, "invalid_image"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 200, 422, "invalid_image"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 garbage", 422, "invalid_image"),
        (png_claiming(20_000, 20_000), 413, "too_many_pixels"),
        (png_claiming(9_000, 6_000), 413, "too_many_pixels"),
        (png_claiming(0, 10), 422, "invalid_image"),
    ],
    ids=["gif", "bmp", "tiff", "pdf", "svg", "html", "truncated-jpeg", "truncated-png", "jpeg-header-only", "bad-webp", "bomb-400M", "bomb-54M", "zero-width"],
)
def test_hostile_broken_and_foreign_files_are_refused(data, status, code):
    with pytest.raises(PhotoRejected) as refused:
        normalise_photo(data, **LIMITS)
    assert (refused.value.status, refused.value.code) == (status, code)


def test_pillows_own_bomb_warning_is_an_error_even_when_our_cap_is_higher():
    with pytest.raises(PhotoRejected) as refused:
        normalise_photo(png_claiming(10_000, 10_000), **{**LIMITS, "max_pixels": 10**9})
    assert refused.value.status == 413


@pytest.mark.parametrize(
    "source",
    [encoded("PNG", "RGBA"), encoded("PNG", "P"), encoded("PNG", "LA"), encoded("PNG", "I;16"), encoded("WEBP"), encoded("WEBP", "RGBA"), encoded("JPEG", "CMYK"), encoded("JPEG", "L")],
    ids=["png-rgba", "png-palette", "png-grey-alpha", "png-16bit", "webp", "webp-alpha", "jpeg-cmyk", "jpeg-grey"],
)
def test_every_accepted_kind_becomes_an_rgb_jpeg(source):
    result = normalise_photo(source, **LIMITS)
    image = _open(result.jpeg)
    assert (image.format, image.mode, image.size) == ("JPEG", "RGB", (64, 48))


def test_transparent_areas_become_white():
    image = Image.new("RGBA", (10, 10), (0, 0, 0, 0))
    out = io.BytesIO()
    image.save(out, format="PNG")
    result = normalise_photo(out.getvalue(), **LIMITS)
    assert all(channel > 240 for channel in _open(result.jpeg).getpixel((5, 5)))


def _phone_upload(**save: object) -> bytes:
    """What the driver app sends: an upright JPEG it already shrank, here with everything a camera adds."""
    from tests.photos.images import upright_scene

    out = io.BytesIO()
    upright_scene(1600, 1200).save(out, format="JPEG", quality=80, **save)
    return out.getvalue()


def test_an_upright_small_jpeg_keeps_its_pixels_exactly_and_loses_all_metadata():
    from PIL import ExifTags

    from tests.photos.images import GPS

    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneCo"
    exif.get_ifd(ExifTags.IFD.GPSInfo).update(GPS)
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">Prinsengracht 263</x:xmpmeta>'
    source = _phone_upload(exif=exif.tobytes(), icc_profile=profile, comment=b"shot at Prinsengracht 263", xmp=xmp)
    source += b"PK\x03\x04" + b"<script>alert('owned')</script>" * 20
    result = normalise_photo(source, **LIMITS)
    # Lossless: not re-encoded, so every pixel is what the phone sent.
    assert _open(result.jpeg).tobytes() == _open(source).tobytes()
    assert (result.width, result.height) == (1600, 1200)
    for trace in (b"Exif", b"PhoneCo", b"Prinsengracht", b"ICC_PROFILE", b"xmpmeta", b"<script>", b"PK\x03\x04"):
        assert trace not in result.jpeg, trace
    image = _open(result.jpeg)
    assert len(image.getexif()) == 0 and "icc_profile" not in image.info and "comment" not in image.info
    assert max(_open(result.thumbnail).size) == 320


@pytest.mark.parametrize("cut", [0.5, 0.9, 0.999])
def test_a_small_jpeg_cut_short_is_refused_on_the_cheap_path_too(cut):
    data = _phone_upload()
    with pytest.raises(PhotoRejected) as refused:
        normalise_photo(data[: int(len(data) * cut)], **LIMITS)
    assert refused.value.status == 422


def test_a_sideways_or_oversized_jpeg_still_takes_the_re_encode_path():
    sideways = normalise_photo(camera_jpeg(orientation=6, size=(400, 300)), **LIMITS)
    assert _open(sideways.jpeg).size == (400, 300)  # turned upright, so it was re-encoded
    big = normalise_photo(camera_jpeg(orientation=1, size=(3200, 2400)), **LIMITS)
    assert (big.width, big.height) == (1600, 1200)
