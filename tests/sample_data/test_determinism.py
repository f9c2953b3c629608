"""Same arguments, same bytes; another seed, other data."""

from __future__ import annotations

from pipelines.sample_data import Dirt, generate
from tests.sample_data.conftest import MUNI


def _outputs(summary) -> dict[str, bytes]:
    paths = {**summary.files, "persons": summary.truth_persons, "records": summary.truth_records}
    return {name: path.read_bytes() for name, path in paths.items()}


def test_same_seed_same_bytes(tmp_path):
    a = generate(MUNI, 1500, tmp_path / "a", seed=11, dirt=Dirt().scaled(3))
    b = generate(MUNI, 1500, tmp_path / "b", seed=11, dirt=Dirt().scaled(3))
    assert a.as_of == b.as_of
    assert [p.name for p in a.files.values()] == [p.name for p in b.files.values()]
    first, second = _outputs(a), _outputs(b)
    for name in first:
        assert first[name] == second[name], name


def test_another_seed_other_data(tmp_path):
    a = _outputs(generate(MUNI, 800, tmp_path / "a", seed=1))
    b = _outputs(generate(MUNI, 800, tmp_path / "b", seed=2))
    assert all(a[name] != b[name] for name in a)


def test_summary_counts_without_personal_values(default_data):
    s = default_data.summary
    assert s.residents == len(default_data.persons) == 2000
    assert sum(s.statuses.values()) == s.residents
    for source, info in s.sources.items():
        assert info.records == len(default_data.records_of(source))
        assert info.persons == len({r["person_id"] for r in default_data.records_of(source)})
    text = repr(s)
    assert not any(p["national_id"] in text or p["last_name"] in text for p in default_data.persons[:200])
