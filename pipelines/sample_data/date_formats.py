"""Dates and times as the sources write them, rendered column-wise (NaT becomes null).

Built from integer parts with Arrow string kernels: Arrow's `strftime` costs microseconds a value, which is
seconds per column at a million rows.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_TWO_DIGITS = pa.array([f"{i:02d}" for i in range(100)])


def _two(values: np.ndarray) -> pa.Array:
    return _TWO_DIGITS.take(pa.array(values))


def _date_parts(dates: np.ndarray) -> tuple[pa.Array, pa.Array, pa.Array, np.ndarray]:
    """(dd, mm, yyyy) as text and the NaT mask."""
    days = dates.astype("datetime64[D]")
    missing = np.isnat(days)
    days = np.where(missing, np.datetime64("2000-01-01"), days)
    months = days.astype("datetime64[M]")
    year = months.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    day = (days - months).astype(np.int64) + 1
    return _two(day), _two(month), pa.array(year).cast(pa.string()), missing


def _time_parts(times: np.ndarray) -> tuple[pa.Array, pa.Array, pa.Array]:
    """(HH, MM, SS) as text."""
    seconds = (times.astype("datetime64[s]") - times.astype("datetime64[D]")).astype(np.int64)
    return _two(seconds // 3600), _two(seconds // 60 % 60), _two(seconds % 60)


def _nullify(values: pa.Array, missing: np.ndarray) -> pa.Array:
    return pc.if_else(pa.array(missing), pa.scalar(None, pa.string()), values) if missing.any() else values


def dmy(dates: np.ndarray) -> pa.Array:
    """`dd/mm/yyyy`."""
    d, m, y, missing = _date_parts(dates)
    return _nullify(pc.binary_join_element_wise(d, m, y, "/"), missing)


def iso_date(dates: np.ndarray) -> pa.Array:
    """`yyyy-mm-dd`."""
    d, m, y, missing = _date_parts(dates)
    return _nullify(pc.binary_join_element_wise(y, m, d, "-"), missing)


def dmy_hm(times: np.ndarray) -> pa.Array:
    """`dd/mm/yyyy HH:MM`."""
    hh, mm, _ = _time_parts(times)
    return pc.binary_join_element_wise(dmy(times), pc.binary_join_element_wise(hh, mm, ":"), " ")


def iso_timestamp(times: np.ndarray) -> pa.Array:
    """`yyyy-mm-ddTHH:MM:SS`."""
    hh, mm, ss = _time_parts(times)
    return pc.binary_join_element_wise(iso_date(times), pc.binary_join_element_wise(hh, mm, ss, ":"), "T")


def days_before(rng: np.random.Generator, as_of: np.datetime64, n: int, low: int, high: int) -> np.ndarray:
    """Dates between `high` and `low` days before the as-of date."""
    return np.datetime64(as_of, "D") - rng.integers(low, high + 1, n).astype("timedelta64[D]")


def times_before(rng: np.random.Generator, as_of: np.datetime64, n: int, max_days: int) -> np.ndarray:
    """Times of day (07:00-22:00) on days up to `max_days` before the as-of date, minute precision."""
    day = days_before(rng, as_of, n, 0, max_days).astype("datetime64[m]")
    minute = rng.integers(7 * 60, 22 * 60, n).astype("timedelta64[m]")
    return day + minute
