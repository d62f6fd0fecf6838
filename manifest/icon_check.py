"""Checks the two icons the way Teams will, before they go into the package.

Teams rejects a package whose icons have the wrong size or format, and shows an outline icon that
is not white on transparency as a blot in the app bar. Pillow reads the files, so a file named
.png that is really a JPEG is caught too.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, UnidentifiedImageError

from manifest.validation import Problem

__all__ = ["COLOR_SIZE", "OUTLINE_SIZE", "check_color_icon", "check_outline_icon"]

COLOR_SIZE = (192, 192)
OUTLINE_SIZE = (32, 32)
_WHITE_MIN = 250
"""Lowest channel value still counted as white (tolerates rounding in editors)."""


def _open_png(path: Path, field: str, size: tuple[int, int]) -> tuple[Image.Image | None, list[Problem]]:
    if not path.is_file():
        return None, [Problem(field, f"{path} does not exist")]
    try:
        image = Image.open(path)
        image.load()
    except (UnidentifiedImageError, OSError) as exc:
        return None, [Problem(field, f"{path.name} is not a readable image ({exc})")]
    problems = []
    if image.format != "PNG":
        problems.append(Problem(field, f"{path.name} is {image.format}, Teams needs PNG"))
    if image.size != size:
        problems.append(
            Problem(field, f"{path.name} is {image.size[0]}x{image.size[1]} pixels, Teams needs {size[0]}x{size[1]}")
        )
    return image, problems


def check_color_icon(path: Path, field: str = "icons.color") -> list[Problem]:
    """The full-colour icon: a 192x192 PNG."""
    _, problems = _open_png(path, field, COLOR_SIZE)
    return problems


def check_outline_icon(path: Path, field: str = "icons.outline") -> list[Problem]:
    """The outline icon: a 32x32 PNG, white where drawn and transparent elsewhere."""
    image, problems = _open_png(path, field, OUTLINE_SIZE)
    if image is None or problems:
        return problems
    if "A" not in image.getbands() and "transparency" not in image.info:
        return [Problem(field, f"{path.name} has no transparency; Teams needs white on a transparent background")]
    rgba = image.convert("RGBA")
    raw = rgba.tobytes()
    pixels = [tuple(raw[i : i + 4]) for i in range(0, len(raw), 4)]
    drawn = [p for p in pixels if p[3] > 0]
    if len(drawn) == len(pixels):
        problems.append(Problem(field, f"{path.name} has no transparent pixels; the background must be transparent"))
    if not drawn:
        problems.append(Problem(field, f"{path.name} is fully transparent; nothing would be shown"))
    coloured = sum(1 for r, g, b, _ in drawn if min(r, g, b) < _WHITE_MIN)
    if coloured:
        problems.append(
            Problem(
                field, f"{path.name} has {coloured} visible pixels that are not white; the outline must be white only"
            )
        )
    return problems
