from pathlib import Path

from schemas.docs import reference_markdown

ROOT = Path(__file__).resolve().parent.parent


def test_reference_doc_is_generated_from_the_current_schemas():
    assert (ROOT / "docs" / "reference.md").read_text(encoding="utf-8") == reference_markdown(), \
        "docs/reference.md is stale: run `python -m schemas.docs > docs/reference.md`"
