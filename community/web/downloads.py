"""File downloads: the managers' exports (streamed CSV and XLSX, never cached) and the uploaded
photos and pictures, each sent only after its own module decided who may see it."""
from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO

from flask import Response, current_app, send_file, send_from_directory, stream_with_context
from sqlmodel import Session

from community.db import open_session

NO_STORE = "no-store"
CSV = "text/csv; charset=utf-8"  # content_type=, not mimetype=: that would add a second charset
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SPOOL_BYTES = 16 * 1024 * 1024  # an XLSX stays in memory up to this size, then on disk
CHUNK_BYTES = 256 * 1024  # a streamed XLSX is sent in pieces of this size


def upload_root(kind: str) -> Path:
    """Where one kind of upload lives: <UPLOAD_DIR or the instance folder>/<kind>
    ("photos" for drops, "reports", "supervision", "rewards")."""
    return Path(current_app.config.get("UPLOAD_DIR") or current_app.instance_path) / kind


def private_file(kind: str, path: str, *, cache: str = "private, no-cache") -> Response:
    """An uploaded file the caller has already authorised, never kept by shared caches.

    send_from_directory refuses paths that leave the folder (safe_join) and 404s missing
    files, so a stored path can never reach outside its kind's folder.
    """
    resp = send_from_directory(upload_root(kind), path)
    resp.headers["Cache-Control"] = cache
    return resp


def streamed_csv(chunks_of: Callable[[Session], Iterable[bytes]], filename: str) -> Response:
    """A CSV attachment streamed from `chunks_of(session)` run in its own read session.

    The request's session is closed before a long stream ends, so the rows are read in a
    session of their own (deferred BEGIN on SQLite: a long read never holds the write lock),
    on the replica when one is configured: the request itself (its authorization, its audit
    entry) ran on the primary; the rows may lag it by the replica's few seconds.
    """
    def generate() -> Iterator[bytes]:
        with open_session(read_only=True, replica=True) as session:
            yield from chunks_of(session)

    return attachment(Response(stream_with_context(generate()),
                               content_type=CSV), filename)


def csv_file(body: bytes, filename: str) -> Response:
    """A small CSV attachment made in one piece."""
    return attachment(Response(body, content_type=CSV), filename)


def xlsx_file(write: Callable[[IO[bytes]], None], filename: str) -> Response:
    """An XLSX attachment: `write(out)` fills a spooled temporary file that is then sent."""
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - send_file closes it
    write(out)
    out.seek(0)
    resp = send_file(out, as_attachment=True, mimetype=XLSX, download_name=filename)
    resp.headers["Cache-Control"] = NO_STORE
    return resp


def streamed_xlsx(write_from: Callable[[Session, IO[bytes]], None], filename: str) -> Response:
    """An XLSX attachment made after the request's commit point: `write_from(session, out)`
    reads its rows in a read session of its own (as `streamed_csv`, on the replica when one
    is configured) and fills a spooled temporary file, then sent in chunks.

    A big export takes seconds to write; made inside the request it kept the request's
    transaction open, and on SQLite that transaction holds the write lock from its audit
    entry on, so every scan waited behind it. Here the request (authorization, row count,
    audit entry) has committed before the file is made.
    """
    def generate() -> Iterator[bytes]:
        with (open_session(read_only=True, replica=True) as session,
              tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as out):
            write_from(session, out)
            out.seek(0)
            while chunk := out.read(CHUNK_BYTES):
                yield chunk

    return attachment(Response(stream_with_context(generate()), content_type=XLSX), filename)


def attachment(resp: Response, filename: str) -> Response:
    """Mark a response as a download that no cache keeps (exports hold personal data)."""
    resp.headers["Content-Disposition"] = f"attachment; filename={filename}"
    resp.headers["Cache-Control"] = NO_STORE
    return resp
