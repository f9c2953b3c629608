"""Request bodies read as HTTP/1.1 sends them (RFC 9112 §6): `Transfer-Encoding: chunked` (what jsforce and
other streaming clients use for Bulk uploads) or `Content-Length`, with a size limit.

A body over its limit raises `BodyTooLarge` as soon as the limit is passed (a declared Content-Length over
it is refused before a byte is read); the server then answers 413 and closes the connection, since the
rest of the body is left unread. A malformed chunked body raises `BadBody` (400, connection closed).
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO, Iterator

_PIECE = 1 << 20
_MAX_LINE = 4096


class BodyTooLarge(Exception):
    def __init__(self, limit: int):
        super().__init__(f"request body over {limit} bytes")
        self.limit = limit


class BadBody(Exception):
    pass


class Body:
    """The body of one request on `rfile`; read at most once (`read`, `save` or `drain`)."""

    def __init__(self, rfile: BinaryIO, headers):
        self.rfile = rfile
        encodings = [e.strip().lower() for e in (headers.get("Transfer-Encoding") or "").split(",") if e.strip()]
        self.chunked = bool(encodings) and encodings[-1] == "chunked"
        if encodings and not self.chunked:
            raise BadBody("unsupported Transfer-Encoding")
        self.length = 0
        if not self.chunked:
            try:
                self.length = int(headers.get("Content-Length") or 0)
            except ValueError:
                raise BadBody("invalid Content-Length") from None
            if self.length < 0:
                raise BadBody("invalid Content-Length")
        self.consumed = False
        self.incomplete = False   # left unread (too large or malformed): the connection must close

    def _pieces(self, limit: int) -> Iterator[bytes]:
        if self.consumed:
            return
        self.consumed = True
        if not self.chunked:
            if self.length > limit:
                self.incomplete = True
                raise BodyTooLarge(limit)
            remaining = self.length
            while remaining > 0:
                piece = self.rfile.read(min(_PIECE, remaining))
                if not piece:
                    self.incomplete = True
                    raise BadBody("body shorter than Content-Length")
                remaining -= len(piece)
                yield piece
            return
        total = 0
        while True:
            line = self.rfile.readline(_MAX_LINE)
            size_text = line.split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                self.incomplete = True
                raise BadBody("invalid chunk size") from None
            if size == 0:
                while self.rfile.readline(_MAX_LINE) not in (b"\r\n", b"\n", b""):
                    pass   # trailer fields: ignored
                return
            total += size
            if total > limit:
                self.incomplete = True
                raise BodyTooLarge(limit)
            remaining = size
            while remaining > 0:
                piece = self.rfile.read(min(_PIECE, remaining))
                if not piece:
                    self.incomplete = True
                    raise BadBody("chunked body cut short")
                remaining -= len(piece)
                yield piece
            if self.rfile.readline(_MAX_LINE) not in (b"\r\n", b"\n"):
                self.incomplete = True
                raise BadBody("chunk not followed by CRLF")

    def read(self, limit: int) -> bytes:
        return b"".join(self._pieces(limit))

    def save(self, target: Path, limit: int) -> int:
        """Streams the body into `target` (removed again if the body is refused); returns its size."""
        size = 0
        try:
            with open(target, "wb") as out:
                for piece in self._pieces(limit):
                    out.write(piece)
                    size += len(piece)
        except BaseException:
            target.unlink(missing_ok=True)
            raise
        return size

    def drain(self, limit: int) -> None:
        """Reads and drops what is left (so the connection can serve the next request)."""
        for _ in self._pieces(limit):
            pass
