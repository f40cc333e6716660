"""Card sheets: every printed QR decodes back to its card's token; pages, fonts and text.

The cards are the same on every run (a seeded generator), and only QR codes are decoded:
scanning a page for every barcode format once in a few hundred random sheets found a
phantom extra symbol in the printed text, which made this module fail now and then.
"""
from __future__ import annotations

import base64
import random

import pypdfium2 as pdfium
import pytest
import zxingcpp

from community import pdf as pdf_module
from community.households import codes, sheets
from community.households.sheets import SheetCard, render_sheet

DPI = 200
SEED = 20261206


def _cards(n: int, seed: int = SEED) -> list[SheetCard]:
    """`n` cards with codes shaped like real ones, the same on every run."""
    rng = random.Random(seed)

    def code(length: int) -> str:
        return "".join(rng.choice(codes.ALPHABET) for _ in range(length))

    return [
        SheetCard(token=base64.urlsafe_b64encode(rng.randbytes(18)).decode(),
                  short_code=code(codes.SHORT_CODE_LENGTH),
                  label=f"{i // 4 + 1}栋{i % 4 + 1}单元{301 + i}室", community="玉龙社区")
        for i in range(n)
    ]


def _decode_pages(pdf: bytes) -> list[list[str]]:
    """Rasterise each page at DPI and decode every QR code on it (QR only, as phones do)."""
    doc = pdfium.PdfDocument(pdf)
    try:
        return [[r.text for r in zxingcpp.read_barcodes(page.render(scale=DPI / 72).to_pil(),
                                                         formats=zxingcpp.BarcodeFormat.QRCode)]
                for page in doc]
    finally:
        doc.close()


def _page_texts(pdf: bytes) -> list[str]:
    doc = pdfium.PdfDocument(pdf)
    try:
        return [page.get_textpage().get_text_range() for page in doc]
    finally:
        doc.close()


@pytest.mark.parametrize(("count", "pages"), [(1, 1), (8, 1), (10, 2), (17, 3)])
def test_every_card_decodes_back_to_its_token(count: int, pages: int) -> None:
    cards = _cards(count)
    pdf = render_sheet(cards, title="玉龙社区 户卡")
    assert pdf.startswith(b"%PDF")
    decoded = _decode_pages(pdf)
    assert len(decoded) == pages
    flat = [t for page in decoded for t in page]
    assert sorted(flat) == sorted(c.token for c in cards)  # each exactly once
    # Page order follows card order: page 1 holds the first eight.
    assert set(decoded[0]) == {c.token for c in cards[: sheets.PER_PAGE]}


def test_text_on_the_card_and_page() -> None:
    cards = _cards(10)
    texts = _page_texts(render_sheet(cards, title="玉龙社区 户卡 第一批"))
    first = texts[0]
    assert "玉龙社区 户卡 第一批" in first
    assert "第 1 / 2 页" in first
    assert "第 2 / 2 页" in texts[1]
    for card in cards[:8]:
        assert card.label in first
        assert codes.format_code(card.short_code) in first
    # The card names the household; it carries nothing that lets anyone join it.
    assert "绑定码" not in first
    assert "加入码" not in first
    assert first.count("投放时出示此码") == 8
    assert cards[9].label in texts[1]
    assert cards[9].label not in first


def test_empty_list_gives_one_page_saying_so() -> None:
    pdf = render_sheet([], title="空")
    assert _decode_pages(pdf) == [[]]
    assert "没有可打印的卡片" in _page_texts(pdf)[0]


def test_long_labels_are_wrapped_not_lost() -> None:
    card = SheetCard(token=_cards(1)[0].token, short_code="ABCDEFGH",
                     label="12号楼东座栋2单元3001室商铺附属间",
                     community="苏州工业园区金鸡湖大道社区居委会")
    pdf = render_sheet([card], title="t")
    assert _decode_pages(pdf) == [[card.token]]
    text = _page_texts(pdf)[0].replace("\r", "").replace("\n", "")
    assert "12号楼东座栋2单元3001室商铺附属间" in text
    assert "ABCD-EFGH" in text


def test_falls_back_to_the_builtin_cid_font(monkeypatch: pytest.MonkeyPatch) -> None:
    """With no TrueType CJK font installed the sheet still renders (STSong-Light)."""
    # The font lookup lives in community.pdf (sheets re-exports it): patch it there.
    monkeypatch.setattr(pdf_module, "FONT_CANDIDATES", (("/nonexistent/font.ttc", 0),))
    sheets.text_font.cache_clear()
    try:
        assert sheets.text_font() == sheets.FALLBACK_FONT
        cards = _cards(2)
        pdf = render_sheet(cards, title="玉龙社区")
        assert b"STSong-Light" in pdf
        assert sorted(_decode_pages(pdf)[0]) == sorted(c.token for c in cards)
    finally:
        sheets.text_font.cache_clear()


def test_uses_an_installed_truetype_font_when_present() -> None:
    from pathlib import Path

    if not any(Path(p).exists() for p, _ in sheets.FONT_CANDIDATES):
        pytest.skip("no TrueType CJK font installed here")
    sheets.text_font.cache_clear()
    assert sheets.text_font().startswith("CJK-")
