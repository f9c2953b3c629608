"""How a value is shown to a field team: Hebrew labels for codes, phone numbers as dialled in Israel, כן / לא.

The shown value is computed in the query itself (a city-wide list has tens of thousands of rows, too many to
format cell by cell in Python within the one-second budget), so the terminal, the web page, CSV and XLSX all
receive the same ready values. Labels are bound as parameters like everything else. Text columns come back as ''
when empty; numbers stay numbers, or None when unknown (a floor of -1 is a basement, not a formula).
"""

from __future__ import annotations

from typing import Any

from serving.catalogue import Column

YES, NO = "כן", "לא"
TIMESTAMP_FORMAT = "%d/%m/%Y %H:%M"


def display_sql(column: Column, ref: str) -> tuple[str, set[str]]:
    """The SQL expression that shows column `column` (read as `ref`), and the label maps it binds."""
    kind, _, label_map = column.format.partition(":")
    if kind == "number":
        return ref, set()
    if kind == "yes_no":
        expr = f"CASE WHEN {ref} THEN $fmt_yes WHEN NOT {ref} THEN $fmt_no END"
        return f"coalesce({expr}, '')", {"yes_no"}
    if kind == "phone":
        return f"coalesce(phone_for_dialling({ref}), '')", set()
    if kind == "timestamp":
        return f"coalesce(strftime({ref}, '{TIMESTAMP_FORMAT}'), '')", set()
    if kind == "labels":
        k, v = f"$fmt_{label_map}_codes", f"$fmt_{label_map}_labels"
        return f"coalesce({v}[list_position({k}, {ref})], CAST({ref} AS VARCHAR), '')", {label_map}
    if kind == "list_labels":
        k, v = f"$fmt_{label_map}_codes", f"$fmt_{label_map}_labels"
        expr = f"array_to_string(list_transform({ref}, lambda c: coalesce({v}[list_position({k}, c)], c)), ', ')"
        return f"coalesce({expr}, '')", {label_map}
    return f"coalesce(CAST({ref} AS VARCHAR), '')", set()


def display_parameters(label_maps: set[str], labels: dict[str, dict[str, str]]) -> dict[str, Any]:
    """Bound values for the label maps used by `display_sql`."""
    bound: dict[str, Any] = {}
    for name in label_maps:
        if name == "yes_no":
            bound.update(fmt_yes=YES, fmt_no=NO)
        else:
            bound[f"fmt_{name}_codes"] = list(labels[name])
            bound[f"fmt_{name}_labels"] = list(labels[name].values())
    return bound
