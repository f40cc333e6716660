"""The PDF pieces the printed documents share (reportlab). Pure: no DB, no Flask.

Household card sheets (`community/households/sheets.py`) and stewards' hours certificates
(`community/volunteers/hours/certificate.py`) both print Chinese text and QR codes on A4:
the CJK font they register once (`text_font`), vector QR codes (`draw_qr`), and the text
helpers that make a line fit its room (`fit`, `clip`, `wrap`).
"""
from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path

from reportlab.lib.colors import black, white
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

# TrueType CJK fonts, best first. OpenType/CFF fonts (Noto CJK .ttc) are absent on purpose:
# reportlab's TTFont cannot embed PostScript outlines.
FONT_CANDIDATES: tuple[tuple[str, int], ...] = (
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),
    ("/usr/share/fonts/truetype/arphic/ukai.ttc", 0),
    ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", 0),
    ("/usr/share/fonts/truetype/noto/NotoSansSC-Regular.ttf", 0),
)
# Built into every PDF viewer in China; needs no file, so a document never fails for lack of a
# font.
FALLBACK_FONT = "STSong-Light"


@cache
def text_font() -> str:
    """The registered font name for Chinese text: a TrueType CJK font if installed, else STSong."""
    for path, index in FONT_CANDIDATES:
        if not Path(path).exists():
            continue
        name = f"CJK-{Path(path).stem}"
        try:
            pdfmetrics.registerFont(TTFont(name, path, subfontIndex=index))
        except Exception:  # noqa: BLE001, S112 - a broken font file just means "try the next one"
            continue
        return name
    pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK_FONT))
    return FALLBACK_FONT


def fit(text: str, font: str, size: float, width: float, minimum: float = 6) -> float:
    """The largest font size ≤ size (down to `minimum`) at which `text` fits `width`."""
    while size > minimum and pdfmetrics.stringWidth(text, font, size) > width:
        size -= 0.5
    return size


def clip(text: str, font: str, size: float, width: float) -> str:
    """Shorten `text` with an ellipsis until it fits (a last resort for very long names)."""
    if pdfmetrics.stringWidth(text, font, size) <= width:
        return text
    while text and pdfmetrics.stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Break text into lines that fit `width` (character by character: Chinese has no spaces).

    Each line is the longest run that fits, and at least one character.
    """
    lines, line = [], ""
    for ch in text:
        if pdfmetrics.stringWidth(line + ch, font, size) > width and line:
            lines.append(line)
            line = ""
        line += ch
    return [*lines, line] if line else lines


def draw_qr(c: Canvas, modules: Sequence[Sequence[bool]], x: float, y: float,
            size: float) -> None:
    """A QR code's modules (rows of booleans, True = dark, quiet zone included) as vector
    squares, `size` wide, bottom-left corner at (x, y)."""
    n = len(modules)
    cell = size / n
    c.setFillColor(white)
    c.rect(x, y, size, size, stroke=0, fill=1)
    c.setFillColor(black)
    for r, row in enumerate(modules):
        # Merge runs of dark modules into one rectangle: fewer PDF ops, no hairline seams.
        col = 0
        while col < len(row):
            if not row[col]:
                col += 1
                continue
            start = col
            while col < len(row) and row[col]:
                col += 1
            c.rect(x + start * cell, y + size - (r + 1) * cell, (col - start) * cell, cell,
                   stroke=0, fill=1)
