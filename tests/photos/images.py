"""Image fixtures made with Pillow in the test itself: camera JPEGs, hostile files, other formats."""
from __future__ import annotations

import io
import struct
import zlib

from PIL import ExifTags, Image

GPS = {
    ExifTags.GPS.GPSLatitudeRef: "N",
    ExifTags.GPS.GPSLatitude: (52.0, 22.0, 30.5),
    ExifTags.GPS.GPSLongitudeRef: "E",
    ExifTags.GPS.GPSLongitude: (4.0, 53.0, 2.25),
}


def upright_scene(width: int = 400, height: int = 300) -> Image.Image:
    """Red on top, blue below: easy to tell which way up a picture is."""
    image = Image.new("RGB", (width, height), (200, 20, 20))
    image.paste((20, 20, 200), (0, height // 2, width, height))
    return image


def camera_jpeg(orientation: int = 6, gps: bool = True, size: tuple[int, int] = (400, 300), **save: object) -> bytes:
    """A JPEG stored sideways, as phones do, with its EXIF orientation (and GPS position)."""
    scene = upright_scene(*size)
    # Orientation 6 means "turn 90° clockwise to view", so the sensor's pixels are turned the other way.
    stored = scene.rotate(90, expand=True) if orientation == 6 else scene
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "PhoneCo"
    if gps:
        exif.get_ifd(ExifTags.IFD.GPSInfo).update(GPS)
    out = io.BytesIO()
    stored.save(out, format="JPEG", quality=90, exif=exif.tobytes(), **save)
    return out.getvalue()


def encoded(fmt: str, mode: str = "RGB", size: tuple[int, int] = (64, 48), **save: object) -> bytes:
    image = upright_scene(*size).convert(mode) if mode not in ("I;16",) else Image.new("I;16", size, 40000)
    out = io.BytesIO()
    image.save(out, format=fmt, **save)
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width``×``height`` pixels: a decompression bomb's shape."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024, 9)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")
