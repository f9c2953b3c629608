"""Salesforce record Ids: a 3-character key prefix, a 12-character body, and the 3-character suffix that
makes the 18-character form case-insensitive (Salesforce's published checksum)."""

from __future__ import annotations

import string

_BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
_SUFFIX = string.ascii_uppercase + "012345"


def _checksum(id15: str) -> str:
    out = ""
    for i in range(3):
        chunk = id15[i * 5:(i + 1) * 5]
        bits = sum(1 << j for j, ch in enumerate(chunk) if ch.isupper())
        out += _SUFFIX[bits]
    return out


def make_id(prefix: str, n: int) -> str:
    body = ""
    while n:
        n, r = divmod(n, 62)
        body = _BASE62[r] + body
    id15 = prefix + "Dn" + body.rjust(10, "0")
    return id15 + _checksum(id15)


def is_valid_id(value: str) -> bool:
    return isinstance(value, str) and len(value) == 18 and value.isalnum() and _checksum(value[:15]) == value[15:]
