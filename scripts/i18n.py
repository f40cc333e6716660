"""Translation catalog tool.

  python scripts/i18n.py update          extract messages and merge them into the zh/en catalogs
  python scripts/i18n.py add FILE.json   add {"English msgid": "中文"} pairs to the zh catalog
  python scripts/i18n.py missing         list msgids in the code without a Chinese translation
  python scripts/i18n.py compile         compile .po to .mo (done by `make run` / `make test`)

The catalogs are `community/translations/{zh,en}`; English is the source language.
"""
from __future__ import annotations

import fcntl
import json
import subprocess
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "community" / "translations"
LOCALES = ("zh", "en")


def po_path(locale: str) -> Path:
    """The .po file of a locale."""
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"


def extract() -> Catalog:
    """All messages marked in the code and templates."""
    with open(ROOT / "babel.cfg") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    catalog = Catalog(project="community", charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
        str(ROOT), method_map, options_map,
        keywords={"_": None, "gettext": None, "_l": None, "lazy_gettext": None,
                  "ngettext": (1, 2), "_n": (1, 2)},
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def load(locale: str) -> Catalog:
    """Read a locale's catalog (empty when missing)."""
    path = po_path(locale)
    if not path.exists():
        return Catalog(locale=locale, project="community", charset="utf-8")
    with open(path, "rb") as fh:
        return read_po(fh, locale=locale)


def save(catalog: Catalog, locale: str) -> None:
    """Write a catalog, sorted, without line numbers (stable diffs)."""
    path = po_path(locale)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        write_po(fh, catalog, sort_output=True, omit_header=False, width=100,
                 no_location=True, ignore_obsolete=True)


def _locked(fn):
    def wrapper(*args):
        TRANSLATIONS.mkdir(parents=True, exist_ok=True)
        with open(TRANSLATIONS / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            return fn(*args)
    return wrapper


@_locked
def update() -> None:
    """Merge freshly extracted messages into each catalog, keeping existing translations."""
    template = extract()
    for locale in LOCALES:
        catalog = load(locale)
        catalog.update(template, no_fuzzy_matching=True)
        save(catalog, locale)


@_locked
def add(pairs: dict[str, str]) -> None:
    """Set Chinese translations for the given English msgids."""
    catalog = load("zh")
    for msgid, msgstr in pairs.items():
        if msgid in catalog:
            catalog[msgid].string = msgstr
            catalog[msgid].flags.discard("fuzzy")
        else:
            catalog.add(msgid, msgstr)
    save(catalog, "zh")


def missing() -> list[str]:
    """Msgids used in the code that have no Chinese translation."""
    zh = load("zh")
    out = []
    for message in extract():
        if not message.id:
            continue
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        entry = zh.get(msgid)
        text = entry.string if entry else None
        if isinstance(text, tuple | list):
            text = text[0]
        if not text or (entry and "fuzzy" in entry.flags):
            out.append(msgid)
    return out


def compile_all() -> None:
    """Compile every catalog to .mo."""
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "compile", "-f", "-d",
                    str(TRANSLATIONS)], check=True, stdout=subprocess.DEVNULL)


def main(argv: list[str]) -> int:
    """CLI entry."""
    if not argv:
        print(__doc__)  # noqa: T201
        return 2
    cmd = argv[0]
    if cmd == "update":
        update()
    elif cmd == "add":
        add(json.loads(Path(argv[1]).read_text(encoding="utf-8")))
    elif cmd == "missing":
        gaps = missing()
        for msgid in gaps:
            print(msgid)  # noqa: T201
        return 1 if gaps else 0
    elif cmd == "compile":
        compile_all()
    else:
        print(__doc__)  # noqa: T201
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
