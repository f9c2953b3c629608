"""Everything that reads the resident file for people and systems: the emergency page and its named queries,
the open API, login and tokens, and the audit. `pipelines/` builds the resident file; `serving/` reads it.

Emergency managers' named queries: "who needs help, where", answered in seconds, only to those allowed to ask.

The queries are data (`schemas/emergency_queries.yaml`), the roles too (`schemas/roles.yaml`); which columns and
queries a role may see is derived from the sensitivity classes of `schemas/resident_model.yaml`.

- `catalogue`  loads and checks the queries; `lineage` reads which model fields a SQL expression uses
- `roles`      who may run what and see which columns
- `parameters` typed parameters from what a person typed (CLI `k=v`, web form)
- `queries`    runs a query for a caller: access check, bound parameters, audit record, display values
- `cells`      how values are shown to field teams (Hebrew labels, local phone numbers, כן/לא)
- `counts`     counts before names: per street and building, by reason; the planner view (small cells suppressed)
- `chart`      the busiest streets as a bar chart's geometry (drawn as inline SVG by `templates/_chart.html`)
- `callsheet`  the field team's call sheet: grouped by street and building, XLSX and the printable page
- `views`      what the page's templates draw from a result (counts, chart, phone cards, table rows)
- `exports`    CSV (UTF-8 with BOM) and XLSX, formula injection neutralised
- `audit`      the per-municipality audit log of every request, hash-chained, kept at least 24 months
- `web`        the small read-only Hebrew page (`toshav serve`): routes and Jinja2 templates (`templates/`)
- `app`        the one ASGI app (FastAPI) for page and API: settings, middleware stack, identity, routes
- `guards`     ASGI middleware: security headers, body limit, request deadline, Host / Origin checks
- `server`     uvicorn with bounded connections and a deadline for slow request heads
- `identity`   who is asking: local token, OpenID Connect login, trusted proxy; sessions and CSRF
- `limits`     requests per minute per person (rows per hour per role are counted from the audit)
- `tokens`     bearer tokens of systems (OAuth2 client credentials) validated against the issuer's JWKS
- `consumers`  the systems that read through the open API (`schemas/consumers.yaml`), granted like roles
- `residents`  residents for systems: by key, ID, name and birth date, at an address, with cleared fields only
- `feed`       the change feed, derived in SQL from the history, merges and consent withdrawals
- `api/`       the open API (`toshav api`, docs/api.md): FastAPI app, problem+json, rate limits, OpenAPI 3.1
"""
