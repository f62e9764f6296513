"""Turn uploaded bytes into a clean, upright JPEG and its thumbnail — or refuse them.

Only JPEG, PNG and WebP are opened (Pillow with an explicit ``formats`` list),
the pixel count is checked from the header before anything is decoded, and
nothing but pixels is kept: EXIF (GPS above all), ICC, XMP, comments and
anything appended after the image (polyglot files) are gone.

Two ways there, chosen per upload:
- the common case, a JPEG the phone already shrank (within the long edge,
  upright, RGB): its metadata segments are dropped losslessly and the
  result is decoded once at a quarter of its size to prove it is a whole image
  (the thumbnail comes from that small decode). No re-encode: a few ms of CPU.
- anything else (camera files, PNG, WebP, sideways, CMYK): decoded, shrunk,
  turned upright and re-encoded from its pixels.
"""
from __future__ import annotations

import io
import math
import re
import warnings
from dataclasses import dataclass

from PIL import ExifTags, Image

# A decompression bomb is an attack, not a warning: refuse it (see PhotoRejected below).
warnings.filterwarnings("error", category=Image.DecompressionBombWarning)

FORMATS = ("JPEG", "PNG", "WEBP")
_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")


class PhotoRejected(Exception):
    """The upload is not a photo we keep; ``status`` is the HTTP answer (413, 415 or 422)."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class NormalisedPhoto:
    jpeg: bytes
    thumbnail: bytes
    width: int
    height: int
    source_format: str


def looks_like_accepted_image(data: bytes) -> bool:
    """By the file's own signature, not its name or Content-Type."""
    return data.startswith(_SIGNATURES) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")


def _draft_size(width: int, height: int, long_edge: int) -> tuple[int, int] | None:
    scale = long_edge / max(width, height)
    if scale >= 1:
        return None
    return math.ceil(width * scale), math.ceil(height * scale)


# EXIF orientation → the transposition that turns the stored pixels upright (as ImageOps.exif_transpose).
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _upright(image: Image.Image, orientation: int) -> Image.Image:
    method = _UPRIGHT.get(orientation)
    return image.transpose(method) if method is not None else image


def _flatten(image: Image.Image) -> Image.Image:
    """RGB for JPEG: transparency goes onto white, palettes and 16-bit greys are expanded."""
    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if image.mode.startswith("I"):
        # 16-bit greys: scale 0..65535 down to 0..255 before dropping to 8 bits.
        return image.convert("I").point(lambda value: value * (1 / 256)).convert("L").convert("RGB")
    return image.convert("RGB")


# JPEG segments kept by the lossless path: tables, frame and scan headers, restart interval,
# and Adobe's APP14 (it says whether three channels are RGB or YCbCr; nothing personal).
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_KEPT = _SOF | {0xC4, 0xCC, 0xDB, 0xDD, 0xDA, 0xEE}
# Entropy-coded data runs to the next marker: an FF followed by anything but stuffing (FF00), a restart
# (FFD0-D7) or another FF (fill). One search in C: a phone's photo holds thousands of FF bytes, and
# looking at each from Python cost more than the rest of the strip.
_NEXT_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")


def strip_jpeg_metadata(data: bytes) -> bytes | None:
    """The JPEG with only what decodes it (no APPn but Adobe's, no comments, nothing after EOI).

    None when the file does not parse as a sequence of segments (the re-encode path
    then judges it, and refuses it with the decoder's reason).
    """
    if not data.startswith(b"\xff\xd8"):
        return None
    out = [b"\xff\xd8"]
    pos, size = 2, len(data)
    while pos + 2 <= size:
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte before a marker
            pos += 1
            continue
        if marker == 0xD9:
            out.append(b"\xff\xd9")
            return b"".join(out)
        if pos + 4 > size:
            return None
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        end = pos + 2 + length
        if length < 2 or end > size:
            return None
        if marker == 0xEE and data[pos + 4 : pos + 9] != b"Adobe":
            marker = 0xE0  # an APP14 that is not Adobe's: dropped like any other APPn
        if marker in _KEPT:
            out.append(data[pos:end])
        pos = end
        if marker == 0xDA:
            after_scan = _NEXT_MARKER.search(data, pos)
            if after_scan is None:
                return None
            found = after_scan.start()
            out.append(data[pos:found])
            pos = found
    return None


def _lossless(data: bytes, *, max_pixels: int, long_edge: int, thumb_edge: int) -> NormalisedPhoto | None:
    """The cheap path for an upright, already small JPEG; None when it does not apply."""
    with Image.open(io.BytesIO(data), formats=("JPEG",)) as probe:
        width, height = probe.size
        if probe.mode != "RGB" or max(width, height) > long_edge or width * height > max_pixels:
            return None
        if probe.getexif().get(ExifTags.Base.Orientation, 1) != 1:
            return None
    stripped = strip_jpeg_metadata(data)
    if stripped is None:
        return None
    # Decode what we keep, not what we were sent, once: at 1/4 scale the decoder still reads
    # every coefficient (a truncated or corrupt file fails here) but does a sixteenth of the work.
    image = Image.open(io.BytesIO(stripped), formats=("JPEG",))
    if image.size != (width, height):
        return None
    image.draft("RGB", (max(1, width // 4), max(1, height // 4)))
    image.load()
    thumb = image.convert("RGB")
    # The quarter-scale decode is already averaged by the IDCT and only a little larger than the
    # thumbnail (400 px for 320): bilinear comes within 50 dB PSNR of Lanczos here, at half its cost.
    thumb.thumbnail((thumb_edge, thumb_edge), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return NormalisedPhoto(jpeg=stripped, thumbnail=_encode(thumb, 80), width=width, height=height, source_format="JPEG")


def normalise_photo(
    data: bytes, *, max_pixels: int, long_edge: int, thumb_edge: int, quality: int
) -> NormalisedPhoto:
    """Validate and clean ``data`` (losslessly when it can); raise PhotoRejected with the HTTP status to answer."""
    if not looks_like_accepted_image(data):
        raise PhotoRejected(415, "unsupported_image_type", "Send a JPEG, PNG or WebP photo.")
    if data.startswith(b"\xff\xd8\xff"):
        try:
            cheap = _lossless(data, max_pixels=max_pixels, long_edge=long_edge, thumb_edge=thumb_edge)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise PhotoRejected(413, "too_many_pixels", "The photo has far too many pixels to be a photo.") from None
        except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, KeyError, MemoryError) as error:
            raise PhotoRejected(422, "invalid_image", f"The photo could not be read ({type(error).__name__}). Take it again.") from error
        if cheap is not None:
            return cheap
    return reencode_photo(data, max_pixels=max_pixels, long_edge=long_edge, thumb_edge=thumb_edge, quality=quality)


def reencode_photo(
    data: bytes, *, max_pixels: int, long_edge: int, thumb_edge: int, quality: int
) -> NormalisedPhoto:
    """Decode, shrink, turn upright and re-encode from the pixels (every kind of upload)."""
    if not looks_like_accepted_image(data):
        raise PhotoRejected(415, "unsupported_image_type", "Send a JPEG, PNG or WebP photo.")
    try:
        # Opened from memory, not a file: nothing to close, and the picture outlives this block.
        image = Image.open(io.BytesIO(data), formats=FORMATS)
        width, height = image.size
        if width < 1 or height < 1 or width * height > max_pixels:
            raise PhotoRejected(
                413, "too_many_pixels", f"The photo is {width}×{height} pixels; the most we accept is {max_pixels:,} pixels."
            )
        source_format = image.format or "?"
        orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
        draft = _draft_size(width, height, long_edge)
        if draft and source_format == "JPEG":
            # JPEG can decode at 1/2, 1/4 or 1/8 scale directly: far less work than decoding it all.
            image.draft("RGB", draft)
        image.load()
        picture = _flatten(image)
        # Shrink first, then turn upright: turning the small picture is cheaper.
        picture.thumbnail((long_edge, long_edge), Image.Resampling.LANCZOS, reducing_gap=3.0)
        picture = _upright(picture, orientation)
    except PhotoRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoRejected(413, "too_many_pixels", "The photo has far too many pixels to be a photo.") from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, KeyError, MemoryError) as error:
        # Truncated, corrupt or hostile files all end here: Pillow says what it could not read.
        raise PhotoRejected(422, "invalid_image", f"The photo could not be read ({type(error).__name__}). Take it again.") from error

    thumb = picture.copy()
    thumb.thumbnail((thumb_edge, thumb_edge), Image.Resampling.LANCZOS, reducing_gap=2.0)
    return NormalisedPhoto(
        jpeg=_encode(picture, quality),
        thumbnail=_encode(thumb, 80),
        width=picture.width,
        height=picture.height,
        source_format=source_format,
    )


def _encode(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    # Pillow carries the source's comment and ICC profile over from ``info`` unless told
    # otherwise: empty it, and pass no exif=, so the file holds pixels and nothing else.
    # Baseline JPEG: optimize/progressive would cost more time than all the resizing.
    image.info = {}
    image.save(out, format="JPEG", quality=quality)
    return out.getvalue()
