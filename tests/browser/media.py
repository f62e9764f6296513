"""Test media made on the fly: a camera feed showing a real QR label, a phone photo."""
from __future__ import annotations

import io
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw


def label_feed(path: Path, payload: str) -> Path:
    """A 640×480 JPEG of a QR label, saved as .mjpeg: Chromium's fake camera loops it."""
    qr = qrcode.QRCode(border=4, box_size=8, error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(payload)
    qr.make(fit=True)
    code = qr.make_image(fill_color="black", back_color="white").get_image().convert("RGB")
    frame = Image.new("RGB", (640, 480), (236, 232, 222))
    side = min(400, code.width)
    code = code.resize((side, side), Image.Resampling.NEAREST)
    frame.paste(code, ((640 - side) // 2, (480 - side) // 2))
    path = path.with_suffix(".mjpeg")
    frame.save(path, format="JPEG", quality=92)
    return path


def phone_photo(width: int = 3000, height: int = 2000, seed: int = 1) -> bytes:
    """A large JPEG like a phone camera's, with some structure so it compresses realistically."""
    image = Image.new("RGB", (width, height), (120 + seed * 20 % 100, 140, 160))
    draw = ImageDraw.Draw(image)
    for n in range(0, width, 150):
        draw.rectangle([n, (n * 7) % height, n + 90, (n * 7) % height + 300], fill=((n * 3) % 255, (n * 5 + seed * 40) % 255, 90))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    return out.getvalue()
