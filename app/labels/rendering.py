"""Return labels drawn once, in every format a printer wants: PNG, SVG, PDF and ZPL.

A label is 4×6 inches at 203 dpi (812×1218 dots), the common thermal size. One
layout (a list of boxes, texts and the QR) is computed from the label's
content and then written out by each format, so the PNG, SVG, PDF and ZPL
always agree. The QR carries the label code and nothing else — never the
customer's token, never personal data.

Renderings depend only on ``LabelContent`` (and ``RENDER_VERSION``), so they are
cached in memory per content and format, and their ETag is a hash of exactly
that: the same bytes always get the same strong ETag, in every worker.
"""
from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal
from xml.sax.saxutils import escape, quoteattr

import qrcode
from PIL import Image, ImageDraw, ImageFont

from app.labels.codes import format_label_code

# Bump whenever the drawing changes, so cached copies and ETags change with it.
RENDER_VERSION = 1
DPI = 203
WIDTH, HEIGHT = 4 * DPI, 6 * DPI  # 812 × 1218 dots
FORMATS = {
    "png": "image/png",
    "svg": "image/svg+xml",
    "pdf": "application/pdf",
    # Shown as text in a browser (to copy into a printer tool); the download button saves it.
    "zpl": "text/plain; charset=utf-8",
}
Format = Literal["png", "svg", "pdf", "zpl"]

_FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
_FONT_FILES = {"sans": "DejaVuSans.ttf", "bold": "DejaVuSans-Bold.ttf", "mono": "DejaVuSansMono-Bold.ttf"}
_SVG_FAMILIES = {
    "sans": "'DejaVu Sans', Verdana, sans-serif",
    "bold": "'DejaVu Sans', Verdana, sans-serif",
    "mono": "'DejaVu Sans Mono', Menlo, Consolas, monospace",
}
Face = Literal["sans", "bold", "mono"]


@dataclass(frozen=True)
class LabelContent:
    """Everything printed on one label: nothing personal, nothing secret."""

    code: str
    reference: str
    hub_name: str
    hub_address: tuple[str, ...]
    pickup_date: str
    check_url: str

    @property
    def display_code(self) -> str:
        return format_label_code(self.code)

    @property
    def qr_payload(self) -> str:
        # The bare code: upper-case letters and digits only, so the QR uses
        # alphanumeric mode and stays at version 1 (21×21) even at level H.
        return self.code


# --- Layout -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    w: int
    h: int


@dataclass(frozen=True)
class Text:
    x: int  # left edge, or centre when ``centred``
    y: int  # top of the line box (ascender)
    text: str
    face: Face
    size: int
    width: int  # measured width in dots, so the SVG can hold every font to it
    centred: bool = False
    white: bool = False


@dataclass(frozen=True)
class QR:
    x: int  # top-left of the symbol itself (the quiet zone lies outside)
    y: int
    module: int
    payload: str
    matrix: tuple[tuple[bool, ...], ...]

    @property
    def size(self) -> int:
        return self.module * len(self.matrix)


Shape = Box | Text | QR


@lru_cache(maxsize=128)
def _font(face: Face, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype(str(_FONT_DIR / _FONT_FILES[face]), size)
    except OSError:
        # Debian's fonts-dejavu-core is missing: Pillow's own font still prints legibly.
        return ImageFont.load_default(size)


def _ascent(face: Face, size: int) -> int:
    font = _font(face, size)
    return font.getmetrics()[0] if isinstance(font, ImageFont.FreeTypeFont) else size


def _measure(text: str, face: Face, size: int) -> int:
    return int(round(_font(face, size).getlength(text)))


def _fit(text: str, face: Face, size: int, max_width: int, min_size: int = 14) -> tuple[str, int]:
    """Shrink the type until the text fits; cut it short with an ellipsis as a last resort."""
    while size > min_size and _measure(text, face, size) > max_width:
        size -= 2
    while len(text) > 1 and _measure(text, face, size) > max_width:
        text = text[:-2].rstrip() + "…"
    return text, size


def _text(x: int, y: int, text: str, face: Face, size: int, max_width: int, *, centred: bool = False, white: bool = False) -> Text:
    text, size = _fit(text, face, size, max_width)
    return Text(x, y, text, face, size, _measure(text, face, size), centred, white)


@lru_cache(maxsize=1024)
def qr_matrix(payload: str) -> tuple[tuple[bool, ...], ...]:
    """The QR modules for ``payload`` (level H: a scuffed or creased label still scans)."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_H, border=0)
    qr.add_data(payload)
    qr.make(fit=True)
    return tuple(tuple(bool(m) for m in row) for row in qr.get_matrix())


def layout_label(content: LabelContent) -> list[Shape]:
    """The 4×6 label: header, QR, the code in large type, reference, pickup date, hub, check URL."""
    margin = 40
    inner = WIDTH - 2 * margin
    matrix = qr_matrix(content.qr_payload)
    module = 20
    qr_size = module * len(matrix)
    column = 250  # where values start, after their captions
    shapes: list[Shape] = [
        Box(0, 0, WIDTH, 110),
        _text(WIDTH // 2, 24, "BACKHAUL RETURN", "bold", 56, inner, centred=True, white=True),
        # 80 dots of white below the header and around the symbol: the QR's quiet zone.
        QR((WIDTH - qr_size) // 2, 200, module, content.qr_payload, matrix),
        _text(WIDTH // 2, 690, content.display_code, "mono", 112, inner, centred=True),
        Box(margin, 820, inner, 4),
        _text(margin, 848, "Reference", "sans", 28, column - margin - 10),
        _text(column, 840, content.reference, "bold", 40, WIDTH - margin - column),
        _text(margin, 908, "Pickup", "sans", 28, column - margin - 10),
        _text(column, 900, content.pickup_date, "bold", 40, WIDTH - margin - column),
        _text(margin, 968, "Return to", "sans", 28, column - margin - 10),
        _text(column, 960, content.hub_name, "bold", 40, WIDTH - margin - column),
    ]
    for line, text in enumerate(content.hub_address[:2]):
        shapes.append(_text(column, 1012 + 44 * line, text, "sans", 34, WIDTH - margin - column))
    shapes += [
        Box(margin, 1110, inner, 2),
        _text(WIDTH // 2, 1124, "Found this parcel? Check the label at", "sans", 26, inner, centred=True),
        _text(WIDTH // 2, 1160, content.check_url, "bold", 28, inner, centred=True),
    ]
    return shapes


# --- Writers ----------------------------------------------------------------------------------------


def _draw(shapes: list[Shape], size: tuple[int, int], image: Image.Image | None = None, offset: tuple[int, int] = (0, 0)) -> Image.Image:
    # 1-bit, no anti-aliasing: exactly what a thermal head prints, and crisp QR edges.
    image = image or Image.new("1", size, 1)
    draw = ImageDraw.Draw(image)
    draw.fontmode = "1"
    ox, oy = offset
    for shape in shapes:
        if isinstance(shape, Box):
            draw.rectangle((ox + shape.x, oy + shape.y, ox + shape.x + shape.w - 1, oy + shape.y + shape.h - 1), fill=0)
        elif isinstance(shape, QR):
            for row, modules in enumerate(shape.matrix):
                for col, dark in enumerate(modules):
                    if dark:
                        x, y = ox + shape.x + col * shape.module, oy + shape.y + row * shape.module
                        draw.rectangle((x, y, x + shape.module - 1, y + shape.module - 1), fill=0)
        else:
            anchor = "ma" if shape.centred else "la"
            draw.text((ox + shape.x, oy + shape.y), shape.text, font=_font(shape.face, shape.size), fill=1 if shape.white else 0, anchor=anchor)
    return image


def _png(shapes: list[Shape]) -> bytes:
    buffer = io.BytesIO()
    _draw(shapes, (WIDTH, HEIGHT)).save(buffer, "PNG", dpi=(DPI, DPI), optimize=True)
    return buffer.getvalue()


def _pdf(pages: list[Image.Image], resolution: int, title: str) -> bytes:
    buffer = io.BytesIO()
    # No creation date: the same label must give the same bytes (its ETag is strong).
    pages[0].save(
        buffer, "PDF", resolution=resolution, save_all=True, append_images=pages[1:],
        title=title, creator="Backhaul", creationDate=None, modDate=None,
    )
    return buffer.getvalue()


def _qr_path(shape: QR) -> str:
    # One path; runs of dark modules in a row become one rectangle each.
    parts = []
    for row, modules in enumerate(shape.matrix):
        col = 0
        while col < len(modules):
            if not modules[col]:
                col += 1
                continue
            start = col
            while col < len(modules) and modules[col]:
                col += 1
            x, y, w = shape.x + start * shape.module, shape.y + row * shape.module, (col - start) * shape.module
            parts.append(f"M{x} {y}h{w}v{shape.module}h-{w}z")
    return "".join(parts)


def _svg(shapes: list[Shape], title: str) -> bytes:
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="4in" height="6in" viewBox="0 0 {WIDTH} {HEIGHT}" '
        'shape-rendering="crispEdges">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#fff"/>',
    ]
    for shape in shapes:
        if isinstance(shape, Box):
            out.append(f'<rect x="{shape.x}" y="{shape.y}" width="{shape.w}" height="{shape.h}" fill="#000"/>')
        elif isinstance(shape, QR):
            out.append(f'<path fill="#000" d="{_qr_path(shape)}"/>')
        else:
            baseline = shape.y + _ascent(shape.face, shape.size)
            weight = "400" if shape.face == "sans" else "700"
            out.append(
                f'<text x="{shape.x}" y="{baseline}" font-family={quoteattr(_SVG_FAMILIES[shape.face])} '
                f'font-weight="{weight}" font-size="{shape.size}" fill="{"#fff" if shape.white else "#000"}" '
                f'text-anchor="{"middle" if shape.centred else "start"}" textLength="{shape.width}" '
                f'lengthAdjust="spacingAndGlyphs">{escape(shape.text)}</text>'
            )
    out.append("</svg>")
    return ("\n".join(out) + "\n").encode()


def _zpl_field(text: str) -> str:
    # ^FH_ lets any byte be written as _XX: the only safe way to print ^, ~, _ and non-ASCII.
    safe = []
    for char in text:
        if char.isascii() and char.isprintable() and char not in "^~_\\":
            safe.append(char)
        else:
            safe.extend(f"_{byte:02X}" for byte in char.encode())
    return "^FH_^FD" + "".join(safe) + "^FS"


def _zpl(shapes: list[Shape]) -> bytes:
    lines = ["^XA", "^CI28", f"^PW{WIDTH}", f"^LL{HEIGHT}", "^LH0,0"]
    for shape in shapes:
        if isinstance(shape, Box):
            lines.append(f"^FO{shape.x},{shape.y}^GB{shape.w},{shape.h},{min(shape.w, shape.h)}^FS")
        elif isinstance(shape, QR):
            # ^BQ magnifies up to 10 dots a module: centre that smaller symbol where the big one is.
            magnification = min(10, shape.module)
            size = magnification * len(shape.matrix)
            x = shape.x + (shape.size - size) // 2
            y = shape.y + (shape.size - size) // 2
            # The printer encodes the QR itself: H (high) error correction, automatic mode.
            lines.append(f"^FO{x},{y}^BQN,2,{magnification}^FDHA,{shape.payload}^FS")
        else:
            reverse = "^FR" if shape.white else ""
            if shape.centred:
                left = shape.x - WIDTH // 2
                lines.append(f"^FO{left},{shape.y}{reverse}^A0N,{shape.size},{shape.size}^FB{WIDTH},1,0,C,0{_zpl_field(shape.text)}")
            else:
                lines.append(f"^FO{shape.x},{shape.y}{reverse}^A0N,{shape.size},{shape.size}{_zpl_field(shape.text)}")
    lines.append("^XZ")
    return ("\n".join(lines) + "\n").encode()


@lru_cache(maxsize=512)
def render_label(content: LabelContent, fmt: Format) -> bytes:
    """The label in one format (cached: the same content always gives the same bytes)."""
    shapes = layout_label(content)
    title = f"Return label {content.display_code}"
    if fmt == "png":
        return _png(shapes)
    if fmt == "svg":
        return _svg(shapes, title)
    if fmt == "pdf":
        return _pdf([_draw(shapes, (WIDTH, HEIGHT))], DPI, title)
    if fmt == "zpl":
        return _zpl(shapes)
    raise ValueError(f"unknown label format {fmt!r}")


def label_etag(content: LabelContent, fmt: Format) -> str:
    """A strong ETag: changes exactly when the rendering's bytes would."""
    return hashlib.sha256(f"{RENDER_VERSION}|{fmt}|{content!r}".encode()).hexdigest()[:32]


# --- A4 sheets --------------------------------------------------------------------------------------

SHEET_DPI = 300
A4 = (2480, 3508)  # 210 × 297 mm at 300 dpi
# Eight labels a page, 99.1 × 67.7 mm each (the common 2×4 A4 label sheet).
CELL = (1170, 800)
COLUMNS, ROWS = 2, 4
SHEET_LEFT, SHEET_TOP, SHEET_GAP = 55, 154, 30


def layout_sheet_label(content: LabelContent) -> list[Shape]:
    """One small label for an A4 sheet: code on top, QR left, details right."""
    width, height = CELL
    matrix = qr_matrix(content.qr_payload)
    module = 18
    # Four modules of white round the symbol at least (its quiet zone), five before the text.
    right = 80 + module * len(matrix) + 5 * module
    value_width = width - right - 30
    shapes: list[Shape] = [
        _text(width // 2, 28, content.display_code, "mono", 120, width - 60, centred=True),
        QR(80, 230, module, content.qr_payload, matrix),
        _text(right, 190, "Reference", "sans", 30, value_width),
        _text(right, 228, content.reference, "bold", 44, value_width),
        _text(right, 300, "Pickup", "sans", 30, value_width),
        _text(right, 338, content.pickup_date, "bold", 44, value_width),
        _text(right, 410, "Return to", "sans", 30, value_width),
        _text(right, 448, content.hub_name, "bold", 40, value_width),
    ]
    for line, text in enumerate(content.hub_address[:2]):
        shapes.append(_text(right, 500 + 44 * line, text, "sans", 34, value_width))
    shapes.append(_text(right, 700, content.check_url, "sans", 26, value_width))
    return shapes


def _cut_marks(draw: ImageDraw.ImageDraw, x: int, y: int) -> None:
    width, height = CELL
    for dx in range(0, width, 24):
        draw.line((x + dx, y, x + min(dx + 10, width), y), fill=0)
        draw.line((x + dx, y + height - 1, x + min(dx + 10, width), y + height - 1), fill=0)
    for dy in range(0, height, 24):
        draw.line((x, y + dy, x, y + min(dy + 10, height)), fill=0)
        draw.line((x + width - 1, y + dy, x + width - 1, y + min(dy + 10, height)), fill=0)


def render_sheet(contents: list[LabelContent]) -> bytes:
    """A PDF of A4 pages, eight labels each, with dashed cut lines, for a selection of pickups."""
    per_page = COLUMNS * ROWS
    pages = []
    for first in range(0, max(len(contents), 1), per_page):
        page = Image.new("1", A4, 1)
        draw = ImageDraw.Draw(page)
        for index, content in enumerate(contents[first:first + per_page]):
            row, col = divmod(index, COLUMNS)
            x = SHEET_LEFT + col * (CELL[0] + SHEET_GAP)
            y = SHEET_TOP + row * CELL[1]
            _cut_marks(draw, x, y)
            _draw(layout_sheet_label(content), A4, page, (x, y))
        pages.append(page)
    return _pdf(pages, SHEET_DPI, f"Return labels ({len(contents)})")
