"""Phone numbers: E.164 truth values and the ways people write them.

Mobile numbers are 05X-XXXXXXX (prefixes of the real operators), landlines 0A-XXXXXXX with the area code of the
municipality's district; both only in ranges that are allocated, as staging checks them.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from connectors import reference
from pipelines.normalize.phones import kind_patterns

MOBILE_PREFIXES = np.array([50, 52, 53, 54, 58])
MOBILE_SHARES = np.array([0.31, 0.28, 0.12, 0.22, 0.07])
# Landline area code by CBS district (napa), as `connectors.reference.load_localities` names them; districts not
# listed (Tel Aviv, Ramat Gan, Holon, Petah Tikva) dial 03.
AREA_CODE_BY_DISTRICT = {
    "ירושלים": 2, "ראמאללה": 2, "בית לחם": 2, "חברון": 2, "ירדן )יריחו(": 2,
    "צפת": 4, "כנרת": 4, "עפולה": 4, "עכו": 4, "גולן": 4, "נצרת": 4, "חיפה": 4, "חדרה": 4, "ג'נין": 4,
    "השרון": 9, "טול כרם": 9, "שכם": 9,
    "רמלה": 8, "רחובות": 8, "אשקלון": 8, "באר שבע": 8,
}

# How a number is written, by example. Format 0 is the tidy form a system exports; the others appear in
# hand-kept and legacy data.
FORMATS = ("050-1234567", "0501234567", "+972501234567", "972-50-1234567")


def area_code(municipality: int) -> int:
    locality = reference.load_localities().get(int(municipality))
    return AREA_CODE_BY_DISTRICT.get(locality["district"], 3) if locality else 3


def _allocated(national: np.ndarray, kind: str) -> np.ndarray:
    """Whether each national number lies in a range allocated for `kind` (phonenumbers' IL metadata, the same
    patterns staging validates with), checked column-wise with RE2."""
    pattern = "^(?:" + kind_patterns()[kind] + ")$"
    return pc.match_substring_regex(pa.array(national).cast(pa.string()), pattern).to_numpy(zero_copy_only=False)


@lru_cache(maxsize=1)
def _mobile_blocks() -> np.ndarray:
    """The 4-digit blocks (`5XYZ`) of the operators' prefixes in which numbers are allocated.

    For these prefixes phonenumbers' pattern only constrains the first digits and the length, so testing a few
    numbers per block classifies it; checking each of a million numbers with the full pattern costs seconds."""
    blocks = np.arange(5000, 6000, dtype=np.int64)
    ok = np.isin(blocks // 100, MOBILE_PREFIXES)
    for tail in (0, 12345, 54321, 99999):
        ok &= _allocated(blocks * 100_000 + tail, "mobile")
    return blocks[ok]


def draw_mobiles(rng: np.random.Generator, n: int) -> np.ndarray:
    """Distinct, allocated mobile national numbers (9 digits, `5XXXXXXXX`) as int64."""
    blocks = _mobile_blocks()
    operator_of_block = np.searchsorted(MOBILE_PREFIXES, blocks // 100)
    block_p = (MOBILE_SHARES / np.bincount(operator_of_block, minlength=len(MOBILE_PREFIXES)))[operator_of_block]
    out = np.zeros(n, dtype=np.int64)
    todo = np.arange(n)
    while len(todo):
        block = rng.choice(blocks, len(todo), p=block_p / block_p.sum())
        out[todo] = block * 100_000 + rng.integers(0, 100_000, len(todo))
        _, first = np.unique(out, return_index=True)
        keep = np.zeros(n, dtype=bool)
        keep[first] = True
        todo = np.flatnonzero(~keep)
    return out


def draw_landlines(rng: np.random.Generator, n: int, area: int) -> np.ndarray:
    """Allocated landline national numbers (8 digits, `AXXXXXXX`) as int64; duplicates are rare and harmless."""
    out = np.zeros(n, dtype=np.int64)
    todo = np.arange(n)
    while len(todo):
        out[todo] = area * 10_000_000 + rng.integers(2_000_000, 10_000_000, len(todo))
        todo = todo[~_allocated(out[todo], "landline")]
    return out


def e164(national: pa.Array) -> pa.Array:
    return pc.binary_join_element_wise("+972", national.cast(pa.string()), "")


def written(national: pa.Array, style: np.ndarray) -> pa.Array:
    """National numbers (int) written in the `FORMATS` picked by `style` (0..3); nulls stay null."""
    digits = national.cast(pa.string())
    # Subscriber part is the last 7 digits; the prefix is what precedes it (50, 3, ...).
    prefix = pc.utf8_slice_codeunits(digits, 0, -7)
    subscriber = pc.utf8_slice_codeunits(digits, -7)
    variants = [
        pc.binary_join_element_wise("0", prefix, "-", subscriber, ""),
        pc.binary_join_element_wise("0", digits, ""),
        pc.binary_join_element_wise("+972", digits, ""),
        pc.binary_join_element_wise("972-", prefix, "-", subscriber, ""),
    ]
    return pc.choose(pa.array(style.astype(np.int8)), *variants)
