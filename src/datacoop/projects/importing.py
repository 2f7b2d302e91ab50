"""Item import formats: turn an uploaded file into a stream of parsed items.

A file is read as UTF-8 (a leading byte-order mark is dropped) in 64 KiB chunks, so memory
stays flat whatever its size. The first bad row stops the import with
``ImportFailed(line, reason)``, where ``line`` is the 1-based line of the file on which the
bad item starts (lines end in ``\\n`` or ``\\r\\n``). Every item has:

- ``data``: the content shown to workers, a non-empty object;
- ``gold``: optionally, the hidden known answer used to check workers' answers;
- ``id``: optionally, your own id for the item: non-empty text or a whole number.

For every format: at most ``max_items`` items (default 1,000,000); at most
``max_line_bytes`` bytes (default 1,000,000, line break not counted) per line, CSV row or
Label Studio task; no U+0000 character and no unpaired surrogate (``\\ud800``) in text.
A file that is empty or blank gives no items.

CSV (``.csv``, ``text/csv``)
    The first row is the header: names are trimmed, and must be non-empty and unique.
    Column ``id`` holds your item id (trimmed) and column ``gold`` the gold answer as
    text, read later by the task type (e.g. ``yes`` or ``["cat", "dog"]``); an empty cell
    means none. Every other column goes into ``data`` as text, unchanged. A field in
    double quotes may hold commas, line breaks and ``""`` (a quote); such a row is
    reported at the line where it starts. Every row needs as many fields as the header;
    blank rows (all cells empty or spaces) are skipped; a bare ``\\r`` line ending is
    refused; a cell holds at most 131,072 characters. ::

        id,text,gold
        q1,"Is this review positive?
        Great product!",yes

JSON Lines (``.jsonl`` / ``.ndjson``, ``application/x-ndjson``)
    One JSON object per line; blank lines are skipped. Either flat, where the object
    minus the reserved keys ``id`` and ``gold`` is ``data``::

        {"id": "q1", "text": "Great product!", "gold": "yes"}

    or wrapped, when ``data`` is an object; then only ``data``, ``gold``, ``id`` and
    ``meta`` (ignored) may appear at the top level::

        {"data": {"text": "Great product!"}, "gold": "yes", "id": 7}

    ``gold`` may be any JSON value (the task type checks it). Numbers must be finite:
    ``NaN``, ``Infinity`` and numbers too large for a double are refused.

Label Studio (``.json``, ``application/json``)
    A JSON array of Label Studio tasks, as Label Studio imports and exports them; it may
    span any number of lines::

        [
          {"id": 1, "data": {"text": "Great product!"}, "gold": "yes"},
          {"id": 2, "data": {"text": "Broke in a day."}, "annotations": []}
        ]

    Each task needs ``data``, a non-empty object. ``id`` becomes your item id and a
    top-level ``gold`` the gold answer. All other keys (``annotations``,
    ``predictions``, ``meta``, ``project``, ...) are ignored: existing annotations are
    not turned into gold. A bad task is reported as ``task N`` (counting from 1) at the
    line where it starts. Numbers follow the JSON Lines rules.
"""

from __future__ import annotations

import codecs
import csv
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from datacoop.errors import ImportFailed, UnsupportedMediaType, ValidationFailed

FORMATS = ("csv", "jsonl", "labelstudio")
CHUNK_SIZE = 64 * 1024

_BY_EXTENSION = {"csv": "csv", "jsonl": "jsonl", "ndjson": "jsonl", "json": "labelstudio"}
_CONTENT_TYPES = {
    "csv": ("text/csv", "application/csv"),
    "jsonl": ("application/x-ndjson", "application/ndjson", "application/jsonl"),
    "labelstudio": ("application/json", "text/json"),
}
_BY_CONTENT_TYPE = {ctype: fmt for fmt, ctypes in _CONTENT_TYPES.items() for ctype in ctypes}
_GENERIC_EXTENSIONS = {"", "txt"}
_GENERIC_CONTENT_TYPES = {"", "text/plain", "application/octet-stream", "binary/octet-stream"}
_WANTED = "upload CSV (.csv), JSON Lines (.jsonl) or a Label Studio JSON file (.json)"
_WRAPPED_KEYS = frozenset({"data", "gold", "id", "meta"})
_WS = re.compile(r"[ \t\n\r]*")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class ParsedItem:
    line: int  # 1-based line number where the item starts in the file
    data: dict[str, Any]  # the item's content shown to workers
    gold: object | None  # hidden known answer, or None
    gold_is_text: bool  # True when gold came from a CSV cell (raw text for the task type)
    external_id: str | None  # requester's own id for the item, if given


def detect_format(filename: str | None, content_type: str | None, head: bytes) -> str:
    """Pick the format from the file extension, else the content type, else the first bytes."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    ext = name.rpartition(".")[2].lower() if "." in name else ""
    ctype = (content_type or "").split(";", 1)[0].strip().lower()
    if ext in _BY_EXTENSION:
        return _BY_EXTENSION[ext]
    if ctype in _BY_CONTENT_TYPE:
        return _BY_CONTENT_TYPE[ctype]
    if ext not in _GENERIC_EXTENSIONS:
        raise UnsupportedMediaType(f"cannot import a .{ext} file: {_WANTED}")
    if ctype not in _GENERIC_CONTENT_TYPES:
        raise UnsupportedMediaType(f"cannot import {ctype}: {_WANTED}")
    start = head.removeprefix(codecs.BOM_UTF8).lstrip()
    if b"\x00" in head or start.startswith((b"%PDF", b"PK\x03\x04")):
        raise UnsupportedMediaType(f"this looks like a binary file: {_WANTED}")
    return {b"[": "labelstudio", b"{": "jsonl"}.get(start[:1], "csv")


def iter_items(
    stream: BinaryIO, fmt: str, *, max_items: int = 1_000_000, max_line_bytes: int = 1_000_000
) -> Iterator[ParsedItem]:
    """Yield the items of ``stream`` one by one; raise ``ImportFailed`` at the first bad row."""
    if fmt == "csv":
        return _iter_csv(stream, max_items, max_line_bytes)
    if fmt == "jsonl":
        return _iter_jsonl(stream, max_items, max_line_bytes)
    if fmt == "labelstudio":
        return _LabelStudio(stream, max_line_bytes).items(max_items)
    raise ValidationFailed.field("format", "must be one of: " + ", ".join(FORMATS))


class _Invalid(Exception):
    """A bad item, before its line number is attached."""


def _chunks(stream: BinaryIO) -> Iterator[bytes]:
    """The stream's bytes in chunks of CHUNK_SIZE (short reads are joined), minus a UTF-8 BOM."""
    first, want = True, max(CHUNK_SIZE, 3)  # at least a whole BOM
    while True:
        pieces, size = [], 0
        while size < want and (piece := stream.read(want - size)):
            if not isinstance(piece, bytes | bytearray):
                raise TypeError("iter_items needs a binary stream")
            pieces.append(piece)
            size += len(piece)
        chunk = b"".join(pieces)
        if first:
            chunk, first = chunk.removeprefix(codecs.BOM_UTF8), False
        if chunk:
            yield chunk
        if size < want:
            return


class _Row:
    """The CSV row being read: the line it starts on and its size so far."""

    start, size = 1, 0


def _lines(stream: BinaryIO, limit: int, row: _Row | None = None) -> Iterator[str]:
    """Decoded lines, each ending in "\\n" but maybe the last; lines (rows) over limit fail."""
    line, rest, chunks = 0, b"", _chunks(stream)
    while True:
        chunk = next(chunks, None)
        if chunk is None:
            if not rest:
                return
            parts, rest = [rest], b""
        else:
            parts = (rest + chunk if rest else chunk).split(b"\n")
            rest = parts.pop()
        for raw in parts:
            line += 1
            size = len(raw) - raw.endswith(b"\r")
            if row is not None:
                size = row.size = row.size + size
            if size > limit:
                raise _too_long(line, limit, row)
            try:
                text = raw.decode()
            except UnicodeDecodeError:
                raise ImportFailed(line, "not valid UTF-8") from None
            if "\x00" in text:
                raise ImportFailed(line, "contains a NUL character (U+0000)")
            yield text + "\n" if chunk is not None else text
        if len(rest) > limit:  # a line still without its end is already too long
            raise _too_long(line + 1, limit, row)


def _too_long(line: int, limit: int, row: _Row | None) -> ImportFailed:
    if row is None or row.start == line:
        return ImportFailed(line, f"line too long (over {limit} bytes)")
    return ImportFailed(row.start, f"row too long (over {limit} bytes; a closing quote missing?)")


def _iter_csv(stream: BinaryIO, max_items: int, limit: int) -> Iterator[ParsedItem]:
    row = _Row()
    reader = csv.reader(_lines(stream, limit, row), strict=True)
    names: list[str] = []
    count = 0
    while True:
        row.start, row.size = reader.line_num + 1, 0
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ImportFailed(row.start, _csv_reason(str(exc))) from None
        if not "".join(cells).strip():
            continue
        line = row.start
        if not names:
            names = _csv_header(cells, line)
            continue
        if len(cells) != len(names):
            raise ImportFailed(line, f"expected {len(names)} fields, found {len(cells)}")
        count += 1
        if count > max_items:
            raise ImportFailed(line, f"more than {max_items} items")
        data = dict(zip(names, cells, strict=True))
        external_id = data.pop("id", "").strip() or None
        gold = data.pop("gold", None)
        gold = gold if gold and not gold.isspace() else None
        yield ParsedItem(line, data, gold, gold is not None, external_id)


def _csv_header(cells: list[str], line: int) -> list[str]:
    names = [name.strip() for name in cells]
    for number, name in enumerate(names, 1):
        if not name:
            raise ImportFailed(line, f"header: column {number} has no name")
        if name in names[: number - 1]:
            raise ImportFailed(line, f"header: duplicate column {name!r}")
    if not set(names) - {"id", "gold"}:
        raise ImportFailed(line, "header: no data columns (only id/gold)")
    return names


def _csv_reason(message: str) -> str:
    if message == "unexpected end of data":
        return "unexpected end of file inside a quoted field"
    if message.startswith("new-line character seen in unquoted field"):
        return "line break \\r without \\n outside quotes (save with \\n line endings)"
    return f"malformed CSV: {message}"


class _Json:
    """A JSON decoder that flags NaN, Infinity and overflowing numbers (see ``bad``)."""

    def __init__(self) -> None:
        self.bad = ""
        self.decoder = json.JSONDecoder(parse_float=self._float, parse_constant=self._constant)

    def _float(self, text: str) -> float:
        if math.isinf(value := float(text)):
            self.bad = "number too large for a double"
        return value

    def _constant(self, text: str) -> float:
        self.bad = f"{text} is not allowed (numbers must be finite)"
        return 0.0


def _json_reason(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"invalid JSON: {exc.msg}"
    if isinstance(exc, RecursionError):
        return "invalid JSON: nested too deeply"
    return "invalid JSON: a number has too many digits"  # int() refuses over 4,300 digits


def _item(obj: object, bad: str, raw: str, line: int, labelstudio: bool) -> ParsedItem:
    """Check one decoded JSON item (raise _Invalid) and build it; ``raw`` is its source text."""
    if not isinstance(obj, dict):
        raise _Invalid("expected a JSON object")
    if bad:
        raise _Invalid(bad)
    data = obj.get("data")
    if labelstudio:
        if not isinstance(data, dict):
            raise _Invalid("'data' must be a JSON object" if "data" in obj else "missing 'data'")
    elif isinstance(data, dict):
        if extra := [key for key in obj if key not in _WRAPPED_KEYS]:
            raise _Invalid(f"unknown key {extra[0]!r}")
    elif "id" in obj or "gold" in obj:
        data = {key: value for key, value in obj.items() if key != "id" and key != "gold"}
    else:
        data = obj
    if not data:
        raise _Invalid("data is empty")
    external_id, gold = obj.get("id"), obj.get("gold")
    if isinstance(external_id, int) and not isinstance(external_id, bool):
        external_id = str(external_id)
    elif external_id is not None and not (isinstance(external_id, str) and external_id.strip()):
        raise _Invalid("'id' must be a non-empty string or a whole number")
    if "\\u" in raw:  # only escapes can smuggle in text that cannot be stored
        stack = [data, gold, external_id]
        while stack:
            value = stack.pop()
            if isinstance(value, str) and _UNSTORABLE.search(value):
                raise _Invalid("text contains \\u0000 or an unpaired surrogate (\\ud800-\\udfff)")
            if isinstance(value, dict):
                stack.extend(value)
                stack.extend(value.values())
            elif isinstance(value, list):
                stack.extend(value)
    return ParsedItem(line, data, gold, False, external_id)


def _iter_jsonl(stream: BinaryIO, max_items: int, limit: int) -> Iterator[ParsedItem]:
    parser, count = _Json(), 0
    for line, text in enumerate(_lines(stream, limit), 1):
        if not text or text.isspace():
            continue
        count += 1
        if count > max_items:
            raise ImportFailed(line, f"more than {max_items} items")
        parser.bad = ""
        try:
            # Decode without the line break, so a line cut short is reported at its real end.
            decoded = parser.decoder.decode(text.rstrip("\r\n"))
            item = _item(decoded, parser.bad, text, line, labelstudio=False)
        except json.JSONDecodeError as exc:
            raise ImportFailed(line, f"{_json_reason(exc)} at column {exc.colno}") from None
        except (ValueError, RecursionError) as exc:
            raise ImportFailed(line, _json_reason(exc)) from None
        except _Invalid as exc:
            raise ImportFailed(line, str(exc)) from None
        yield item


class _LabelStudio:
    """Streams the elements of a top-level JSON array with ``raw_decode`` over a growing buffer.

    ``buf[pos:]`` is text not yet consumed and ``line`` the line of ``buf[pos]``. The buffer
    is cut back to ``pos`` at each refill: it holds at most one element plus one chunk.
    """

    def __init__(self, stream: BinaryIO, limit: int) -> None:
        self.chunks, self.limit, self.parser = _chunks(stream), limit, _Json()
        self.buf, self.pos, self.line, self.line_before_ws = "", 0, 1, 1
        self.undecoded, self.eof = b"", False

    def _fill(self) -> bool:
        """Append one more chunk of text; False at the end of the file."""
        if self.eof:
            return False
        chunk = next(self.chunks, None)
        data = self.undecoded + chunk if chunk is not None else self.undecoded
        try:
            text, used = codecs.utf_8_decode(data, "strict", chunk is None)
        except UnicodeDecodeError as exc:
            line = self.line + self.buf.count("\n", self.pos) + data.count(b"\n", 0, exc.start)
            raise ImportFailed(line, "not valid UTF-8") from None
        self.undecoded, self.eof = data[used:], chunk is None
        self.buf, self.pos = self.buf[self.pos :] + text, 0
        return not self.eof or bool(text)

    def _next_char(self) -> str:
        """Skip whitespace; return the next character, or "" at the end of the file."""
        self.line_before_ws = self.line
        while True:
            end = _WS.match(self.buf, self.pos).end()  # type: ignore[union-attr]
            self.line += self.buf.count("\n", self.pos, end)
            self.pos = end
            if end < len(self.buf):
                return self.buf[end]
            if not self._fill():
                return ""

    def items(self, max_items: int) -> Iterator[ParsedItem]:
        char = self._next_char()
        if not char:
            return
        if char != "[":
            hint = " (one JSON object per line is the .jsonl format)" if char == "{" else ""
            raise ImportFailed(self.line, "expected a JSON array of tasks" + hint)
        self.pos += 1
        char, index = self._next_char(), 0
        while char != "]":
            if not char:
                raise ImportFailed(self.line_before_ws, "unexpected end of file")
            index += 1
            if index > max_items:
                raise ImportFailed(self.line, f"more than {max_items} items")
            yield self._element(index)
            char = self._next_char()
            if char == ",":
                self.pos += 1
                if (char := self._next_char()) == "]":
                    raise ImportFailed(self.line, "unexpected ']' after ','")
            elif char and char != "]":
                raise ImportFailed(self.line, f"expected ',' or ']' after task {index}")
        self.pos += 1
        if self._next_char():
            raise ImportFailed(self.line, "unexpected data after the closing ']'")

    def _element(self, index: int) -> ParsedItem:
        line, parser = self.line, self.parser
        too_large = f"task {index}: item too large (over {self.limit} bytes)"
        if self.buf[self.pos] != "{":
            raise ImportFailed(line, f"task {index}: expected a JSON object")
        while True:
            parser.bad = ""
            try:
                obj, end = parser.decoder.raw_decode(self.buf, self.pos)
                break
            except json.JSONDecodeError as exc:  # maybe only because the buffer ends mid-element
                unterminated = exc.msg.startswith("Unterminated string")
                if self.eof and (unterminated or exc.pos >= len(self.buf)):
                    last = self.line + self.buf.rstrip().count("\n", self.pos)
                    raise ImportFailed(last, "unexpected end of file") from None
                if self.eof or not (unterminated or exc.pos >= len(self.buf) - 16):
                    at = self.line + self.buf.count("\n", self.pos, exc.pos)
                    where = f" (line {at})" if at != line else ""
                    raise ImportFailed(line, f"task {index}: {_json_reason(exc)}{where}") from None
            except (ValueError, RecursionError) as exc:
                raise ImportFailed(line, f"task {index}: {_json_reason(exc)}") from None
            if len(self.buf) - self.pos > self.limit:
                raise ImportFailed(line, too_large)
            self._fill()
        raw = self.buf[self.pos : end]
        if len(raw) > self.limit // 4 and len(raw.encode()) > self.limit:
            raise ImportFailed(line, too_large)
        self.line += raw.count("\n")
        self.pos = end
        try:
            return _item(obj, parser.bad, raw, line, labelstudio=True)
        except _Invalid as exc:
            raise ImportFailed(line, f"task {index}: {exc}") from None
