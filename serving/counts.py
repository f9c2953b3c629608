"""Counts before names: how many residents a list holds, per street and per building, split by what put them there.

The counting is one DuckDB statement over the query's own result (the same base, the same WHERE, the same bound
values), grouped by GROUPING SETS into the whole list, each street and each building, with one `count(*) FILTER`
per category of the query's breakdowns (`breakdowns` in `schemas/emergency_queries.yaml`). Busiest first.

The planner view (`planner_view`) is what a role gets for a list it is given but not cleared to see by name: counts
only, per street, with every cell under `suppress_below` (roles.yaml) shown as "<N" and never as a number:
- streets with fewer residents than that are folded into one line, "other streets", with how many streets it holds;
- in a breakdown whose categories partition the list, the suppressed cells of a row must together hold at least
  that many, else the next smallest cell is suppressed too: the total minus the shown cells never reveals a small
  count (secondary suppression, as census tables do);
- no building level: a building is too small an area to publish.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from serving.catalogue import Breakdown, Catalogue, Category, Query

LEVELS = ("all", "street", "building")


@dataclass(frozen=True)
class CountRow:
    street_code: int | None
    street_name: str
    house_number: str | None            # None on street and whole-list rows
    total: int | None                   # None = suppressed
    cells: dict[str, int | None]        # category key -> count (None = suppressed)
    streets: int = 1                    # how many streets the row stands for (the planner's "other streets")


@dataclass(frozen=True)
class Counts:
    breakdowns: tuple[Breakdown, ...]   # only the categories someone on the list is in
    whole: CountRow
    streets: list[CountRow]
    buildings: list[CountRow]
    suppress_below: int | None = None   # set in the planner view
    other_streets: CountRow | None = None

    @property
    def categories(self) -> list[Category]:
        return [c for b in self.breakdowns for c in b.categories]

    @property
    def suppressed(self) -> bool:
        return self.suppress_below is not None


def counts_statement(catalogue: Catalogue, query: Query) -> tuple[str, dict[str, Any]]:
    """The statement that counts `query`'s list (same base and WHERE), and the values its categories bind."""
    categories = [c for b in query.counts for c in b.categories]
    filters = "".join(f',\n  count(*) FILTER (WHERE {c.sql}) AS "c_{c.key}"' for c in categories)
    street, house = catalogue.call_sheet.group_by
    sql = (f"WITH {query.base} AS (\n{catalogue.bases[query.base]}\n),\nq AS (\n{query.sql}\n)\n"
           f"SELECT CASE WHEN grouping(q.{street}) = 1 THEN 'all' WHEN grouping(q.{house}) = 1 THEN 'street' "
           f"ELSE 'building' END AS level,\n"
           f"  q.street_code, q.{street}, q.{house}, min(q.house_sort_number) AS house_sort, count(*) AS total"
           f"{filters}\n"
           f"FROM q GROUP BY GROUPING SETS ((), (q.street_code, q.{street}), (q.street_code, q.{street}, q.{house}))\n"
           f"ORDER BY level, total DESC, q.{street}, house_sort, q.{house}")
    binds = {name: value for c in categories for name, value in c.binds}
    return sql, binds


def counts_from_rows(query: Query, rows: list[tuple]) -> Counts:
    """Counts from the rows of `counts_statement` (level, street code, street, house, sort, total, categories...)."""
    categories = [c for b in query.counts for c in b.categories]
    by_level: dict[str, list[CountRow]] = {level: [] for level in LEVELS}
    for level, code, street, house, _sort, total, *cells in rows:
        by_level[level].append(CountRow(
            street_code=code, street_name=street or "", house_number=house if level == "building" else None,
            total=int(total), cells={c.key: int(n) for c, n in zip(categories, cells)}))
    whole = by_level["all"][0] if by_level["all"] else CountRow(None, "", None, 0, {c.key: 0 for c in categories})
    present = tuple(
        replace(b, categories=tuple(c for c in b.categories if whole.cells[c.key] > 0)) for b in query.counts)
    return Counts(breakdowns=tuple(b for b in present if b.categories), whole=whole,
                  streets=by_level["street"], buildings=by_level["building"])


def _suppress(row: CountRow, breakdowns: tuple[Breakdown, ...], below: int) -> CountRow:
    cells: dict[str, int | None] = {k: (n if n >= below else None) for k, n in row.cells.items()}
    for b in breakdowns:
        if not b.partition:
            continue
        keys = [c.key for c in b.categories]
        shown = sorted((k for k in keys if cells.get(k) is not None), key=lambda k: row.cells[k])
        hidden_sum = sum(row.cells[k] for k in keys if cells.get(k) is None)
        # the total minus the shown cells is what the hidden ones hold together: never fewer than `below`
        while shown and len(shown) < len(keys) and hidden_sum < below:
            k = shown.pop(0)
            cells[k] = None
            hidden_sum += row.cells[k]
    total = row.total if row.total is not None and row.total >= below else None
    return replace(row, total=total, cells=cells)


def planner_view(counts: Counts, below: int) -> Counts:
    """De-identified counts: streets under `below` folded together, every cell under `below` suppressed."""
    big = [s for s in counts.streets if s.total >= below]
    small = [s for s in counts.streets if s.total < below]
    keys = list(counts.whole.cells)
    other = None
    if small:
        other = CountRow(street_code=None, street_name="", house_number=None,
                         total=sum(s.total for s in small),
                         cells={k: sum(s.cells[k] for s in small) for k in keys}, streets=len(small))
    shown_keys = {c.key for c in counts.categories}
    trim = lambda r: replace(r, cells={k: v for k, v in r.cells.items() if k in shown_keys})   # noqa: E731
    return Counts(
        breakdowns=counts.breakdowns,
        whole=_suppress(trim(counts.whole), counts.breakdowns, below),
        streets=[_suppress(trim(s), counts.breakdowns, below) for s in big],
        buildings=[],
        suppress_below=below,
        other_streets=_suppress(trim(other), counts.breakdowns, below) if other else None,
    )
