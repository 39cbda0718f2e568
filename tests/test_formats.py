"""Formats × layouts: every fixture (written by openpyxl and converted by LibreOffice itself; see
tests/fixtures/formats/README.md) reads into exactly the same raw rows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reading.errors import UnreadableReport
from reading.reader import read_report

FIXTURES = Path(__file__).parent / "fixtures" / "formats"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))
# The grouped layout's extra tong_hop row was not in the contract when the fixtures were made; it now is
# (village_branches_with_committee_pct, the published 73.2 %), so it is read like any other row.
PCT_ROW = {
    "header_as_written": "Tỷ lệ chi bộ thôn, tổ dân phố có chi ủy (%)",
    "field": "village_branches_with_committee_pct",
    "value": "73.2",
}
GROUPED_EXPECTED = EXPECTED | {"tong_hop": [*EXPECTED["tong_hop"], PCT_ROW]}


def expected_for(path: Path) -> dict:
    return GROUPED_EXPECTED if path.name.startswith("grouped") else EXPECTED
READABLE = sorted(
    p for p in FIXTURES.iterdir() if p.suffix in {".xlsx", ".xls", ".ods", ".zip"} and p.name != "formula-nocache.xlsx"
)


def test_the_matrix_covers_every_format_and_layout():
    names = {p.name for p in READABLE}
    for layout in ("plain", "titled", "grouped"):
        assert {f"{layout}.openpyxl.xlsx", f"{layout}.lo.xlsx", f"{layout}.lo.xls", f"{layout}.lo.ods"} <= names
    assert {"plain.utf8.zip", "plain.utf8bom.zip", "plain.utf16.zip", "plain.cp1258.zip"} <= names


@pytest.mark.parametrize("path", READABLE, ids=lambda p: p.name)
def test_every_format_and_layout_reads_into_identical_raw_rows(path: Path):
    report = read_report(path)
    assert {name: [row.values for row in sheet.rows] for name, sheet in report.sheets.items()} == expected_for(path)


def test_titled_layout_finds_the_header_below_the_titles_and_drops_the_totals_row():
    sheet = read_report(FIXTURES / "titled.lo.xlsx").sheets["to_chuc_co_so"]
    assert sheet.header_row == 4
    assert any("tổng cộng" in note for note in sheet.notes)


def test_grouped_layout_reads_the_two_row_header():
    sheet = read_report(FIXTURES / "grouped.lo.xls").sheets["to_chuc_co_so"]
    assert sheet.columns["members_total"] == "Đảng viên - Tổng số"
    assert sheet.columns["members_probationary"] == "Đảng viên - Dự bị"
    assert any("hai dòng" in note for note in sheet.notes)


def test_windows_1258_and_utf16_are_named_in_the_reading_notes():
    assert any("Windows-1258" in note for note in read_report(FIXTURES / "plain.cp1258.zip").notes)
    assert any("UTF-16" in note for note in read_report(FIXTURES / "plain.utf16.zip").notes)


def test_a_formula_without_cached_value_is_an_error_naming_the_cell():
    with pytest.raises(UnreadableReport) as refused:
        read_report(FIXTURES / "formula-nocache.xlsx")
    assert "ô F2 trang «to_chuc_co_so»" in refused.value.message_vi


def test_an_xlsm_workbook_reads_like_its_xlsx(tmp_path: Path):
    macro_enabled = tmp_path / "bao_cao.xlsm"
    macro_enabled.write_bytes((FIXTURES / "grouped.lo.xlsx").read_bytes())
    report = read_report(macro_enabled)
    assert {name: [row.values for row in sheet.rows] for name, sheet in report.sheets.items()} == GROUPED_EXPECTED
