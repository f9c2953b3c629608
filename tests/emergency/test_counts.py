"""Counts before names: per street and per building, by reason, equal to the list; the planner view hides small
cells; the call sheet groups the list for a field team."""

import io

import pytest
from openpyxl import load_workbook

from serving import callsheet
from serving.audit import AuditLog
from serving.catalogue import CatalogueError, Category, _check_category, load_catalogue
from serving.chart import bar_chart
from serving.counts import CountRow, Counts, planner_view
from serving.exports import xlsx_bytes
from serving.roles import AccessDenied, load_roles
from tests.emergency.conftest import JABOTINSKY, SOKOLOV, STREET_NAMES
from tests.emergency.helpers import MUNI, column, keys, run

JAB, SOK = STREET_NAMES[JABOTINSKY], STREET_NAMES[SOKOLOV]


def test_counts_per_street_and_building_equal_the_list_and_say_why(home):
    result = run(home, "evacuation_assistance")
    assert sorted(keys(result)) == ["E01", "E02", "E05", "E08", "E11", "INJ"]
    counts = result.counts
    assert counts.whole.total == len(result.rows) == 6
    per_street = {}
    for street in column(result, "street_name"):
        per_street[street] = per_street.get(street, 0) + 1
    assert [(s.street_name, s.total) for s in counts.streets] == [(JAB, 4), (SOK, 2)]     # busiest first
    assert {s.street_name: s.total for s in counts.streets} == per_street
    assert sorted((b.street_name, b.house_number, b.total) for b in counts.buildings) == sorted(
        (s, h, 1) for s, h in zip(column(result, "street_name"), column(result, "house_number")))
    # why they are there: E05's floor is unknown, E02's elevator is unknown, the rest are known
    assert counts.whole.cells["both_known"] == 4
    assert counts.whole.cells["floor_unknown"] == 1 and counts.whole.cells["elevator_unknown"] == 1
    jab = counts.streets[0].cells
    assert (jab["both_known"], jab["floor_unknown"], jab["elevator_unknown"]) == (2, 1, 1)
    # a reason no one on the list has is not shown
    assert "both_unknown" not in [c.key for c in counts.categories]
    assert (counts.whole.cells["mobility_wheelchair"], counts.whole.cells["mobility_bedridden"],
            counts.whole.cells["mobility_assisted"]) == (3, 1, 1)
    assert counts.whole.cells["need_escort_evacuation"] == 1


def test_counts_follow_the_parameters(home):
    result = run(home, "evacuation_assistance", streets="ז'בוטינסקי", house_to=100)
    assert result.counts.whole.total == len(result.rows) == 3
    assert [(s.street_name, s.total) for s in result.counts.streets] == [(JAB, 3)]


def test_planner_view_is_counts_only_with_small_cells_suppressed(fresh_home):
    planner = load_roles()["planner"]
    evacuation = load_catalogue().queries["evacuation_assistance"]
    assert planner.view_of(evacuation) == "counts"
    with pytest.raises(AccessDenied):
        run(fresh_home, "evacuation_assistance", role="planner")
    result = run(fresh_home, "evacuation_assistance", role="planner", view="counts")
    assert result.rows == [] and result.columns == []
    counts = result.counts
    assert counts.suppressed and counts.buildings == []
    assert counts.whole.total == 6
    # both streets have fewer than 5: folded into one line that names no street
    assert counts.streets == [] and counts.other_streets.streets == 2 and counts.other_streets.total == 6
    assert counts.other_streets.street_name == ""
    for row in [counts.whole, counts.other_streets]:
        assert all(v is None or v >= 5 for v in row.cells.values())
    entry = AuditLog.of(MUNI, fresh_home).entries()[0]
    assert (entry.role, entry.outcome, entry.row_count, entry.exports) == ("planner", "ok", None, "counts")


def test_which_roles_get_the_planner_view_follows_from_clearance():
    queries = load_catalogue().queries
    roles = load_roles()
    view = {r: {q: roles[r].view_of(queries[q]) for q in queries} for r in ("emergency_manager", "welfare",
                                                                             "data_engineer", "planner")}
    assert set(view["emergency_manager"].values()) == {"list"}
    # welfare is not given the evacuation and power lists at all: not even their counts
    assert view["welfare"] == {"evacuation_assistance": None, "power_dependent": None,
                               "alone_without_support": "list", "yachad_not_located": "list", "household": "list"}
    # given all, cleared only for personal data: the health lists as counts, the household by name
    assert view["data_engineer"] == {"evacuation_assistance": "counts", "power_dependent": "counts",
                                     "alone_without_support": "counts", "yachad_not_located": "counts",
                                     "household": "list"}
    # the household view has no counts: a planner gets nothing of it
    assert view["planner"]["household"] is None


def test_a_small_cell_of_a_partition_takes_the_next_smallest_with_it():
    evacuation = load_catalogue().queries["evacuation_assistance"]
    certainty = evacuation.counts[0]
    street = CountRow(1, "א", None, 12, {"both_known": 10, "floor_unknown": 2, "elevator_unknown": 0,
                                         "both_unknown": 0, "mobility_wheelchair": 12})
    whole = CountRow(None, "", None, 12, dict(street.cells))
    counts = Counts(breakdowns=(certainty, evacuation.counts[1]), whole=whole, streets=[street], buildings=[])
    shown = planner_view(counts, 5).streets[0]
    # 2, 0 and 0 are hidden; 10 would give away that they hold 2 together (12 - 10), so it is hidden too
    assert shown.cells["floor_unknown"] is None and shown.cells["both_known"] is None
    assert shown.cells["mobility_wheelchair"] == 12 and shown.total == 12


def test_a_breakdown_category_must_read_columns_of_the_base():
    cat = load_catalogue()
    cols = cat.base_sensitivity["residents"]
    with pytest.raises(CatalogueError, match="category bad"):
        _check_category("query q", Category("bad", "x", "no_such_column > 1"), "residents", set(cat.bases), cols)
    with pytest.raises(CatalogueError, match="category sneaky"):
        _check_category("query q", Category("sneaky", "x", "floor > (SELECT 1 FROM resident_file)"), "residents",
                        set(cat.bases), cols)


def test_bar_chart_draws_the_busiest_streets_split_by_what_is_known(home):
    chart = bar_chart(run(home, "evacuation_assistance").counts)
    assert [(b.label, b.value) for b in chart.bars] == [(JAB, 4), (SOK, 2)]
    widths = [sum(s.width for s in b.segments) for b in chart.bars]
    assert widths[0] == pytest.approx(2 * widths[1], rel=0.01)
    assert [item.title for item in chart.legend] == ["קומה ומעלית ידועות", "רק הקומה לא ידועה", "רק המעלית לא ידועה"]


def test_call_sheet_groups_by_street_and_building_with_the_team_columns_only(home):
    result = run(home, "evacuation_assistance", view="call_sheet")
    names = [c.name for c in result.columns]
    assert "resident_key" not in names and "age" not in names and "yachad_status" not in names
    assert len(result.rows) == 6 and len(result.hidden_columns) == 0
    sheet = callsheet.layout(result, "חולון")
    assert [ln.text for ln in sheet.lines if ln.kind == "street"] == [f"{JAB} · 4 תושבים", f"{SOK} · 2 תושבים"]
    assert sum(ln.kind == "resident" for ln in sheet.lines) == 6
    assert sheet.headings[0] == "מספר בית" and sheet.headings[-3:] == ["הושג", "לא הושג", "הערות"]
    assert ("מעל קומה", "2") in sheet.parameters and ("רק בבניין ללא מעלית", "כן") in sheet.parameters
    assert sheet.title == "דף קריאה: זקוקים לסיוע בפינוי" and "חולון" in sheet.subtitle

    ws = load_workbook(io.BytesIO(callsheet.xlsx_bytes(sheet))).active
    assert ws.sheet_view.rightToLeft
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.fitToWidth == 1
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert "&P" in ws.oddFooter.right.text and "&N" in ws.oddFooter.right.text
    heading_row = int(ws.print_title_rows.split(":")[0].strip("$"))
    assert [c.value for c in ws[heading_row]][:2] == ["מספר בית", "כניסה"]
    houses = [ws.cell(row=r, column=1).value for r in range(heading_row + 1, ws.max_row + 1)]
    assert 12 in houses and "12א" in houses and "12" not in houses
    # the name that looks like a formula stays text
    texts = [c.value for row in ws.iter_rows(min_row=heading_row + 1) for c in row if isinstance(c.value, str)]
    assert any(t.startswith("'=HYPERLINK") for t in texts)


def test_xlsx_export_writes_house_numbers_as_numbers_and_prints_landscape():
    data = xlsx_bytes(["מספר בית", "שם"], [["12", "12"], ["12א", "x"], ["", "y"]], "רשימה", number_text=[True, False])
    ws = load_workbook(io.BytesIO(data)).active
    assert [ws.cell(row=r, column=1).value for r in (2, 3)] == [12, "12א"]
    assert ws.cell(row=2, column=2).value == "12"       # a name column stays text even when it is digits
    assert ws.page_setup.orientation == "landscape" and ws.print_title_rows == "$1:$1"


def test_counts_hand_out_no_rows_so_they_do_not_use_up_the_hourly_limit(fresh_home):
    # the planner role may be handed no identified rows at all (rows_per_hour: 0), yet may count,
    # even after the same person was handed rows in another role
    run(fresh_home, "evacuation_assistance", user="noa")
    result = run(fresh_home, "evacuation_assistance", role="planner", user="noa", view="counts")
    assert result.counts.whole.total == 6 and result.rows == []
