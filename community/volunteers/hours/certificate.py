"""The certificate of a steward's approved service hours (志愿服务时长证明): an A4 PDF and
the signed token its QR code carries. Pure: no DB, no Flask (the secret is passed in).

The PDF lists each approved shift of the period (date, station, hours), the total, the
community and the issue date, and carries on every page a QR code opening the public
verification page. The token in that URL is signed with the app's secret (itsdangerous,
salted for this use only) and names only the steward and the period: the page recomputes
the hours from the database, so an edited PDF cannot claim more than was approved.

The certificate text is Chinese on purpose, like the household cards: it is a document
handed to Chinese schools, employers and volunteer registries whatever language the
steward's screen uses.
"""
from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from itsdangerous import BadSignature, URLSafeSerializer
from reportlab.lib.colors import Color, black
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from community.households import qr
from community.pdf import clip, draw_qr, text_font, wrap
from community.volunteers.hours.rules import format_hours

SALT = "volunteers.hours-certificate"

PAGE_W, PAGE_H = A4
MARGIN = 20 * mm
WIDTH = PAGE_W - 2 * MARGIN
QR_SIZE = 34 * mm
ROW_H = 7 * mm
COLUMNS = ((0, "序号"), (16 * mm, "日期"), (48 * mm, "投放点"), (WIDTH - 30 * mm, "时长（小时）"))
GREY = Color(0.45, 0.45, 0.45)
LIGHT = Color(0.85, 0.85, 0.85)


# --- The signed token -----------------------------------------------------------------------

@dataclass(frozen=True)
class Claim:
    """What a certificate's QR names: a steward and a period (never the hours themselves)."""

    steward_id: int
    day_from: date
    day_to: date


def _serializer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=SALT)


def sign_claim(secret: str, claim: Claim) -> str:
    """The URL-safe signed token of a claim."""
    return str(_serializer(secret).dumps(
        [claim.steward_id, claim.day_from.isoformat(), claim.day_to.isoformat()]))


def read_claim(secret: str, token: str) -> Claim | None:
    """The claim of a genuine token; None when it is forged, edited or malformed."""
    try:
        value = _serializer(secret).loads(token)
        steward_id, first, last = value
        claim = Claim(int(steward_id), date.fromisoformat(first), date.fromisoformat(last))
    except (BadSignature, TypeError, ValueError):
        return None
    return claim if claim.day_from <= claim.day_to else None


# --- The PDF --------------------------------------------------------------------------------

@dataclass(frozen=True)
class CertificateShift:
    """One approved shift as the certificate lists it."""

    day: date
    station: str
    minutes: int


@dataclass(frozen=True)
class Certificate:
    """Everything the certificate shows; `verify_url` is the QR content."""

    name: str
    community: str
    day_from: date
    day_to: date
    shifts: Sequence[CertificateShift]
    total_minutes: int
    issued_on: date
    verify_url: str


def _cn_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _statement(cert: Certificate) -> str:
    return (f"兹证明 {cert.name} 于 {_cn_date(cert.day_from)} 至 {_cn_date(cert.day_to)} 期间，"
            f"在{cert.community}参加生活垃圾分类督导志愿服务（三定一督），经社区审核确认的"
            f"服务共 {len(cert.shifts)} 次，累计 {format_hours(cert.total_minutes)} 小时。"
            "特此证明。")


TITLE_Y = PAGE_H - MARGIN - 10 * mm
LINE_H = 7 * mm
FOOT_Y = MARGIN + 6 * mm  # the bottom of the QR code
TABLE_BOTTOM = FOOT_Y + QR_SIZE + 6 * mm  # rows and the total stay above the QR code


def _statement_lines(cert: Certificate, font: str) -> list[str]:
    return wrap(_statement(cert), font, 11.5, WIDTH)


def _head(c: Canvas, cert: Certificate, font: str) -> float:
    """Title and statement on the first page; the y where the table starts."""
    c.setFillColor(black)
    c.setFont(font, 22)
    c.drawCentredString(PAGE_W / 2, TITLE_Y, "志愿服务时长证明")
    y = TITLE_Y - 14 * mm
    c.setFont(font, 11.5)
    for line in _statement_lines(cert, font):
        c.drawString(MARGIN, y, line)
        y -= LINE_H
    return y - 4 * mm


def _capacity(table_y: float) -> int:
    """Rows that fit below a table header drawn at `table_y` (one row's room kept for the total)."""
    return max(1, int((table_y - ROW_H - TABLE_BOTTOM) // ROW_H) - 1)


def _table_header(c: Canvas, font: str, y: float) -> float:
    c.setFillColor(GREY)
    c.setFont(font, 9.5)
    for x, title in COLUMNS:
        c.drawString(MARGIN + x, y, title)
    c.setStrokeColor(black)
    c.setLineWidth(0.6)
    c.line(MARGIN, y - 2.5 * mm, MARGIN + WIDTH, y - 2.5 * mm)
    return y - ROW_H


def _row(c: Canvas, font: str, y: float, n: int, shift: CertificateShift) -> None:
    c.setFillColor(black)
    c.setFont(font, 10)
    c.drawString(MARGIN + COLUMNS[0][0], y, str(n))
    c.drawString(MARGIN + COLUMNS[1][0], y, shift.day.isoformat())
    station_w = COLUMNS[3][0] - COLUMNS[2][0] - 4 * mm
    c.drawString(MARGIN + COLUMNS[2][0], y, clip(shift.station, font, 10, station_w))
    c.drawString(MARGIN + COLUMNS[3][0], y, format_hours(shift.minutes))
    c.setStrokeColor(LIGHT)
    c.setLineWidth(0.3)
    c.line(MARGIN, y - 2.5 * mm, MARGIN + WIDTH, y - 2.5 * mm)


def _total(c: Canvas, cert: Certificate, font: str, y: float) -> None:
    c.setFillColor(black)
    c.setFont(font, 11)
    c.drawString(MARGIN + COLUMNS[2][0], y, "合计")
    c.drawString(MARGIN + COLUMNS[3][0], y, format_hours(cert.total_minutes))


def _foot(c: Canvas, cert: Certificate, font: str, page: int, pages: int) -> None:
    """The QR code, the issuer, the issue date and the page number, at the bottom."""
    qx, qy = MARGIN + WIDTH - QR_SIZE, FOOT_Y
    draw_qr(c, qr.matrix(cert.verify_url), qx, qy, QR_SIZE)
    c.setFillColor(GREY)
    c.setFont(font, 8)
    c.drawCentredString(qx + QR_SIZE / 2, qy - 4 * mm, "扫码核验服务时长")
    c.setFillColor(black)
    c.setFont(font, 11)
    c.drawString(MARGIN, qy + 20 * mm, f"出具单位：{cert.community}")
    c.drawString(MARGIN, qy + 12 * mm, f"开具日期：{_cn_date(cert.issued_on)}")
    c.setFillColor(GREY)
    c.setFont(font, 8)
    c.drawString(MARGIN, qy + 4 * mm, "时长以社区审核记录为准，扫描二维码可核验本证明。")
    c.drawCentredString(PAGE_W / 2, 10 * mm, f"第 {page} / {pages} 页")


def render_certificate(cert: Certificate) -> bytes:
    """The certificate as an A4 PDF: statement, one row per shift, total, QR on every page."""
    font = text_font()
    first_y = TITLE_Y - 14 * mm - len(_statement_lines(cert, font)) * LINE_H - 4 * mm
    later_y = PAGE_H - MARGIN - 6 * mm
    shifts = list(cert.shifts)
    first, later = _capacity(first_y), _capacity(later_y)
    pages = 1 + math.ceil(max(0, len(shifts) - first) / later)
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A4, pageCompression=1)
    c.setTitle(f"志愿服务时长证明 {cert.name}")
    c.setCreator("community")
    n = 0
    for page in range(1, pages + 1):
        if page == 1:
            y = _head(c, cert, font)
            batch = shifts[:first]
        else:
            y = later_y
            start = first + (page - 2) * later
            batch = shifts[start:start + later]
        y = _table_header(c, font, y)
        if not shifts:
            c.setFillColor(GREY)
            c.setFont(font, 10)
            c.drawString(MARGIN, y, "本期间没有经审核的服务记录。")
            y -= ROW_H
        for shift in batch:
            n += 1
            _row(c, font, y, n, shift)
            y -= ROW_H
        if page == pages:
            _total(c, cert, font, y - 1 * mm)
        _foot(c, cert, font, page, pages)
        c.showPage()
    c.save()
    return buf.getvalue()
