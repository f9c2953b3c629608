"""The data contracts of Toshav, as data.

`schemas/*.yaml` hold the source mappings, the unified resident model, the needs code list and the
MuniForce mapping. This package only loads them; everything else (DDL, quality suites, Salesforce metadata,
docs) is derived from what it returns.
"""

from schemas.model import Field, Table, load_model, table, ddl, personal_fields  # noqa: F401
from schemas.sources import ColumnMapping, SourceMapping, load_source, SOURCES  # noqa: F401
