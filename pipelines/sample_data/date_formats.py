"""Dates and times as the sources write them, rendered column-wise (null stays null)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def _days(dates: np.ndarray) -> pa.Array:
    return pa.array(dates.astype("datetime64[D]"), pa.date32())


def _seconds(times: np.ndarray) -> pa.Array:
    return pa.array(times.astype("datetime64[s]"), pa.timestamp("s"))


def dmy(dates: np.ndarray) -> pa.Array:
    """`dd/mm/yyyy`."""
    return pc.strftime(_days(dates), format="%d/%m/%Y")


def iso_date(dates: np.ndarray) -> pa.Array:
    return pc.strftime(_days(dates), format="%Y-%m-%d")


def dmy_hm(times: np.ndarray) -> pa.Array:
    """`dd/mm/yyyy HH:MM`."""
    return pc.strftime(_seconds(times), format="%d/%m/%Y %H:%M")


def iso_timestamp(times: np.ndarray) -> pa.Array:
    return pc.strftime(_seconds(times), format="%Y-%m-%dT%H:%M:%S")


def days_before(rng: np.random.Generator, as_of: np.datetime64, n: int, low: int, high: int) -> np.ndarray:
    """Dates between `high` and `low` days before the as-of date."""
    return np.datetime64(as_of, "D") - rng.integers(low, high + 1, n).astype("timedelta64[D]")


def times_before(rng: np.random.Generator, as_of: np.datetime64, n: int, max_days: int) -> np.ndarray:
    """Times of day (office hours mostly) on days up to `max_days` before the as-of date, minute precision."""
    day = days_before(rng, as_of, n, 0, max_days).astype("datetime64[m]")
    minute = rng.integers(7 * 60, 22 * 60, n).astype("timedelta64[m]")
    return day + minute
