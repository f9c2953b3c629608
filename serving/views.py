"""What the page's templates draw from a query result: counts tables, the chart, phone cards, the call sheet.

The templates (`serving/templates/`, Jinja2 with autoescape) only lay these out; choosing what to show is here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from serving.catalogue import load_catalogue
from serving.chart import bar_chart, street_label
from serving.counts import Counts
from serving.queries import QueryResult

TEMPLATES = Path(__file__).parent / "templates"
BUILDINGS_SHOWN = 20          # the busiest buildings above a list; the call sheet has them all
_NOT_DIAL = re.compile(r"[^\d+]")


def tel_href(shown: str) -> str:
    """`tel:` link of a phone number as shown (050-123-4567 -> tel:0501234567); '' when there is none."""
    digits = _NOT_DIAL.sub("", shown or "")
    return f"tel:{digits}" if len(digits.lstrip("+")) >= 7 else ""


def count_text(value: int | None, below: int | None) -> str:
    """A count as shown: a suppressed one as "<5", numbers with thousands separators."""
    return f"<{below}" if value is None else f"{value:,}"


def table_body(result: QueryResult) -> Markup:
    """The result's <tbody> rows, every cell escaped, phone numbers left to right as tel: links. Built in Python,
    not in a template loop: a city-wide list of 20,000 rows x 18 columns renders in a fraction of the time."""
    phone = [c.format == "phone" for c in result.columns]

    def cell(v: Any, is_phone: bool) -> str:
        if not is_phone:
            return f"<td>{escape('' if v is None else v)}</td>"
        href = tel_href(v or "")
        return f'<td class="ltr"><a href="{href}">{escape(v)}</a></td>' if href else '<td class="ltr"></td>'

    return Markup("".join("<tr>" + "".join(cell(v, p) for v, p in zip(row, phone)) + "</tr>"
                          for row in result.rows))


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["tel_href"] = tel_href
    env.filters["table_body"] = table_body
    env.globals["count_text"] = count_text
    env.globals["street_label"] = street_label
    return env


@dataclass(frozen=True)
class Card:
    title: str
    address: str
    fields: list[tuple[str, str, bool]]     # (title, value, is a phone number)


def cards(result: QueryResult) -> list[Card]:
    """One card per resident: the name, the address on one line, the team's other columns that have a value."""
    spec = load_catalogue().call_sheet
    names = [c.name for c in result.columns]
    pos = {n: i for i, n in enumerate(names)}
    title_at = [pos[n] for n in spec.card_title if n in pos]
    address_at = [(pos[n], result.columns[pos[n]]) for n in spec.card_address if n in pos]
    team = [c.name for c in result.query.call_sheet] or names
    rest = [(pos[n], result.columns[pos[n]]) for n in team
            if n in pos and n not in spec.card_title and n not in spec.card_address]
    out = []
    for row in result.rows:
        street_house = " ".join(str(row[i]) for i, c in address_at[:2] if row[i] not in ("", None))
        more = [f"{c.title_he} {row[i]}" for i, c in address_at[2:] if row[i] not in ("", None)]
        out.append(Card(
            title=" ".join(str(row[i]) for i in title_at if row[i]) or "ללא שם",
            address=", ".join([street_house] + more) if street_house else ", ".join(more),
            fields=[(c.title_he, str(row[i]), c.format == "phone") for i, c in rest if row[i] not in ("", None)],
        ))
    return out


def counts_context(counts: Counts | None) -> dict[str, Any]:
    """The counts block: reasons for the whole list, the chart, streets and the busiest buildings."""
    if counts is None:
        return {"counts": None}
    return {
        "counts": counts,
        "chart": bar_chart(counts),
        "buildings": counts.buildings[:BUILDINGS_SHOWN],
        "more_buildings": max(0, len(counts.buildings) - BUILDINGS_SHOWN),
    }


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)
