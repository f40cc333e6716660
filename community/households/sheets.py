"""Printable A4 sheets of household QR cards (reportlab). Pure: no DB, no Flask.

Eight bank-card-sized cards (85 × 54 mm) per page in a 2 × 4 grid, each with the QR of the
card token drawn as vector squares (sharp at any printer resolution), the community name, the
Chinese address label and the short code for manual entry. Nothing on the card grants
membership of the household (joining takes an invitation, a join slip or a manager's
approval), so a card seen by others cannot be used to take the household over. Cut marks sit
outside every card corner so a guillotine or scissors can follow them.

The card text is Chinese on purpose: the card is a physical object handed to residents in
Chinese communities whatever language the manager's screen uses.
"""
from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.lib.colors import Color, black
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from community import pdf
from community.households import qr
from community.households.codes import format_code

# The CJK font is registered by `community.pdf` (shared with the hours certificate); its names
# stay importable from here.
from community.pdf import FALLBACK_FONT as FALLBACK_FONT
from community.pdf import FONT_CANDIDATES as FONT_CANDIDATES
from community.pdf import text_font as text_font

CODE_FONT = "Courier-Bold"  # codes are ASCII; monospace keeps groups aligned

PAGE_W, PAGE_H = A4
CARD_W, CARD_H = 85 * mm, 54 * mm
COLS, ROWS = 2, 4
PER_PAGE = COLS * ROWS
GAP_X, GAP_Y = 10 * mm, 8 * mm
GRID_W = COLS * CARD_W + (COLS - 1) * GAP_X
GRID_H = ROWS * CARD_H + (ROWS - 1) * GAP_Y
LEFT = (PAGE_W - GRID_W) / 2
TOP = PAGE_H - (PAGE_H - GRID_H) / 2 + 3 * mm  # a little above centre: the footer needs room
PAD = 3 * mm
QR_SIZE = CARD_H - 2 * PAD  # 48 mm with the quiet zone: ~1.45 mm modules for a 25×25 token QR
MARK_OFFSET, MARK_LEN = 1 * mm, 2.5 * mm
GREY = Color(0.55, 0.55, 0.55)
LIGHT = Color(0.85, 0.85, 0.85)


@dataclass(frozen=True)
class SheetCard:
    """What one printed card shows; `token` is the QR content."""

    token: str
    short_code: str
    label: str  # Chinese address label, e.g. "3栋2单元301室"
    community: str


def _line(c: Canvas, text: str, font: str, size: float, x: float, y: float, width: float) -> None:
    size = pdf.fit(text, font, size, width)
    c.setFont(font, size)
    c.drawString(x, y, pdf.clip(text, font, size, width))


def _wrap(c: Canvas, text: str, font: str, x: float, y: float, width: float) -> None:
    """The address: one line from 11 pt down to 8 pt, else two 8 pt lines (then clipped)."""
    size = pdf.fit(text, font, 11, width, minimum=8)
    if pdfmetrics.stringWidth(text, font, size) <= width:
        c.setFont(font, size)
        c.drawString(x, y, text)
        return
    first = pdf.wrap(text, font, size, width)[0]  # the longest start that fits
    c.setFont(font, size)
    c.drawString(x, y + 1 * mm, first)
    c.drawString(x, y - 2.6 * mm, pdf.clip(text[len(first):], font, size, width))


def _cut_marks(c: Canvas, x: float, y: float) -> None:
    """Short lines outside each corner of the card whose bottom-left corner is (x, y)."""
    c.setStrokeColor(black)
    c.setLineWidth(0.3)
    for cx, sx in ((x, -1), (x + CARD_W, 1)):
        for cy, sy in ((y, -1), (y + CARD_H, 1)):
            # horizontal mark beside the corner, vertical mark above/below it
            c.line(cx + sx * MARK_OFFSET, cy, cx + sx * (MARK_OFFSET + MARK_LEN), cy)
            c.line(cx, cy + sy * MARK_OFFSET, cx, cy + sy * (MARK_OFFSET + MARK_LEN))


def _draw_card(c: Canvas, card: SheetCard, x: float, y: float, font: str) -> None:
    c.setStrokeColor(LIGHT)
    c.setLineWidth(0.3)
    c.roundRect(x, y, CARD_W, CARD_H, 2 * mm, stroke=1, fill=0)
    _cut_marks(c, x, y)
    pdf.draw_qr(c, qr.matrix(card.token), x + PAD, y + PAD, QR_SIZE)

    tx = x + PAD + QR_SIZE + 2 * mm
    tw = x + CARD_W - PAD - tx
    top = y + CARD_H - PAD
    c.setFillColor(black)
    _line(c, card.community, font, 10, tx, top - 4 * mm, tw)
    _wrap(c, card.label, font, tx, top - 10 * mm, tw)

    c.setFillColor(GREY)
    _line(c, "户码", font, 7, tx, top - 18 * mm, tw)
    c.setFillColor(black)
    _line(c, format_code(card.short_code), CODE_FONT, 13, tx, top - 23.5 * mm, tw)
    c.setFillColor(GREY)
    _line(c, "投放时出示此码", font, 6.5, tx, y + PAD, tw)


def _page_frame(c: Canvas, title: str, font: str, page: int, pages: int, count: int) -> None:
    c.setFillColor(black)
    _line(c, title, font, 13, LEFT, PAGE_H - 14 * mm, GRID_W)
    c.setFillColor(GREY)
    footer = f"第 {page} / {pages} 页 · 共 {count} 张 · 沿裁切线裁开"
    c.setFont(font, 8)
    c.drawCentredString(PAGE_W / 2, 10 * mm, footer)
    c.setFillColor(black)


def render_sheet(cards: Sequence[SheetCard], *, title: str) -> bytes:
    """A4 PDF of `cards`, eight per page, with a title and page numbers; a note page if empty."""
    font = text_font()
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A4, pageCompression=1)
    c.setTitle(title)
    c.setCreator("community")
    if not cards:
        _page_frame(c, title, font, 1, 1, 0)
        c.setFont(font, 14)
        c.drawCentredString(PAGE_W / 2, PAGE_H / 2, "没有可打印的卡片 (no cards to print)")
        c.showPage()
        c.save()
        return buf.getvalue()

    pages = math.ceil(len(cards) / PER_PAGE)
    for p in range(pages):
        _page_frame(c, title, font, p + 1, pages, len(cards))
        for i, card in enumerate(cards[p * PER_PAGE:(p + 1) * PER_PAGE]):
            row, col = divmod(i, COLS)
            x = LEFT + col * (CARD_W + GAP_X)
            y = TOP - (row + 1) * CARD_H - row * GAP_Y
            _draw_card(c, card, x, y, font)
        c.showPage()
    c.save()
    return buf.getvalue()
