"""The payload the quality checks judge is the payload the sync sends: same rows, same values, every object."""

from connectors.muniforce.mapping import load_mapping
from connectors.muniforce.plan import _desired
from connectors.reference import locality_name
from quality.payload import payload_sql
from tests.quality.conftest import MUNI, add_profiles, add_residents


def test_checked_payload_equals_the_sync_payload(con):
    add_residents(con, 120)
    add_profiles(con, "floor > 3")
    con.execute("UPDATE resident_file SET status = 'moved_out' WHERE resident_key < 'R00000010'")   # profiles leave
    con.execute("UPDATE resident_file SET email = NULL, last_name = 'כהן-לוי' WHERE resident_key > 'R00000100'")
    mapping = load_mapping()
    for obj in mapping.objects:
        columns = _desired(con, obj, mapping, MUNI, locality_name(MUNI), only_active=False, name="sync_payload")
        keep = ", ".join(["key", "ext"] + [f'"{c}"' for c in columns])
        ours = con.execute(f"SELECT {keep} FROM ({payload_sql(obj.name, MUNI)}) ORDER BY key").fetchall()
        theirs = con.execute(f"SELECT {keep} FROM sync_payload ORDER BY key").fetchall()
        assert ours == theirs, obj.name
        assert len(ours) > 0
    # the profile of a resident who moved out is not in the Emergency_Profile__c payload
    keys = {r[0] for r in con.execute(f"SELECT key FROM ({payload_sql('Emergency_Profile__c', MUNI)})").fetchall()}
    assert keys and not any(k < "R00000010" for k in keys)
