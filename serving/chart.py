"""The bar chart above a list: the busiest streets, drawn on the server as inline SVG (no script, nothing fetched).

Here only the geometry is computed; `templates/_chart.html` draws it. Bars run right to left (the page is Hebrew),
one per street, split into the categories of the list's first breakdown that partitions it (for evacuation: what
is known about the floor and the elevator) when every cell of that split is shown; the planner view's suppressed
cells are never drawn, so its bars are whole.
"""

from __future__ import annotations

from dataclasses import dataclass

from serving.counts import Counts, CountRow

# Colours with at least 4.5:1 contrast on white, so each reads as text and as a bar.
PALETTE = ("#38506b", "#9a4a00", "#7a1f1f", "#4f5d1f", "#5d3a70", "#1f5d5a")
WIDTH, LABEL_WIDTH, BAR_HEIGHT, GAP, VALUE_WIDTH = 420, 120, 18, 6, 34


@dataclass(frozen=True)
class Segment:
    x: float
    width: float
    colour: str
    title: str


@dataclass(frozen=True)
class Bar:
    y: float
    label: str
    value: int
    value_x: float
    segments: tuple[Segment, ...]


@dataclass(frozen=True)
class Legend:
    colour: str
    title: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    label_x: float
    bars: tuple[Bar, ...]
    legend: tuple[Legend, ...]
    more_streets: int               # streets not drawn


def street_label(row: CountRow) -> str:
    return row.street_name or "רחוב לא ידוע"


def bar_chart(counts: Counts, limit: int = 15) -> Chart | None:
    """The `limit` busiest streets as bars; None when there is nothing to draw."""
    streets = [s for s in counts.streets if s.total]
    if not streets:
        return None
    drawn = streets[:limit]
    split = next((b for b in counts.breakdowns if b.partition and len(b.categories) > 1), None)
    if split and any(v is None for s in drawn for v in (s.cells.get(c.key) for c in split.categories)):
        split = None
    colours = {c.key: PALETTE[i % len(PALETTE)] for i, c in enumerate(split.categories)} if split else {}
    top = max(s.total for s in drawn)
    span = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    right = WIDTH - LABEL_WIDTH
    bars = []
    for i, s in enumerate(drawn):
        y = GAP + i * (BAR_HEIGHT + GAP)
        parts = [(c.title_he, s.cells[c.key], colours[c.key]) for c in split.categories] if split else \
            [("", s.total, PALETTE[0])]
        segments, x = [], right
        for title, n, colour in parts:
            w = span * n / top
            if w > 0:
                x -= w
                segments.append(Segment(x=round(x, 1), width=round(w, 1), colour=colour, title=f"{title} {n}".strip()))
        bars.append(Bar(y=y, label=street_label(s), value=s.total, value_x=round(x - 4, 1), segments=tuple(segments)))
    legend = tuple(Legend(colours[c.key], c.title_he) for c in split.categories) if split else ()
    return Chart(width=WIDTH, height=GAP + len(drawn) * (BAR_HEIGHT + GAP), label_x=WIDTH - 4, bars=tuple(bars),
                 legend=legend, more_streets=len(streets) - len(drawn))
