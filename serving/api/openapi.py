"""The OpenAPI 3.1 document of the open API, kept in docs/openapi.json (tests/api/test_openapi.py keeps it fresh).

    python -m serving.api.openapi > docs/openapi.json
"""

from __future__ import annotations

import json

from serving.api.app import create_app


def document() -> dict:
    """The document the API serves at /openapi.json (it does not depend on the municipality or the issuer)."""
    return create_app(0, validator=None).openapi()


def document_text() -> str:
    return json.dumps(document(), ensure_ascii=False, indent=2) + "\n"


if __name__ == "__main__":
    print(document_text(), end="")
