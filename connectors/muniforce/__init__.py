"""MuniForce: the Salesforce side of Toshav.

- `mapping`   the mapping `schemas/muniforce.yaml` as objects (the one source of truth)
- `client`    `connect()`: the simple-salesforce client (also for the local stand-in over http)
- `sync`      `sync_municipality()`: plan in DuckDB, send only what changed, record every answer
- `sfdx`      SFDX source-format metadata for every object and field the sync writes
- `standin`   a local, persistent stand-in for MuniForce's REST and Bulk 2.0 APIs (tests, demo)

See docs/muniforce.md.
"""
