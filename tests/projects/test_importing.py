"""Tests for datacoop.projects.importing: the three item formats, their errors and streaming."""

from __future__ import annotations

import contextlib
import csv
import io
import json
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datacoop.errors import ImportFailed, UnsupportedMediaType, ValidationFailed
from datacoop.projects import importing
from datacoop.projects.importing import FORMATS, ParsedItem, detect_format, iter_items


class Stream:
    """A binary stream that refuses read-all, records read sizes and may return short reads."""

    def __init__(self, data: bytes, step: int | None = None) -> None:
        self.data, self.pos, self.step = data, 0, step
        self.sizes: list[int] = []

    def read(self, size: int | None = -1) -> bytes:
        assert size is not None and size > 0, f"read({size!r}) would read the whole file"
        self.sizes.append(size)
        n = min(size, self.step or size)
        chunk = self.data[self.pos : self.pos + n]
        self.pos += len(chunk)
        return chunk


@contextlib.contextmanager
def chunk_size(size: int | None) -> Iterator[None]:
    """Make the parsers read in chunks of ``size`` bytes, to put chunk ends everywhere."""
    saved = importing.CHUNK_SIZE
    importing.CHUNK_SIZE = size or saved
    try:
        yield
    finally:
        importing.CHUNK_SIZE = saved


def parse(
    data: bytes | str, fmt: str, step: int | None = None, chunk: int | None = None, **kw: int
) -> list[ParsedItem]:
    """Parse ``data``; ``step`` caps the bytes per read, ``chunk`` sets the parser's chunk size."""
    raw = data.encode() if isinstance(data, str) else data
    with chunk_size(chunk):
        return list(iter_items(Stream(raw, step), fmt, **kw))  # type: ignore[arg-type]


def fail(data: bytes | str, fmt: str, **kw: int) -> tuple[int, str]:
    """The (line, reason) of the ImportFailed raised; the same with tiny reads and chunks."""
    results = set()
    for step, chunk in [(None, None), (1, 1), (3, 7)] if len(data) < 10_000 else [(None, None)]:
        with pytest.raises(ImportFailed) as info:
            parse(data, fmt, step=step, chunk=chunk, **kw)
        assert info.value.details == {"line": info.value.line, "reason": info.value.reason}
        results.add((info.value.line, info.value.reason))
    assert len(results) == 1, results
    return results.pop()


def lines_of(items: list[ParsedItem]) -> list[int]:
    return [item.line for item in items]


# --- detect_format ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "content_type", "head", "expected"),
    [
        ("items.csv", None, b"", "csv"),
        ("ITEMS.CSV", "application/octet-stream", b"[", "csv"),
        ("items.jsonl", None, b"", "jsonl"),
        ("C:\\exports\\items.ndjson", None, b"", "jsonl"),
        ("export.json", None, b"", "labelstudio"),
        ("items.csv", "application/json", b"[", "csv"),  # the extension wins
        (None, "text/csv; charset=utf-8", b"{", "csv"),
        ("upload", "application/x-ndjson", b"", "jsonl"),
        (None, "application/jsonl", b"", "jsonl"),
        (None, "application/json", b"{", "labelstudio"),
        (None, None, b"\xef\xbb\xbf \n\t[{", "labelstudio"),
        ("items.txt", "text/plain", b'  {"a": 1}', "jsonl"),
        (None, "application/octet-stream", b"text,label\n", "csv"),
        (None, None, b"", "csv"),
    ],
)
def test_detect_format(filename, content_type, head, expected):
    assert detect_format(filename, content_type, head) == expected


@pytest.mark.parametrize(
    ("filename", "content_type", "head"),
    [
        ("items.xlsx", None, b"PK\x03\x04"),
        ("items.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b""),
        (None, "application/pdf", b"%PDF-1.7"),
        ("items.tsv", None, b"a\tb\n"),
        (None, None, b"%PDF-1.7"),
        (None, "application/octet-stream", b"PK\x03\x04\x14\x00"),
        (None, None, b"a,b\x00\x00"),
    ],
)
def test_detect_format_refuses_other_files(filename, content_type, head):
    with pytest.raises(UnsupportedMediaType):
        detect_format(filename, content_type, head)


def test_unknown_format_is_a_validation_error():
    assert FORMATS == ("csv", "jsonl", "labelstudio")
    with pytest.raises(ValidationFailed):
        iter_items(io.BytesIO(b""), "xlsx")


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"\n\n  \r\n"])
def test_empty_files_give_no_items(fmt, data):
    assert parse(data, fmt) == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_bom_is_dropped_whatever_the_chunk_size(fmt):
    data = {
        "csv": "text\nhi\n",
        "jsonl": '{"text": "hi"}\n',
        "labelstudio": '[{"data": {"text": "hi"}}]',
    }
    for step, chunk in [(None, None), (1, 1), (2, 2)]:
        [item] = parse(b"\xef\xbb\xbf" + data[fmt].encode(), fmt, step=step, chunk=chunk)
        assert item.data == {"text": "hi"}


# --- CSV ------------------------------------------------------------------------------------


def test_csv_good_file():
    text = (
        "\ufeff id ,text,source, gold\r\n"
        'q1,"Is this good?\r\nSecond line, with ""quotes""",shop,yes\r\n'
        "\r\n"
        ",plain,forum,\r\n"
        ", ,\t,\r\n"
        'q3,"a\nb\nc",forum,"[""cat"", ""dog""]"'
    )
    items = parse(text, "csv")
    assert items == [
        ParsedItem(
            2,
            {"text": 'Is this good?\r\nSecond line, with "quotes"', "source": "shop"},
            "yes",
            True,
            "q1",
        ),
        ParsedItem(5, {"text": "plain", "source": "forum"}, None, False, None),
        ParsedItem(7, {"text": "a\nb\nc", "source": "forum"}, '["cat", "dog"]', True, "q3"),
    ]


def test_csv_without_reserved_columns_keeps_cells_as_text():
    items = parse("n, label \n 1 ,\n\n2,x\n", "csv")
    assert [(i.line, i.data, i.gold, i.external_id) for i in items] == [
        (2, {"n": " 1 ", "label": ""}, None, None),
        (4, {"n": "2", "label": "x"}, None, None),
    ]


def test_csv_header_only_and_blank_lines_before_header():
    assert parse("id,text,gold\r\n", "csv") == []
    assert lines_of(parse("\n\ntext\nhello\n", "csv")) == [4]


def test_csv_id_and_gold_cells_are_trimmed_to_none():
    [item] = parse('id,text,gold\n  ,hi,"  "\n', "csv")
    assert (item.external_id, item.gold, item.gold_is_text) == (None, None, False)
    [item] = parse("id,text,gold\n k7 ,hi, no \n", "csv")
    assert (item.external_id, item.gold) == ("k7", " no ")


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("text,,gold\na,b,c\n", 1, "header: column 2 has no name"),
        ("text, \na,b\n", 1, "header: column 2 has no name"),
        ("text,label, text\na,b,c\n", 1, "header: duplicate column 'text'"),
        ("id,gold\n1,yes\n", 1, "header: no data columns (only id/gold)"),
        ('text\n"a\nb"\nc\nd,e\nf\n', 5, "expected 1 fields, found 2"),
        ("a,b\n1,2\n\n3\n", 4, "expected 2 fields, found 1"),
        ("a,b\n1,2\n3,4,\n", 3, "expected 2 fields, found 3"),
        ('a,b\n1,2\n3,"open\nquote\n', 3, "unexpected end of file inside a quoted field"),
        ('a,b\n1,2\n3,"x"y\n', 3, "malformed CSV: ',' expected after '\"'"),
        ("a,b\r1,2\r", 1, "line break \\r without \\n outside quotes (save with \\n line endings)"),
        ("a,b\n1,2\n3,x\x00y\n", 3, "contains a NUL character (U+0000)"),
    ],
)
def test_csv_errors(text, line, reason):
    assert fail(text, "csv") == (line, reason)


def test_csv_invalid_utf8_reports_its_line():
    data = b'text\nok\n"multi\nline"\n' + b"bad \xff byte\nok\n"
    assert fail(data, "csv") == (5, "not valid UTF-8")
    assert fail(b"text\nsplit \xe2\x82\n", "csv") == (2, "not valid UTF-8")


def test_csv_line_and_row_limits():
    assert len(parse("text\n" + "x" * 50 + "\r\n", "csv", max_line_bytes=50)) == 1
    assert fail("text\nok\n" + "x" * 51 + "\n", "csv", max_line_bytes=50) == (
        3,
        "line too long (over 50 bytes)",
    )
    assert fail("text\nok\n" + "x" * 200, "csv", max_line_bytes=50)[0] == 3
    # a quoted field that never closes: the row is reported where it starts
    line, reason = fail('text\nok\n"never closed\n' + "more\n" * 30, "csv", max_line_bytes=50)
    assert (line, reason) == (3, "row too long (over 50 bytes; a closing quote missing?)")


def test_csv_max_items():
    text = "text\n" + "".join(f"row {i}\n" for i in range(5))
    assert len(parse(text, "csv", max_items=5)) == 5
    assert fail(text, "csv", max_items=4) == (6, "more than 4 items")


def test_csv_bad_row_yields_nothing_for_it():
    got: list[ParsedItem] = []
    with pytest.raises(ImportFailed) as info:
        got.extend(iter_items(io.BytesIO(b"a,b\n1,2\n3,4\n5\n6,7\n"), "csv"))
    assert lines_of(got) == [2, 3]
    assert info.value.line == 4


# --- JSON Lines -----------------------------------------------------------------------------


def test_jsonl_good_file():
    text = (
        '\ufeff{"id": "q1", "text": "Great!", "gold": "yes", "score": 0.5}\r\n'
        "\r\n"
        '   {"data": {"text": "Bad", "data": 1}, "gold": ["a", 2], "id": 7, "meta": {"x": 1}}\n'
        '{"data": "not an object", "n": null}\n'
        '{"text": "\\u00e9\\ud83d\\ude00 \\"quoted\\"\\nline"}'
    )
    assert parse(text, "jsonl") == [
        ParsedItem(1, {"text": "Great!", "score": 0.5}, "yes", False, "q1"),
        ParsedItem(3, {"text": "Bad", "data": 1}, ["a", 2], False, "7"),
        ParsedItem(4, {"data": "not an object", "n": None}, None, False, None),
        ParsedItem(5, {"text": 'é😀 "quoted"\nline'}, None, False, None),
    ]


@pytest.mark.parametrize(
    ("line3", "reason"),
    [
        (
            '{"text": "x",}',
            "invalid JSON: Expecting property name enclosed in double quotes at column 14",
        ),
        ('{"text": "x"} {"text": "y"}', "invalid JSON: Extra data at column 15"),
        ("[1, 2]", "expected a JSON object"),
        ('"text"', "expected a JSON object"),
        ('{"data": {"t": 1}, "label": 2}', "unknown key 'label'"),
        ('{"id": 1, "gold": 2}', "data is empty"),
        ('{"data": {}}', "data is empty"),
        ('{"t": NaN}', "NaN is not allowed (numbers must be finite)"),
        ('{"t": [-Infinity]}', "-Infinity is not allowed (numbers must be finite)"),
        (
            '{"data": {"t": 1}, "gold": Infinity}',
            "Infinity is not allowed (numbers must be finite)",
        ),
        ('{"t": 1e400}', "number too large for a double"),
        ('{"t": 1, "id": true}', "'id' must be a non-empty string or a whole number"),
        ('{"t": 1, "id": 1.5}', "'id' must be a non-empty string or a whole number"),
        ('{"t": 1, "id": " "}', "'id' must be a non-empty string or a whole number"),
        ('{"t": 1, "id": ["a"]}', "'id' must be a non-empty string or a whole number"),
        ('{"t": "a\\u0000b"}', "text contains \\u0000 or an unpaired surrogate (\\ud800-\\udfff)"),
        (
            '{"t": {"k": ["\\udc00"]}}',
            "text contains \\u0000 or an unpaired surrogate (\\ud800-\\udfff)",
        ),
        ('{"t": ' + "[" * 100_000 + "]" * 100_000 + "}", "invalid JSON: nested too deeply"),
    ],
)
def test_jsonl_errors(line3, reason):
    text = '{"t": 1}\n\n' + line3 + '\n{"t": 2}\n'
    assert fail(text, "jsonl") == (3, reason)


def test_jsonl_escaped_backslash_u_is_plain_text():
    [item] = parse('{"t": "C:\\\\u0000 and \\\\ud800"}\n', "jsonl")
    assert item.data == {"t": "C:\\u0000 and \\ud800"}


def test_huge_int_is_refused():
    reason = "invalid JSON: a number has too many digits"
    assert fail('{"t": ' + "9" * 5000 + "}\n", "jsonl") == (1, reason)
    assert fail('[{"data": {"t": ' + "9" * 5000 + "}}]", "labelstudio") == (1, "task 1: " + reason)


def test_jsonl_invalid_utf8_line_limit_and_max_items():
    assert fail(b'{"t": 1}\n{"t": "\xc3("}\n', "jsonl") == (2, "not valid UTF-8")
    long_line = '{"t": "' + "x" * 100 + '"}'
    assert fail('{"t": 1}\n\n' + long_line + "\n", "jsonl", max_line_bytes=100) == (
        3,
        "line too long (over 100 bytes)",
    )
    text = '{"t": 1}\n\n{"t": 2}\n{"t": 3}\n'
    assert len(parse(text, "jsonl", max_items=3)) == 3
    assert fail(text, "jsonl", max_items=2) == (4, "more than 2 items")


# --- Label Studio ---------------------------------------------------------------------------


def test_labelstudio_good_file():
    tasks = [
        {
            "id": 1,
            "data": {"text": "Great!"},
            "gold": "yes",
            "annotations": [{"result": [{"value": {"choices": ["no"]}}]}],
            "predictions": [],
        },
        {"data": {"image": "https://x/1.png", "n": 1.5}, "meta": {"a": 1}, "project": 3},
        {"id": "ext-3", "data": {"text": "line\nbreak ✓"}},
    ]
    text = json.dumps(tasks, indent=2, ensure_ascii=False)
    items = parse("\ufeff\n" + text + "\n\n", "labelstudio")
    assert items == [
        ParsedItem(3, {"text": "Great!"}, "yes", False, "1"),
        ParsedItem(24, {"image": "https://x/1.png", "n": 1.5}, None, False, None),
        ParsedItem(34, {"text": "line\nbreak ✓"}, None, False, "ext-3"),
    ]
    assert parse(json.dumps(tasks), "labelstudio")[2].line == 1
    assert parse("[]", "labelstudio") == parse(" [\n ] \n", "labelstudio") == []


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        (
            '{"data": {"t": 1}}',
            1,
            "expected a JSON array of tasks (one JSON object per line is the .jsonl format)",
        ),
        ('\n\n"tasks"', 3, "expected a JSON array of tasks"),
        ('[\n{"data": {"t": 1}},\n 7\n]', 3, "task 2: expected a JSON object"),
        ('[\n{"data": {"t": 1}},\n {"t": 2}\n]', 3, "task 2: missing 'data'"),
        ('[\n{"data": {"t": 1}},\n {"data": [2]}\n]', 3, "task 2: 'data' must be a JSON object"),
        ('[\n{"data": {"t": 1}},\n {"data": {}}\n]', 3, "task 2: data is empty"),
        (
            '[{"data": {"t": 1}, "id": null},\n{"data": {"t": 1}, "id": {}}]',
            2,
            "task 2: 'id' must be a non-empty string or a whole number",
        ),
        (
            '[\n{"data": {"t": 1}},\n{\n "data": {"t": NaN}\n}]',
            3,
            "task 2: NaN is not allowed (numbers must be finite)",
        ),
        (
            '[\n{"data": {"t": 1}},\n{\n "data": {"t": 1,\n }\n}]',
            3,
            "task 2: invalid JSON: Expecting property name enclosed in double quotes (line 5)",
        ),
        ('[\n{"data": {"t": 1}},\n{"data": {"t": 1}}}]', 3, "expected ',' or ']' after task 2"),
        ('[\n{"data": {"t": 1}}\n{"data": {"t": 1}}]', 3, "expected ',' or ']' after task 1"),
        ('[\n{"data": {"t": 1}},\n]', 3, "unexpected ']' after ','"),
        ('[\n{"data": {"t": 1}}\n]\n\n, []', 5, "unexpected data after the closing ']'"),
        ("[", 1, "unexpected end of file"),
        (
            '[{"data": ' + "[" * 100_000 + "]" * 100_000 + "}]",
            1,
            "task 1: invalid JSON: nested too deeply",
        ),
        ('[\n{"data": {"t": 1}},\n\n', 2, "unexpected end of file"),
        ('[\n{"data": {"t": 1}}\n\n', 2, "unexpected end of file"),
        ('[\n{"data": {"t": 1}},\n{"data":\n {"t": \n\n', 4, "unexpected end of file"),
        ('[\n{"data": {"t": 1}},\n{"data":\n {"t": "unterminated', 4, "unexpected end of file"),
        (
            '[\n{"data": {"t": "\\u0000"}}]',
            2,
            "task 1: text contains \\u0000 or an unpaired surrogate (\\ud800-\\udfff)",
        ),
    ],
)
def test_labelstudio_errors(text, line, reason):
    assert fail(text, "labelstudio") == (line, reason)


def test_labelstudio_error_after_the_first_chunk():
    good = [{"id": i, "data": {"text": f"item {i} " * 20}} for i in range(2000)]
    text = json.dumps(good, indent=2)
    assert len(text) > 3 * importing.CHUNK_SIZE
    lines = text.split("\n")
    starts = [n for n, line in enumerate(lines, 1) if line == "  {"]
    assert lines_of(parse(text, "labelstudio")) == starts
    # a syntax error in task 1500, deep in the file, is reported at once with its line
    bad = text.replace('"item 1499 ', '"item 1499 \\x ', 1)
    line, reason = fail(bad, "labelstudio")
    assert (line, reason) == (
        starts[1499],
        f"task 1500: invalid JSON: Invalid \\escape (line {starts[1499] + 3})",
    )
    bad_utf8 = text.encode().replace(b"item 1777 ", b"item \xff ", 1)
    assert fail(bad_utf8, "labelstudio") == (starts[1777] + 3, "not valid UTF-8")


def test_labelstudio_item_too_large_and_max_items():
    task = {"data": {"t": "é" * 30}}  # 60 bytes of text, 30 characters
    text = json.dumps([task, task], ensure_ascii=False)
    assert len(parse(text, "labelstudio", max_line_bytes=80)) == 2
    assert fail(text, "labelstudio", max_line_bytes=60) == (
        1,
        "task 1: item too large (over 60 bytes)",
    )
    huge = '[{"data": {"t": 1}},\n{"data": {"t": "' + "x" * 300_000 + '"}}]'
    assert fail(huge, "labelstudio", max_line_bytes=100_000) == (
        2,
        "task 2: item too large (over 100000 bytes)",
    )
    three = json.dumps([task] * 3, indent=1)
    assert len(parse(three, "labelstudio", max_items=3)) == 3
    assert fail(three, "labelstudio", max_items=2)[1] == "more than 2 items"


# --- streaming ------------------------------------------------------------------------------


def big_file(fmt: str, n: int = 20_000) -> bytes:
    rows = [{"text": f'row {i}, ✓ "quoted"\nsecond line'} for i in range(n)]
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=["text"])
        writer.writeheader()
        writer.writerows(rows)
        return out.getvalue().encode()
    if fmt == "jsonl":
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()
    return json.dumps([{"data": r} for r in rows], indent=2, ensure_ascii=False).encode()


@pytest.mark.parametrize("fmt", FORMATS)
def test_reads_in_bounded_chunks_and_yields_early(fmt):
    data = big_file(fmt)
    assert len(data) > 10 * importing.CHUNK_SIZE
    stream = Stream(data)
    items = iter_items(stream, fmt)  # type: ignore[arg-type]
    first = next(items)
    assert first.data["text"].startswith("row 0,")
    assert stream.pos <= 2 * importing.CHUNK_SIZE  # only the start of the file was read
    assert sum(1 for _ in items) == 20_000 - 1
    assert stream.pos == len(data)
    assert max(stream.sizes) <= importing.CHUNK_SIZE


@pytest.mark.parametrize("fmt", FORMATS)
def test_short_reads_and_small_chunks_split_characters_and_lines_anywhere(fmt):
    data = big_file(fmt, 300)
    expected = parse(data, fmt)
    for step, chunk in [(1, None), (1, 1), (2, 3), (7, 5), (64, 64), (None, 10)]:
        assert parse(data, fmt, step=step, chunk=chunk) == expected


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_early_error_stops_reading(fmt):
    data = big_file(fmt)
    bad = data.replace(b"row 5,", b"row \xff,", 1)
    stream = Stream(bad)
    with pytest.raises(ImportFailed, match="not valid UTF-8"):
        list(iter_items(stream, fmt))  # type: ignore[arg-type]
    assert stream.pos <= 2 * importing.CHUNK_SIZE


# --- round trip -----------------------------------------------------------------------------

TEXT_CHARS = st.one_of(
    st.sampled_from("\n\r\",' \t\\{}[]:é✓😀\u2028"),
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
)
TEXT = st.text(TEXT_CHARS, max_size=20)
KEY = st.text(TEXT_CHARS, min_size=1, max_size=8).filter(
    lambda k: k == k.strip() and k not in ("id", "gold", "data", "meta")
)
CHUNKS = st.integers(1, 80)  # bytes per read and per parser chunk
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(st.data(), st.lists(KEY, min_size=1, max_size=4, unique=True), CHUNKS)
def test_csv_round_trip(draw, keys, step):
    rows = draw.draw(
        st.lists(
            st.lists(TEXT, min_size=len(keys), max_size=len(keys)).filter(
                lambda r: "".join(r).strip()
            ),
            max_size=8,
        )
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", *keys])
    starts = []
    for n, row in enumerate(rows):
        starts.append(out.getvalue().count("\n") + 1)
        writer.writerow([f"id-{n}", *row])
    items = parse(out.getvalue(), "csv", step=step, chunk=step)
    assert [item.data for item in items] == [dict(zip(keys, row, strict=True)) for row in rows]
    assert [item.external_id for item in items] == [f"id-{n}" for n in range(len(rows))]
    assert lines_of(items) == starts


@SETTINGS
@given(
    st.lists(
        st.tuples(
            st.dictionaries(KEY, TEXT, min_size=1, max_size=4), st.integers(0, 2), st.booleans()
        ),
        max_size=8,
    ),
    CHUNKS,
)
def test_jsonl_round_trip(rows, step):
    text, starts = "", []
    for data, blank_lines, ascii_only in rows:
        text += "\n" * blank_lines
        starts.append(text.count("\n") + 1)
        text += json.dumps(data, ensure_ascii=ascii_only) + "\n"
    items = parse(text, "jsonl", step=step, chunk=step)
    assert [item.data for item in items] == [data for data, _, _ in rows]
    assert lines_of(items) == starts


@SETTINGS
@given(
    st.lists(st.dictionaries(KEY, TEXT, min_size=1, max_size=4), max_size=8),
    st.sampled_from([None, 0, 2]),
    st.booleans(),
    CHUNKS,
)
def test_labelstudio_round_trip(datas, indent, ascii_only, step):
    tasks = [{"id": n, "data": data, "annotations": []} for n, data in enumerate(datas)]
    text = json.dumps(tasks, indent=indent, ensure_ascii=ascii_only)
    items = parse(text, "labelstudio", step=step, chunk=step)
    assert [item.data for item in items] == datas
    assert [item.external_id for item in items] == [str(n) for n in range(len(datas))]
    if indent is None:  # all on line 1
        assert lines_of(items) == [1] * len(datas)
    else:  # an element starts on a line of its own, indented once; nested objects do not
        opening = " " * indent + "{"
        assert lines_of(items) == [n for n, ln in enumerate(text.split("\n"), 1) if ln == opening]
