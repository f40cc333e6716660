"""Printable join slips (reportlab): the one-time join code a manager hands to a household,
apart from its card. Pure: no DB, no Flask.

Three slips per A4 page, cut along the dashed lines. Each carries the community, the address,
the join code in large type, a QR of the join link (the code filled in) and its expiry. The
slip is the secret that lets a family in, so it says to keep it away from the card and not to
share a photo of it. Chinese on purpose: the slip is handed to residents of Chinese
communities whatever language the manager's screen uses.
"""
from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from reportlab.lib.colors import Color, black
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from community import pdf
from community.households import qr
from community.households.codes import format_join_code

CODE_FONT = "Courier-Bold"
PAGE_W, PAGE_H = A4
PER_PAGE = 3
MARGIN = 12 * mm
SLIP_W = PAGE_W - 2 * MARGIN
SLIP_H = (PAGE_H - 2 * MARGIN) / PER_PAGE
PAD = 6 * mm
QR_SIZE = 50 * mm
GREY = Color(0.45, 0.45, 0.45)


@dataclass(frozen=True)
class PrintedSlip:
    """What one slip shows: `url` is the QR content (the join page with the code filled in)."""

    code: str
    address: str
    community: str
    expires_on: date
    url: str


def _text(c: Canvas, text: str, font: str, size: float, x: float, y: float,
          width: float) -> None:
    size = pdf.fit(text, font, size, width)
    c.setFont(font, size)
    c.drawString(x, y, pdf.clip(text, font, size, width))


def _draw_slip(c: Canvas, slip: PrintedSlip, x: float, y: float, font: str) -> None:
    c.setStrokeColor(GREY)
    c.setLineWidth(0.4)
    c.setDash(3, 3)
    c.rect(x, y, SLIP_W, SLIP_H, stroke=1, fill=0)
    c.setDash()
    pdf.draw_qr(c, qr.matrix(slip.url), x + SLIP_W - PAD - QR_SIZE, y + SLIP_H - PAD - QR_SIZE,
                QR_SIZE)
    tx, tw = x + PAD, SLIP_W - 3 * PAD - QR_SIZE
    top = y + SLIP_H - PAD
    c.setFillColor(black)
    _text(c, "家庭成员加入凭证", font, 15, tx, top - 6 * mm, tw)
    _text(c, slip.community, font, 11, tx, top - 14 * mm, tw)
    _text(c, slip.address, font, 13, tx, top - 21 * mm, tw)
    c.setFillColor(GREY)
    _text(c, "加入码", font, 8, tx, top - 30 * mm, tw)
    c.setFillColor(black)
    _text(c, format_join_code(slip.code), CODE_FONT, 20, tx, top - 38 * mm, tw)
    c.setFillColor(GREY)
    _text(c, f"有效期至 {slip.expires_on.isoformat()}，仅可使用一次", font, 9, tx,
          top - 46 * mm, tw)
    lines = [
        "登录后在「我的家」点「加入家庭」输入加入码，或用手机扫描右侧二维码。",
        "第一位加入的成员为户主，户主可在手机上邀请其他家庭成员。",
        "请妥善保管，勿与户卡放在一起，勿拍照转发；补打新凭证后旧凭证作废。",
    ]
    c.setFillColor(black)
    for i, line in enumerate(lines):
        _text(c, line, font, 8.5, x + PAD, y + PAD + (len(lines) - 1 - i) * 4.5 * mm,
              SLIP_W - 2 * PAD)


def render_slips(slips: Sequence[PrintedSlip], *, title: str) -> bytes:
    """A4 PDF of join slips, three per page; a note page when there are none."""
    font = pdf.text_font()
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A4, pageCompression=1)
    c.setTitle(title)
    c.setCreator("community")
    if not slips:
        c.setFont(font, 14)
        c.drawCentredString(PAGE_W / 2, PAGE_H / 2, "没有可打印的加入凭证 (no join slips to print)")
        c.showPage()
        c.save()
        return buf.getvalue()
    pages = math.ceil(len(slips) / PER_PAGE)
    for p in range(pages):
        for i, slip in enumerate(slips[p * PER_PAGE:(p + 1) * PER_PAGE]):
            _draw_slip(c, slip, MARGIN, PAGE_H - MARGIN - (i + 1) * SLIP_H, font)
        c.setFillColor(GREY)
        c.setFont(font, 7)
        c.drawCentredString(PAGE_W / 2, 5 * mm, f"第 {p + 1} / {pages} 页 · 共 {len(slips)} 张")
        c.showPage()
    c.save()
    return buf.getvalue()
