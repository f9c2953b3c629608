"""The slips people make typing Hebrew by hand: a letter left out, two letters swapped, the other spelling of
full/defective script (ktiv male/haser), stray spaces. Each function takes a `pick` in [0, 1) that decides where,
so callers draw it from their seeded stream; a value too short to slip comes back unchanged.
"""

from __future__ import annotations


def _inner_positions(name: str, min_word: int = 3) -> list[int]:
    """Positions inside a word of at least `min_word` letters (not its first or last letter): where a slip of
    the hand happens."""
    out = []
    start = 0
    for word in name.split(" "):
        if len(word) >= min_word:
            out.extend(range(start + 1, start + len(word) - 1))
        start += len(word) + 1
    return [i for i in out if "\u05d0" <= name[i] <= "\u05ea"]


def with_letter_dropped(name: str, pick: float) -> str:
    """One inner letter left out (`pick` in [0, 1) chooses which); a name too short to lose one is kept."""
    positions = _inner_positions(name)
    if not positions:
        return name
    i = positions[int(pick * len(positions))]
    return name[:i] + name[i + 1:]


def ktiv_variant(name: str, pick: float) -> str:
    """The other spelling of full/defective script (ktiv male/haser): an inner ו or י removed, or one inserted.

    `דוד` <-> `דויד`, `יוסף` -> `יסף`, `משה` -> `מושה`. The result differs from the input.
    """
    positions = _inner_positions(name)
    vowels = [i for i in _inner_positions(name, min_word=4) if name[i] in "וי"]
    if vowels and (pick < 0.5 or not positions):
        i = vowels[int(pick * 2 * len(vowels)) % len(vowels)]
        return name[:i] + name[i + 1:]
    after = [i for i in positions if name[i] not in "וי"] or positions or [0]
    i = after[int(pick * len(after)) % len(after)]
    letter = {"ו": "י", "י": "ו"}.get(name[i], "ו" if pick * 7 % 1 < 0.5 else "י")
    return name[:i + 1] + letter + name[i + 1:]


def with_letters_swapped(text: str, pick: float) -> str:
    """Two adjacent inner letters swapped (`סוקולוב` -> `סוקלווב`)."""
    inner = _inner_positions(text, min_word=4)
    positions = [i for i in inner if i + 1 in inner and text[i] != text[i + 1]]
    if not positions:
        return text
    i = positions[int(pick * len(positions))]
    return text[:i] + text[i + 1] + text[i] + text[i + 2:]


def with_stray_spaces(text: str, pick: float) -> str:
    """A space before, after or on both sides, as left by copy-paste into a spreadsheet."""
    return (" " + text) if pick < 0.4 else (text + " ") if pick < 0.8 else (" " + text + "  ")
