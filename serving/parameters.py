"""Typed query parameters from what a person typed: `--param k=v` on the command line or a web form.

Values are only ever bound to the SQL, never formatted into it. Error messages name the parameter, not the
value (an address typed into the household view is personal data).
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Mapping, Sequence

from serving.catalogue import Parameter, Query

MAX_TEXT = 200          # characters of one value
MAX_ITEMS = 200         # values of one list parameter
TRUE_WORDS = {"true", "yes", "y", "1", "on", "כן"}
FALSE_WORDS = {"false", "no", "n", "0", "off", "לא"}
_LIST_SEPARATORS = re.compile(r"[,;\n]")
_INT_LIST_SEPARATORS = re.compile(r"[,;\s]+")


class ParameterError(ValueError):
    """A parameter is missing, unknown or not of its type."""


def raw_from_pairs(pairs: Iterable[str]) -> dict[str, list[str]]:
    """`["streets=הרצל", "streets=סוקולוב", "above_floor=3"]` -> {name: [values]} (a name may repeat)."""
    raw: dict[str, list[str]] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise ParameterError("a parameter is written name=value")
        raw.setdefault(name.strip(), []).append(value)
    return raw


def parse_parameters(query: Query, raw: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """Typed values for every parameter of the query (defaults filled in, None = not given)."""
    declared = {p.name for p in query.parameters}
    unknown = [name for name, values in raw.items() if name not in declared and any(v.strip() for v in values)]
    if unknown:
        raise ParameterError(f"query {query.name} has no parameter {', '.join(sorted(unknown))}; "
                             f"it takes: {', '.join(p.name for p in query.parameters) or 'none'}")
    values = {}
    for p in query.parameters:
        given = [v for v in raw.get(p.name, []) if v is not None and v.strip()]
        value = _parse(p, given) if given else None
        if value is None:
            value = list(p.default) if isinstance(p.default, list) else p.default
        if value is None and p.required:
            raise ParameterError(f"parameter {p.name} is required")
        values[p.name] = value
    for group in query.require_one_of:
        if all(values[name] is None for name in group):
            raise ParameterError(f"give one of: {', '.join(group)}")
    return values


def _parse(p: Parameter, given: list[str]) -> Any:
    if any(len(v) > MAX_TEXT for v in given):
        raise ParameterError(f"parameter {p.name} is longer than {MAX_TEXT} characters")
    if p.type in ("street_names", "int_list", "choice_list"):
        sep = _INT_LIST_SEPARATORS if p.type == "int_list" else _LIST_SEPARATORS
        items = [item.strip() for v in given for item in sep.split(v) if item.strip()]
        if len(items) > MAX_ITEMS:
            raise ParameterError(f"parameter {p.name} has more than {MAX_ITEMS} values")
        if not items:
            return None
        if p.type == "int_list":
            return [_int(p, item) for item in items]
        if p.type == "choice_list":
            return list(dict.fromkeys(_choice(p, item) for item in items))
        return list(dict.fromkeys(items))
    if len(given) > 1:
        raise ParameterError(f"parameter {p.name} takes one value")
    value = given[0].strip()
    if p.type == "int":
        return _int(p, value)
    if p.type == "bool":
        word = value.lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise ParameterError(f"parameter {p.name} is yes or no (כן / לא)")
    if p.type == "choice":
        return _choice(p, value)
    return value        # text, street_name


def _int(p: Parameter, value: str) -> int:
    if not re.fullmatch(r"-?\d{1,9}", value):
        raise ParameterError(f"parameter {p.name} must be a whole number")
    return int(value)


def _choice(p: Parameter, value: str) -> str:
    if value not in p.choices:
        raise ParameterError(f"parameter {p.name} is one of: {', '.join(p.choices)}")
    return value
