"""Draws Kanalvakten's two Teams icons with Pillow, so they can be redrawn and reviewed as code.

The icon is a shield (protecting the account) holding a speech bubble (the channel), in
Göteborgs Stad's blue. Teams wants a 192x192 full-colour icon and a 32x32 outline icon that is
white on a transparent background. Shapes are drawn at several times the final size and scaled
down, which gives smooth edges without hand-tuned anti-aliasing.

Run `python -m manifest.draw_icons` to rewrite `manifest/icons/color.png` and `outline.png`;
the resulting PNGs are checked in.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PIL import Image, ImageDraw

__all__ = ["BLUE", "ICONS_DIR", "draw_color_icon", "draw_outline_icon", "write_icons"]

log = logging.getLogger(__name__)

BLUE = (0x00, 0x76, 0xBC)
"""Göteborgs Stad's blue (#0076BC), also the manifest's accentColor."""
WHITE = (255, 255, 255)
ICONS_DIR = Path(__file__).resolve().parent / "icons"
_SCALE = 8


def _bezier(
    p0: tuple[float, float], p1: tuple[float, float], p2: tuple[float, float], steps: int = 48
) -> list[tuple[float, float]]:
    pts = []
    for i in range(steps + 1):
        t = i / steps
        x = (1 - t) ** 2 * p0[0] + 2 * (1 - t) * t * p1[0] + t**2 * p2[0]
        y = (1 - t) ** 2 * p0[1] + 2 * (1 - t) * t * p1[1] + t**2 * p2[1]
        pts.append((x, y))
    return pts


def _shield(cx: float, top: float, width: float, height: float) -> list[tuple[float, float]]:
    """A shield outline: a gently dipped top edge, straight sides, curving to a point."""
    left, right = cx - width / 2, cx + width / 2
    shoulder = top + height * 0.12
    waist = top + height * 0.50
    bottom = top + height
    pts: list[tuple[float, float]] = []
    pts += _bezier((left, shoulder), (cx - width * 0.25, shoulder), (cx, top))
    pts += _bezier((cx, top), (cx + width * 0.25, shoulder), (right, shoulder))[1:]
    pts.append((right, waist))
    pts += _bezier((right, waist), (right, bottom - height * 0.18), (cx, bottom))[1:]
    pts += _bezier((cx, bottom), (left, bottom - height * 0.18), (left, waist))[1:]
    return pts


def _bubble(
    draw: ImageDraw.ImageDraw,
    box: tuple[float, float, float, float],
    fill: int | tuple[int, int, int],
    tail: bool = True,
) -> None:
    """A rounded speech bubble with a tail at its lower left."""
    x0, y0, _x1, y1 = box
    h = y1 - y0
    draw.rounded_rectangle(box, radius=h * 0.32, fill=fill)
    if tail:
        draw.polygon(
            [(x0 + h * 0.30, y1 - h * 0.1), (x0 + h * 0.75, y1 - h * 0.1), (x0 + h * 0.12, y1 + h * 0.42)], fill=fill
        )


def draw_color_icon(size: int = 192) -> Image.Image:
    """White shield with a blue speech bubble on the city's blue; opaque, `size` x `size`."""
    s = size * _SCALE
    img = Image.new("RGB", (s, s), BLUE)
    draw = ImageDraw.Draw(img)
    draw.polygon(_shield(s / 2, s * 0.17, s * 0.56, s * 0.68), fill=WHITE)
    bx0, by0, bx1, by1 = s * 0.335, s * 0.36, s * 0.665, s * 0.56
    _bubble(draw, (bx0, by0, bx1, by1), BLUE)
    r = s * 0.027
    cy = (by0 + by1) / 2
    for cx in (s * 0.42, s * 0.50, s * 0.58):
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=WHITE)
    return img.resize((size, size), Image.Resampling.LANCZOS)


def draw_outline_icon(size: int = 32) -> Image.Image:
    """The same shape as a white outline on transparency: shield stroke, solid bubble."""
    s = size * _SCALE
    mask = Image.new("L", (s, s), 0)
    draw = ImageDraw.Draw(mask)
    outer = _shield(s / 2, s * 0.06, s * 0.78, s * 0.88)
    draw.polygon(outer, fill=255)
    stroke = s * 0.085
    inner = _shield(s / 2, s * 0.06 + stroke * 1.15, s * 0.78 - 2 * stroke, s * 0.88 - stroke * 2.3)
    draw.polygon(inner, fill=0)
    _bubble(draw, (s * 0.31, s * 0.33, s * 0.69, s * 0.56), 255)
    alpha = mask.resize((size, size), Image.Resampling.LANCZOS)
    img = Image.new("RGBA", (size, size), (*WHITE, 0))
    img.putalpha(alpha)
    return img


def write_icons(directory: Path = ICONS_DIR) -> tuple[Path, Path]:
    """Draw both icons into `directory`; return (color, outline) paths."""
    directory.mkdir(parents=True, exist_ok=True)
    color, outline = directory / "color.png", directory / "outline.png"
    draw_color_icon().save(color, "PNG", optimize=True)
    draw_outline_icon().save(outline, "PNG", optimize=True)
    log.info("wrote %s and %s", color, outline)
    return color, outline


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    write_icons()
