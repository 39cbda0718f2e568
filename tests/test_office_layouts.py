"""Reports as Vietnamese offices lay them out (tests/fixtures/office/, made by LibreOffice: see its README.md)
read to exactly the figures of the clean report, say in their reading notes what was done, and files that
are not reports are refused by what they really are."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path

import pytest

from chibo.config import load_settings
from contract.model import load_contract
from contract.workbook import write_xlsx
from demo.samples import muong_khuong_2023
from expectations.rules import field_rules
from expectations.validate import Outcome
from pipeline.check import check_files
from reading.errors import UnreadableReport
from reading.reader import ParsedReport, read_report, read_sheets

OFFICE = Path(__file__).parent / "fixtures" / "office"
CLEAN = OFFICE / "clean.openpyxl.xlsx"
LAYOUTS = ("official", "sections", "merged", "tabletotals")
WORKBOOKS = [OFFICE / f"{layout}.lo.{extension}" for layout in LAYOUTS for extension in ("xlsx", "xls", "ods")]
OTHERS = [
    OFFICE / name
    for name in (
        "merged.openpyxl.xlsx",
        "semicolon.cp1258.zip",
        "semicolon.utf8bom.zip",
        "macos-finder.zip",
        "xls-named.xlsx",
        "xlsx-named.xls",
    )
]
CONTRACT = load_contract()


def raw_rows(report: ParsedReport) -> dict[str, list[dict[str, str | None]]]:
    return {name: [row.values for row in sheet.rows] for name, sheet in report.sheets.items()}


@pytest.fixture(scope="module")
def clean_rows() -> dict[str, list[dict[str, str | None]]]:
    return raw_rows(read_report(CLEAN))


def test_the_clean_report_reads_to_the_figures_derived_from_the_report(clean_rows):
    assert clean_rows == json.loads((OFFICE / "expected.json").read_text(encoding="utf-8"))
    assert set(clean_rows) == {sheet.name for sheet in CONTRACT.sheets}


def test_the_corpus_holds_every_layout_in_every_format():
    present = {path.name for path in OFFICE.iterdir()}
    assert {path.name for path in WORKBOOKS + OTHERS} <= present


@pytest.mark.parametrize("path", WORKBOOKS + OTHERS, ids=lambda p: p.name)
def test_each_layout_reads_to_exactly_the_raw_rows_of_the_clean_report(path: Path, clean_rows):
    assert raw_rows(read_report(path)) == clean_rows


def all_notes(report: ParsedReport, sheet: str | None) -> list[str]:
    return report.notes if sheet is None else report.sheets[sheet].notes


# (file, sheet or None for the file's notes, what the note says)
NOTES = [
    ("official", "to_chuc_co_so", "phần đầu văn bản"),
    ("official", "to_chuc_co_so", "cột số thứ tự «STT»"),
    ("official", "to_chuc_co_so", "đánh số cột"),
    ("official", "chi_bo", "phần cuối văn bản (nơi nhận, chữ ký)"),
    ("official", "thong_tin", "phần đầu văn bản"),
    ("official", "thong_tin", "số thứ tự (STT) trước tên chỉ tiêu"),
    ("official", "thong_tin", "ngày viết bằng chữ «ngày 17 tháng 01 năm 2024» đọc là 2024-01-17"),
    ("official", "tong_hop", "phần cuối văn bản (nơi nhận, chữ ký)"),
    ("sections", "to_chuc_co_so", "tiêu đề nhóm «I Khối xã, phường, thị trấn»"),
    ("sections", "to_chuc_co_so", "tổng cộng «Cộng khối xã, phường, thị trấn»"),
    ("sections", "to_chuc_co_so", "tổng cộng «Toàn huyện»"),
    ("sections", "to_chuc_co_so", "đánh số cột"),
    ("sections", "chi_bo", "tổng cộng «Cộng»"),
    ("sections", "tong_hop", "số thứ tự (STT) trước tên chỉ tiêu"),
    ("merged", "chi_bo", "ô gộp của cột «Mã TCCSĐ»"),
    ("merged", "thon_ban", "ô gộp của cột «Xã, phường, thị trấn»"),
    ("tabletotals", "to_chuc_co_so", "tổng cộng «Tổng»"),
    ("tabletotals", "thon_ban", "tổng cộng «Tổng»"),
]


@pytest.mark.parametrize("extension", ["xlsx", "xls", "ods"])
@pytest.mark.parametrize(("layout", "sheet", "note"), NOTES, ids=lambda v: str(v)[:40])
def test_the_reading_notes_say_what_was_done(layout: str, sheet: str, note: str, extension: str):
    notes = all_notes(read_report(OFFICE / f"{layout}.lo.{extension}"), sheet)
    assert any(note in text for text in notes), notes


@pytest.mark.parametrize(
    ("name", "note"),
    [
        ("semicolon.cp1258.zip", "bảng mã Windows-1258, phân cách cột bằng dấu chấm phẩy «;»"),
        ("semicolon.utf8bom.zip", "bảng mã UTF-8, phân cách cột bằng dấu chấm phẩy «;»"),
        ("macos-finder.zip", "do hệ điều hành thêm vào tệp nén"),
        ("xls-named.xlsx", "đuôi «.xlsx» nhưng nội dung là bảng tính Excel 97–2003 (.xls)"),
        ("xlsx-named.xls", "đuôi «.xls» nhưng nội dung là bảng tính Excel 2007 trở lên (.xlsx)"),
    ],
)
def test_file_level_notes_name_the_encoding_separator_system_entries_and_real_format(name: str, note: str):
    notes = read_report(OFFICE / name).notes
    assert any(note in text for text in notes), notes


def test_an_organisation_named_like_a_totals_row_is_kept_because_it_has_a_code(clean_rows):
    renamed = [row for row in clean_rows["to_chuc_co_so"] if (row["org_name"] or "").startswith("Tổng")]
    assert renamed, "the corpus must hold an organisation whose name starts with «Tổng»"
    for layout in ("sections", "tabletotals"):
        rows = raw_rows(read_report(OFFICE / f"{layout}.lo.xlsx"))["to_chuc_co_so"]
        assert all(row in rows for row in renamed)


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("van_ban_word.doc", ("văn bản Word (.doc)", "mẫu báo cáo Excel")),
        ("van_ban_word_doi_ten.xls", ("văn bản Word (.doc)", "mẫu báo cáo Excel")),
        ("van_ban_word.docx", ("văn bản Word (.docx)", "mẫu báo cáo Excel")),
        ("van_ban_word_doi_ten.xlsx", ("văn bản Word (.docx)", "mẫu báo cáo Excel")),
        ("trang_web_excel.xls", ("trang web HTML", "Sổ làm việc Excel (*.xlsx)")),
        ("mat_khau.ods", ("(.ods) có đặt mật khẩu", "bỏ mật khẩu")),
    ],
)
def test_refusals_say_what_the_file_really_is_and_what_to_do(name: str, words: tuple[str, ...]):
    with pytest.raises(UnreadableReport) as refused:
        read_report(OFFICE / "refused" / name)
    for word in words:
        assert word in refused.value.message_vi


# ---------------------------------------------------------------- rows that must never be mistaken

ORG_HEADER = [CONTRACT.sheet("to_chuc_co_so").field(name).header for name in ("org_name", "org_code", "members_total")]


def org_rows(*rows: list[object]) -> list[dict[str, str | None]]:
    report = read_sheets(CONTRACT, "t.xlsx", [("to_chuc_co_so", [ORG_HEADER, *rows])])
    return [
        {k: row.values[k] for k in ("org_name", "org_code", "members_total")}
        for row in report.sheets["to_chuc_co_so"].rows
    ]


def test_a_subtotal_or_section_row_never_swallows_a_data_row():
    rows = org_rows(
        ["Khối cơ quan", None, None],
        ["Tổng", "MK90", 12],  # an organisation literally named «Tổng», with its code: data
        ["Cộng khối cơ quan", None, 12],  # no code: a subtotal
        ["Công an huyện", None, 50],  # «Công», not «Cộng»; no code but figures: data, its missing code is flagged
        ["Toàn huyện", None, 62],
    )
    assert rows == [
        {"org_name": "Tổng", "org_code": "MK90", "members_total": "12"},
        {"org_name": "Công an huyện", "org_code": None, "members_total": "50"},
    ]


def test_the_header_is_found_under_a_long_title_block():
    title = [[f"Dòng tiêu đề {n}", None, None] for n in range(30)]
    report = read_sheets(CONTRACT, "t.xlsx", [("to_chuc_co_so", [*title, ORG_HEADER, ["Xã A", "A1", 3]])])
    assert report.sheets["to_chuc_co_so"].header_row == 31
    assert [row.values["org_code"] for row in report.sheets["to_chuc_co_so"].rows] == ["A1"]


def test_without_a_merged_cell_an_empty_name_is_not_filled_from_the_row_above():
    header = [CONTRACT.sheet("chi_bo").field(name).header for name in ("parent_org_code", "branch_code")]
    report = read_sheets(CONTRACT, "t.csv", [("chi_bo", [header, ["MK01", "MK01.01"], [None, "MK01.02"]])])
    assert [row.values["parent_org_code"] for row in report.sheets["chi_bo"].rows] == ["MK01", None]


# ---------------------------------------------------------------- validation: warnings and missing sheets


def test_an_optional_date_or_email_that_cannot_be_read_is_a_warning_and_numbers_stay_errors():
    rules = {(rule.sheet, rule.field): rule for rule in field_rules(CONTRACT) if rule.rule_id.endswith(".dinh_dang")}
    rules |= {(rule.sheet, rule.field): rule for rule in field_rules(CONTRACT) if rule.rule_id.endswith(".so_nguyen")}
    for sheet in CONTRACT.sheets:
        for field_ in sheet.fields:
            rule = rules.get((sheet.name, field_.name))
            if rule is None:
                continue
            optional_text = not field_.required and field_.type in {"date", "email"}
            assert rule.severity == ("warning" if optional_text else "error"), rule.rule_id


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    folder = tmp_path_factory.mktemp("office")
    unreadable_optional = muong_khuong_2023()
    unreadable_optional["thong_tin"] |= {"prepared_on": "hôm qua", "contact_email": "chưa có"}
    without_orgs = copy.deepcopy(muong_khuong_2023())
    del without_orgs["to_chuc_co_so"]
    paths = {
        "optional": write_xlsx(folder / "optional.xlsx", unreadable_optional),
        "without_orgs": write_xlsx(folder / "without_orgs.xlsx", without_orgs),
    }
    results = check_files(list(paths.values()), load_settings(), today=date(2026, 11, 29))
    return dict(zip(paths, results, strict=True))


def test_unreadable_optional_fields_are_warned_about_and_the_report_is_accepted(outcomes):
    outcome = outcomes["optional"]
    flagged = {f.field: f.severity for f in outcome.findings if f.sheet == "thong_tin"}
    assert flagged == {"prepared_on": "warning", "contact_email": "warning"}
    assert outcome.outcome == "accepted"


def test_a_missing_sheet_is_named_missing_not_reported_as_totals_that_do_not_add_up(outcomes):
    outcome = outcomes["without_orgs"]
    rules = {f.rule_id for f in outcome.findings}
    assert any(f.rule_id == "bao_cao.thieu_trang" and f.value == "to_chuc_co_so" for f in outcome.findings), rules
    assert "tong_hop.matches_detail" not in rules
    assert "chi_bo.thuoc_tccsd" not in rules
    assert outcome.outcome == "rejected"
