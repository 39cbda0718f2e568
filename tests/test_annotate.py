"""The submitter's workbook back with the wrong cells marked (reading/annotate.py), on the night's real findings."""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.utils import get_column_letter

from chibo.config import load_settings
from chibo.deployment import prepare
from contract.model import load_contract
from contract.workbook import write_csv_zip, write_xlsx
from demo.samples import muong_khuong_2023
from expectations.runner import Finding
from pipeline.check import check_file
from reading.annotate import (
    CELL_COLOURS,
    ROW_COLOURS,
    SEVERITY_LABELS,
    SUMMARY_HEADERS,
    SUMMARY_SHEET_TITLE,
    CellNote,
    mark_workbook,
)
from reading.reader import read_report
from tests.deployments import deployment_variables
from tests.report_edits import too_many_excellent

TITLE_ROWS = 2  # a title and a blank row above each table's header
FIRST_COLUMN = 2  # every sheet starts in column B
GRASSROOTS_BRANCH = 25  # a chi_bo_co_so row (no branches below it) of Mường Khương 2023


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def planted_report() -> dict[str, Any]:
    """Mường Khương 2023 with three mistakes: an HTXSNV share over the cap (warning), a branch whose official +
    probationary members exceed its total by two, and a summary total that the detail does not add up to."""
    report = too_many_excellent(muong_khuong_2023())
    branch = report["to_chuc_co_so"][GRASSROOTS_BRANCH]
    assert branch["org_kind"] == "chi_bo_co_so"
    branch["members_probationary"] += 2
    report["tong_hop"]["admitted"] += 1
    return report


def table_columns(sheet_name: str) -> list[str]:
    """A table sheet's fields as the rearranged workbook lays them out: the contract's order reversed."""
    return [field_.name for field_ in reversed(load_contract().sheet(sheet_name).fields)]


def write_rearranged(path: Path, report: dict[str, Any]) -> Path:
    """The report laid out unlike the template: tabs named by their Vietnamese titles, everything from column B,
    two title rows above each table's header and its columns in reverse order, key/value labels in column B."""
    workbook = Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]
    for sheet in load_contract().sheets:
        worksheet = workbook.create_sheet(sheet.title)
        content = report[sheet.name]
        if sheet.layout == "key_value":
            worksheet.cell(row=1, column=FIRST_COLUMN, value=f"{sheet.title.upper()} NĂM 2023")
            for row, field_ in enumerate(sheet.fields, start=3):
                worksheet.cell(row=row, column=FIRST_COLUMN, value=field_.header)
                worksheet.cell(row=row, column=FIRST_COLUMN + 1, value=content.get(field_.name))
            continue
        worksheet.cell(row=1, column=FIRST_COLUMN, value=f"BIỂU {sheet.title.upper()}")
        names = table_columns(sheet.name)
        header_row = TITLE_ROWS + 1
        for offset, name in enumerate(names):
            worksheet.cell(row=header_row, column=FIRST_COLUMN + offset, value=sheet.field(name).header)
        for row, values in enumerate(content, start=header_row + 1):
            for offset, name in enumerate(names):
                worksheet.cell(row=row, column=FIRST_COLUMN + offset, value=values.get(name))
    workbook.save(path)
    return path


def note_of(finding: Finding) -> CellNote:
    return CellNote(
        finding.sheet, finding.sheet_row, finding.field, finding.severity, f"{finding.message} Cách sửa: {finding.fix}"
    )


@dataclass(frozen=True)
class Checked:
    source: Path
    source_hash: str
    findings: tuple[Finding, ...]
    marked: Path


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Checked]:
    """The planted workbook checked by the real ``chibo validate`` path, then marked."""
    base = tmp_path_factory.mktemp("annotate")
    with pytest.MonkeyPatch.context() as patch:
        (base / "deployment").mkdir()
        for name, value in deployment_variables(base / "deployment").items():
            patch.setenv(name, value)
        settings = load_settings()
        prepare(settings)
        source = write_rearranged(base / "bao_cao_muong_khuong.xlsx", planted_report())
        source_hash = sha256(source)
        outcome = check_file(source, settings)
        marked = mark_workbook(source, [note_of(f) for f in outcome.findings], base / "da_danh_dau.xlsx")
        assert marked is not None
        yield Checked(source, source_hash, outcome.findings, marked)


def marked_cells(path: Path) -> dict[tuple[str, str], tuple[str | None, str]]:
    """(tab, cell) → (fill colour, comment) of every commented cell, outside the summary sheet."""
    workbook = load_workbook(path)
    found: dict[tuple[str, str], tuple[str | None, str]] = {}
    for worksheet in workbook.worksheets:
        if worksheet.title == SUMMARY_SHEET_TITLE:
            continue
        for row in worksheet.iter_rows():
            for cell in row:
                if cell.comment is not None:
                    found[(worksheet.title, cell.coordinate)] = (cell.fill.fgColor.rgb, cell.comment.text)
    return found


def expected_table_cell(sheet_name: str, data_index: int, field_name: str) -> str:
    """Where the rearranged workbook put a table's value: data row ``data_index`` (0-based), column of the field."""
    column = FIRST_COLUMN + table_columns(sheet_name).index(field_name)
    return f"{get_column_letter(column)}{TITLE_ROWS + 2 + data_index}"


def expected_value_cell(sheet_name: str, field_name: str) -> str:
    """Where the rearranged workbook put a key/value field's value."""
    names = [field_.name for field_ in load_contract().sheet(sheet_name).fields]
    return f"{get_column_letter(FIRST_COLUMN + 1)}{3 + names.index(field_name)}"


def test_the_three_mistakes_are_the_marked_cells(checked: Checked):
    rule_ids = sorted(f.rule_id for f in checked.findings)
    assert rule_ids == ["to_chuc_co_so.htxsnv_toi_da", "to_chuc_co_so.members_split", "tong_hop.matches_detail"]
    organisations, summary = "Tổ chức cơ sở đảng", "Tổng hợp"
    expected = {
        (organisations, expected_table_cell("to_chuc_co_so", 0, "members_htxsnv")): "warning",
        (organisations, expected_table_cell("to_chuc_co_so", GRASSROOTS_BRANCH, "members_total")): "error",
        (summary, expected_value_cell("tong_hop", "admitted")): "error",
    }
    marked = marked_cells(checked.marked)
    assert marked.keys() == expected.keys()
    by_rule = {f.rule_id: f for f in checked.findings}
    for where, severity in expected.items():
        colour, comment = marked[where]
        assert colour == CELL_COLOURS[severity]
        assert comment.startswith(SEVERITY_LABELS[severity] + ": ")
    assert (
        by_rule["tong_hop.matches_detail"].message in marked[(summary, expected_value_cell("tong_hop", "admitted"))][1]
    )
    # the marked cells hold the values the findings are about, untouched
    workbook = load_workbook(checked.marked)
    for (tab, coordinate), _ in expected.items():
        assert workbook[tab][coordinate].value is not None
    over_cap = by_rule["to_chuc_co_so.htxsnv_toi_da"]
    cell = workbook[organisations][expected_table_cell("to_chuc_co_so", 0, "members_htxsnv")]
    assert str(cell.value) == over_cap.value
    assert str(workbook[summary][expected_value_cell("tong_hop", "admitted")].value) == str(
        muong_khuong_2023()["tong_hop"]["admitted"] + 1
    )


def test_the_summary_sheet_comes_first_and_lists_every_finding(checked: Checked):
    workbook = load_workbook(checked.marked)
    assert workbook.sheetnames[0] == SUMMARY_SHEET_TITLE
    assert workbook.active is not None and workbook.active.title == SUMMARY_SHEET_TITLE
    rows = list(workbook[SUMMARY_SHEET_TITLE].iter_rows(values_only=True))
    assert rows[0] == SUMMARY_HEADERS
    listed = sorted(rows[1:], key=lambda row: str(row[4]))
    wanted = sorted(checked.findings, key=lambda f: note_of(f).text)
    assert len(listed) == len(wanted) == 3
    for row, finding in zip(listed, wanted, strict=True):
        tab, sheet_row, column, severity, text = row
        assert (sheet_row, severity, text) == (
            finding.sheet_row,
            SEVERITY_LABELS[finding.severity],
            note_of(finding).text,
        )
        assert (tab, f"{column}{sheet_row}") in marked_cells(checked.marked)


def test_the_submitted_file_is_never_changed(checked: Checked):
    assert sha256(checked.source) == checked.source_hash
    assert not list(checked.marked.parent.glob(".*.tmp"))


def test_the_marked_copy_reads_back_as_the_same_report(checked: Checked):
    """Sent again after fixing, the marked copy is the same report to the reader (the summary sheet is skipped)."""
    submitted, sent_again = read_report(checked.source), read_report(checked.marked)
    assert sent_again.sheets.keys() == submitted.sheets.keys()
    for name, sheet in submitted.sheets.items():
        assert sent_again.sheets[name].rows == sheet.rows
    assert f"bỏ qua trang «{SUMMARY_SHEET_TITLE}»: không có trong mẫu báo cáo" in sent_again.notes


def test_the_original_content_is_kept(checked: Checked):
    """Every value of every sheet of the submitted workbook is in the marked copy, in the same cell."""
    original, marked = load_workbook(checked.source), load_workbook(checked.marked)
    assert marked.sheetnames == [SUMMARY_SHEET_TITLE, *original.sheetnames]
    for worksheet in original.worksheets:
        copy_ = marked[worksheet.title]
        assert [[c.value for c in row] for row in worksheet.iter_rows()] == [
            [c.value for c in row] for row in copy_.iter_rows(max_row=worksheet.max_row, max_col=worksheet.max_column)
        ]


# ---------------------------------------------------------------- without a night: hand-made notes


def template_report() -> dict[str, Any]:
    report = copy.deepcopy(muong_khuong_2023())
    report["to_chuc_co_so"] = report["to_chuc_co_so"][:3]
    return report


def notes_for_template() -> list[CellNote]:
    return [
        CellNote("to_chuc_co_so", 3, "org_grade", "error", '=HYPERLINK("http://x") Xếp loại không hợp lệ.'),
        CellNote("to_chuc_co_so", 4, "khong_co_truong_nay", "warning", "Dòng này cần xem lại."),
        CellNote("thong_tin", None, "province", "error", "Thiếu «Tỉnh»."),
        CellNote("(tệp)", None, None, "error", "Thiếu trang «chi_bo»."),
    ]


def summary_rows(path: Path) -> list[tuple[Any, ...]]:
    return list(load_workbook(path)[SUMMARY_SHEET_TITLE].iter_rows(min_row=2, values_only=True))


def test_row_only_and_file_notes_and_text_that_looks_like_a_formula(tmp_path: Path):
    source = write_xlsx(tmp_path / "mau.xlsx", template_report())
    marked = mark_workbook(source, notes_for_template(), tmp_path / "out" / "da_danh_dau.xlsx")
    assert marked is not None
    workbook = load_workbook(marked)
    grade_column = [field_.name for field_ in load_contract().sheet("to_chuc_co_so").fields].index("org_grade") + 1
    grade = workbook["to_chuc_co_so"].cell(row=3, column=grade_column)
    assert grade.fill.fgColor.rgb == CELL_COLOURS["error"] and grade.comment is not None
    first = workbook["to_chuc_co_so"]["A4"]  # a field the sheet does not have: the row's first cell
    assert first.fill.fgColor.rgb == CELL_COLOURS["warning"] and first.comment is not None
    assert workbook["to_chuc_co_so"]["C4"].fill.fgColor.rgb == ROW_COLOURS["warning"]  # the rest of the row, lightly
    assert workbook["to_chuc_co_so"]["C5"].comment is None
    rows = summary_rows(marked)
    assert [row[:4] for row in rows] == [
        ("to_chuc_co_so", 3, get_column_letter(grade_column), "Lỗi"),
        ("to_chuc_co_so", 4, None, "Cảnh báo"),
        ("thong_tin", None, None, "Lỗi"),
        ("(tệp)", None, None, "Lỗi"),
    ]
    assert rows[0][4].startswith("=HYPERLINK")  # kept as text, not turned into a formula
    assert workbook[SUMMARY_SHEET_TITLE]["E2"].data_type == "s"


def test_a_marked_copy_sent_again_is_marked_afresh(tmp_path: Path):
    source = write_xlsx(tmp_path / "mau.xlsx", template_report())
    first = mark_workbook(source, notes_for_template(), tmp_path / "lan1.xlsx")
    assert first is not None
    workbook = load_workbook(first)  # the submitter adds a note of their own, fixes the grade, sends it again
    workbook["to_chuc_co_so"]["B2"].comment = Comment("ghi chú của người lập", "Lù Thị Mai")
    workbook.save(tmp_path / "lan2_nop.xlsx")
    notes = [CellNote("to_chuc_co_so", 2, "org_name", "warning", "Tên cần xem lại.")]
    second = mark_workbook(tmp_path / "lan2_nop.xlsx", notes, tmp_path / "lan2.xlsx")
    assert second is not None
    marked = marked_cells(second)
    assert list(marked) == [("to_chuc_co_so", "B2")]
    assert "ghi chú của người lập" in marked[("to_chuc_co_so", "B2")][1]
    assert [wb for wb in load_workbook(second).sheetnames].count(SUMMARY_SHEET_TITLE) == 1
    assert [row[4] for row in summary_rows(second)] == ["Tên cần xem lại."]
    fills = {cell.fill.fgColor.rgb for row in load_workbook(second)["to_chuc_co_so"].iter_rows() for cell in row}
    assert fills <= {"00000000", CELL_COLOURS["warning"]}


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("csv.zip", None),
        ("hong.xlsx", b"PK\x03\x04 not really a workbook"),
        ("cu.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600),
        ("rong.xlsx", b""),
    ],
)
def test_files_that_are_not_a_readable_xlsx_give_none_and_no_copy(tmp_path: Path, name: str, content: bytes | None):
    source = tmp_path / name
    if content is None:
        write_csv_zip(source, template_report())
    else:
        source.write_bytes(content)
    before = sha256(source)
    target = tmp_path / "out.xlsx"
    assert mark_workbook(source, notes_for_template(), target) is None
    assert not target.exists()
    assert sha256(source) == before


def test_the_copy_never_replaces_the_submitted_file(tmp_path: Path):
    source = write_xlsx(tmp_path / "mau.xlsx", template_report())
    with pytest.raises(ValueError):
        mark_workbook(source, [], source)
