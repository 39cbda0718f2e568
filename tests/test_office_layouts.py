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
from reading.reader import Hidden, ParsedReport, read_report, read_sheets

OFFICE = Path(__file__).parent / "fixtures" / "office"
CLEAN = OFFICE / "clean.openpyxl.xlsx"
LAYOUTS = ("official", "sections", "merged", "tabletotals", "listobject", "dashes", "hidden", "headers", "extrasheets")
WORKBOOKS = [OFFICE / f"{layout}.lo.{extension}" for layout in LAYOUTS for extension in ("xlsx", "xls", "ods")]
OTHERS = [
    OFFICE / name
    for name in (
        "merged.openpyxl.xlsx",
        "listobject.openpyxl.xlsx",
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
    ("listobject", "to_chuc_co_so", "tổng cộng «Tổng»"),
    ("listobject", "chi_bo", "tổng cộng «Tổng»"),
    ("listobject", "thon_ban", "tổng cộng «Total»"),
    ("dashes", "to_chuc_co_so", "«-», «–», «—» (không có) đọc là 0: cột «Đảng viên - Dự bị»"),
    ("dashes", "to_chuc_co_so", "ô ghi «x» (không có số liệu) để trống: cột «Số chi bộ trực thuộc»"),
    ("dashes", "tong_hop", "(không có) đọc là 0: chỉ tiêu «Số thôn, tổ dân phố chưa có đảng viên» (1)"),
    ("dashes", "tong_hop", "«x» (không có số liệu) để trống: chỉ tiêu «Kết nạp ở nơi chưa có đảng viên» (1)"),
    ("hidden", "to_chuc_co_so", "bỏ qua cột không có trong mẫu: «Kiểm tra»"),
    ("headers", "to_chuc_co_so", "tiêu đề cột viết xuống dòng trong ô: «Số chi bộ trực thuộc»"),
    ("headers", "to_chuc_co_so", "«Đảng viên Dự bị (*)» có dấu chú thích: đọc là «Đảng viên - Dự bị»"),
    ("headers", "to_chuc_co_so", "«Đảng viên nữ¹» có dấu chú thích: đọc là «Đảng viên nữ»"),
    ("headers", "thon_ban", "«Số đảng viên¹» có dấu chú thích: đọc là «Số đảng viên»"),
    ("headers", "chi_bo", "phần cuối văn bản"),
    ("extrasheets", None, "bỏ qua trang «Bìa»: không có trong mẫu báo cáo (trang bìa «BÁO CÁO THỐNG KÊ»)"),
    ("extrasheets", None, "bỏ qua trang «Biểu đồ»: không có trong mẫu báo cáo (trang biểu đồ"),
    ("extrasheets", None, "bỏ qua trang «Ghi chú»: không có trong mẫu báo cáo"),
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


@pytest.mark.parametrize("extension", ["xlsx", "ods"])
@pytest.mark.parametrize(
    ("sheet", "note"),
    [
        ("to_chuc_co_so", "bỏ qua cột không có trong mẫu: «Kiểm tra» (cột bị ẩn trong tệp)"),
        ("chi_bo", "bỏ qua cột không có trong mẫu: «Kiểm tra» (cột bị ẩn trong tệp)"),
        ("to_chuc_co_so", "1 dòng bị ẩn trong tệp vẫn là số liệu và đã được đọc (dòng 3)"),
        ("thon_ban", "1 dòng bị ẩn trong tệp vẫn là số liệu và đã được đọc (dòng 3)"),
    ],
)
def test_hidden_rows_are_read_as_data_and_hidden_columns_outside_the_contract_ignored_with_a_note(
    extension: str, sheet: str, note: str
):
    notes = read_report(OFFICE / f"hidden.lo.{extension}").sheets[sheet].notes
    assert any(note in text for text in notes), notes


def test_nothing_is_said_hidden_in_a_layout_that_hides_nothing():
    for extension in ("xlsx", "ods"):
        report = read_report(OFFICE / f"official.lo.{extension}")
        assert not any("ẩn" in note for sheet in report.sheets.values() for note in sheet.notes)


def test_the_dash_note_counts_every_zero_of_the_clean_report(clean_rows):
    integers = [f.name for f in CONTRACT.sheet("to_chuc_co_so").fields if f.type == "integer"]
    zeros = sum(1 for row in clean_rows["to_chuc_co_so"] for name in integers if row[name] == "0")
    assert zeros, "the corpus must hold zero counts"
    for extension in ("xlsx", "xls", "ods"):
        notes = read_report(OFFICE / f"dashes.lo.{extension}").sheets["to_chuc_co_so"].notes
        assert any(note.startswith(f"{zeros} ô ghi «-», «–», «—» (không có) đọc là 0") for note in notes), notes


def test_the_chart_sheet_and_the_cover_page_are_really_in_the_workbooks():
    from python_calamine import CalamineWorkbook

    for extension in ("xlsx", "xls", "ods"):
        workbook = CalamineWorkbook.from_path(str(OFFICE / f"extrasheets.lo.{extension}"))
        names = workbook.sheet_names
        assert names[0] == "Bìa" and "Biểu đồ" in names and names[-1] == "Ghi chú", names
        contract_order = [sheet.name for sheet in CONTRACT.sheets]
        assert [name for name in names if name in contract_order] == contract_order[::-1]


def test_the_list_object_keeps_its_totals_row_in_the_xlsx_files():
    import zipfile

    for name in ("listobject.lo.xlsx", "listobject.openpyxl.xlsx"):
        with zipfile.ZipFile(OFFICE / name) as archive:
            tables = [archive.read(n).decode() for n in archive.namelist() if n.startswith("xl/tables/")]
        assert len(tables) == 3 and all('totalsRowCount="1"' in table for table in tables), name


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


def test_a_dash_is_zero_in_any_count_and_an_x_leaves_an_optional_count_empty_but_a_required_one_as_written():
    header = [
        CONTRACT.sheet("to_chuc_co_so").field(name).header
        for name in ("org_code", "members_total", "members_probationary", "members_female", "deceased")
    ]
    report = read_sheets(
        CONTRACT,
        "t.xlsx",
        [("to_chuc_co_so", [header, ["A1", "—", "-", "–", " - "], ["A2", 10, "x", "x", "…"], ["A3", 5, "X", 1, None]])],
    )
    rows = [
        {k: row.values[k] for k in ("members_total", "members_probationary", "members_female", "deceased")}
        for row in report.sheets["to_chuc_co_so"].rows
    ]
    assert rows == [
        {"members_total": "0", "members_probationary": "0", "members_female": "0", "deceased": "0"},
        {"members_total": "10", "members_probationary": "x", "members_female": None, "deceased": None},
        {"members_total": "5", "members_probationary": "X", "members_female": "1", "deceased": None},
    ]
    notes = report.sheets["to_chuc_co_so"].notes
    assert any(n.startswith("4 ô ghi «-», «–», «—» (không có) đọc là 0") for n in notes), notes
    assert any(n.startswith("2 ô ghi «x», «…» (không có số liệu) để trống") for n in notes), notes
    assert any(n.startswith("2 ô ghi «x», «X» giữ nguyên để báo lỗi") for n in notes), notes


def test_a_hidden_column_of_the_contract_is_still_read_and_said_hidden():
    report = read_sheets(
        CONTRACT,
        "t.xlsx",
        [("to_chuc_co_so", [ORG_HEADER, ["Xã A", "A1", 3], ["Xã B", "B1", 4]])],
        hidden={"to_chuc_co_so": Hidden(rows=frozenset({2}), columns=frozenset({2}))},
    )
    parsed = report.sheets["to_chuc_co_so"]
    assert [row.values["members_total"] for row in parsed.rows] == ["3", "4"]
    assert any("bị ẩn trong tệp nhưng có trong mẫu: vẫn đọc" in note for note in parsed.notes), parsed.notes
    assert any("1 dòng bị ẩn trong tệp vẫn là số liệu và đã được đọc (dòng 3)" in n for n in parsed.notes)


def test_footnote_marks_and_line_breaks_in_headers_name_the_field_and_unrelated_headers_stay_unknown():
    sheet = CONTRACT.sheet("to_chuc_co_so")
    header = ["Mã\nTCCSĐ", "Tên TCCSĐ (1)", "Đảng viên\nchính thức", "Dự bị (*)", "Nữ¹", "Ghi chú (2)"]
    report = read_sheets(CONTRACT, "t.xlsx", [("to_chuc_co_so", [header, ["A1", "Xã A", 3, 1, 2, "mới"]])])
    parsed = report.sheets["to_chuc_co_so"]
    expected = ("org_code", "org_name", "members_official", "members_probationary", "members_female")
    assert list(parsed.columns) == [sheet.field(name).name for name in expected]
    assert any("«Ghi chú (2)»" in note and "không có trong mẫu" in note for note in parsed.notes), parsed.notes


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
    marks = copy.deepcopy(muong_khuong_2023())
    marks["to_chuc_co_so"][0]["members_probationary"] = "x"
    paths = {
        "optional": write_xlsx(folder / "optional.xlsx", unreadable_optional),
        "without_orgs": write_xlsx(folder / "without_orgs.xlsx", without_orgs),
        "x_in_required": write_xlsx(folder / "x_in_required.xlsx", marks),
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


def test_an_x_in_a_required_count_is_named_by_validation(outcomes):
    outcome = outcomes["x_in_required"]
    named = [f for f in outcome.findings if f.field == "members_probationary" and f.value == "x"]
    assert named, [(f.rule_id, f.field, f.value) for f in outcome.findings]
    assert all(f.severity == "error" and f.sheet == "to_chuc_co_so" and f.sheet_row == 2 for f in named)
    assert outcome.outcome == "rejected"
