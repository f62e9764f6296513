"""Draw the driver app's icons (192, 512 and a maskable 512) as PNG files.

The PNGs are committed; run this again only when the artwork changes:
``.venv/bin/python scripts/make_driver_icons.py``. The glyph follows
app/static/icons/icon.svg (a van and a return arrow) in white on brand green.
"""
from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent.parent / "app" / "static" / "driver" / "icons"
BRAND = (11, 93, 59, 255)
WHITE = (255, 255, 255, 255)
SIZE = 512
# Drawn 4x larger, then scaled down: Pillow has no anti-aliasing of its own.
SCALE = 4


def _glyph(draw: ImageDraw.ImageDraw, scale: float, offset: float) -> None:
    def p(x: float, y: float) -> tuple[float, float]:
        return ((offset + x * scale) * SCALE, (offset + y * scale) * SCALE)

    # Van body with cab.
    draw.polygon([p(112, 300), p(312, 300), p(352, 220), p(400, 220), p(360, 300), p(400, 300), p(400, 340), p(112, 340)], fill=WHITE)
    for cx in (176, 336):
        (x0, y0), (x1, y1) = p(cx - 28, 364 - 28), p(cx + 28, 364 + 28)
        draw.ellipse([x0, y0, x1, y1], fill=WHITE)
    # Return arrow: an arc and its head.
    (x0, y0), (x1, y1) = p(128, 144), p(272, 288)
    draw.arc([x0, y0, x1, y1], start=-90, end=90, fill=WHITE, width=int(24 * scale * SCALE))
    draw.line([p(168, 248), p(200, 264), p(208, 228)], fill=WHITE, width=int(20 * scale * SCALE), joint="curve")


def draw_icon(*, maskable: bool) -> Image.Image:
    big = Image.new("RGBA", (SIZE * SCALE, SIZE * SCALE), (0, 0, 0, 0))
    draw = ImageDraw.Draw(big)
    if maskable:
        # Full bleed; the glyph stays inside the central 80% safe zone.
        draw.rectangle([0, 0, SIZE * SCALE, SIZE * SCALE], fill=BRAND)
        _glyph(draw, 0.72, SIZE * 0.14)
    else:
        draw.rounded_rectangle([0, 0, SIZE * SCALE - 1, SIZE * SCALE - 1], radius=96 * SCALE, fill=BRAND)
        _glyph(draw, 1.0, 0)
    return big.resize((SIZE, SIZE), Image.Resampling.LANCZOS)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    icon = draw_icon(maskable=False)
    icon.save(OUT / "icon-512.png", optimize=True)
    icon.resize((192, 192), Image.Resampling.LANCZOS).save(OUT / "icon-192.png", optimize=True)
    maskable = draw_icon(maskable=True).convert("RGB")
    maskable.save(OUT / "maskable-512.png", optimize=True)
    maskable.resize((180, 180), Image.Resampling.LANCZOS).save(OUT / "apple-touch-icon.png", optimize=True)
    print(f"Wrote icons to {OUT}")


if __name__ == "__main__":
    main()
