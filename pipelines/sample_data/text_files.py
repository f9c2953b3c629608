"""Writing generated records as the text files sources deliver: CSV in Windows-1255 (or UTF-8 with BOM) and
JSON lines, assembled column-wise with Arrow and transcoded in one pass, never row by row."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pipelines.private_files import write_private_bytes

CSV_EOL = "\r\n"   # Windows exports


def _csv_cell(values: pa.Array) -> pa.Array:
    """Quoted where it must be (a comma, a quote or a line break inside), as Excel writes CSV; null -> empty.

    Most columns (dates, codes, numbers) never need quotes: they are returned after one cheap scan."""
    values = pc.fill_null(values.cast(pa.string()), "")
    needs_quotes = None
    for special in (",", '"', "\n", "\r"):
        found = pc.match_substring(values, special)
        needs_quotes = found if needs_quotes is None else pc.or_(needs_quotes, found)
    if not pc.any(needs_quotes).as_py():
        return values
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(values, '"', '""'), '"', "")
    return pc.if_else(needs_quotes, quoted, values)


def _utf8_bytes(lines: pa.Array) -> bytes:
    """All strings of an array back to back, as UTF-8 bytes: the slice of Arrow's value buffer they occupy."""
    lines = lines.cast(pa.large_string())
    if len(lines) == 0:
        return b""
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)[lines.offset: lines.offset + len(lines) + 1]
    return lines.buffers()[2].to_pybytes()[offsets[0]: offsets[-1]]


def write_csv(path: Path, header: list[str], columns: list[pa.Array], encoding: str) -> None:
    """A header line and one line per record; `encoding` is `cp1255` or `utf-8-sig`. Characters the encoding
    cannot hold raise (the generator never produces them, and silently replacing them would corrupt records)."""
    lines = pc.binary_join_element_wise(*[_csv_cell(c) for c in columns], ",")
    lines = pc.binary_join_element_wise(lines, "", CSV_EOL)   # line + EOL
    text = ",".join(header) + CSV_EOL + _utf8_bytes(lines).decode("utf-8")
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError as e:   # the codec's message quotes the character: name the line instead
        line = text.count(CSV_EOL, 0, e.start) + 1
        raise ValueError(f"{path.name}: line {line} holds a character {encoding} cannot encode") from None
    write_private_bytes(path, data)


def _json_value(values: pa.Array) -> pa.Array:
    """A string column as JSON values: quoted and escaped, null -> null."""
    escaped = pc.replace_substring(pc.replace_substring(values.cast(pa.string()), "\\", "\\\\"), '"', '\\"')
    return pc.fill_null(pc.binary_join_element_wise('"', escaped, '"', ""), "null")


def write_jsonl(path: Path, columns: dict[str, pa.Array]) -> None:
    """One JSON object per line, keys in the given order, UTF-8 (Hebrew as is, not \\u-escaped)."""
    parts = []
    for i, (key, values) in enumerate(columns.items()):
        parts.append(pa.scalar(("{" if i == 0 else ", ") + f'"{key}": '))
        parts.append(_json_value(values))
    parts.append(pa.scalar("}\n"))
    lines = pc.binary_join_element_wise(*parts, "")
    write_private_bytes(path, _utf8_bytes(lines))
