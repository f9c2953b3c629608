"""The open API: the resident file for municipal and government systems (issue 13, docs/api.md).

- `app`       the FastAPI application: operations, who may call them, the audit record of every call
- `problems`  RFC 9457 problem+json errors that name the field and never repeat a value
- `limits`    requests per minute per consumer (429 + Retry-After)
- `models`    request and response shapes, derived from the resident model, for the OpenAPI 3.1 document
- `openapi`   the committed copy of the document (docs/openapi.json) and how it is written

Consumers are data (`schemas/consumers.yaml`, serving/consumers.py); tokens are checked by serving/tokens.py;
reads go through serving/residents.py, serving/feed.py and serving/queries.py.
"""
