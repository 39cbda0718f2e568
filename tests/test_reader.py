from pathlib import Path

import pytest

from contract.model import load_contract
from contract.workbook import write_csv_folder, write_csv_zip, write_xlsx
from demo.samples import muong_khuong_2023
from reading.reader import (
    UnreadableReport,
    normalise_boolean,
    normalise_decimal,
    normalise_integer,
    normalise_value,
    read_report,
)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("3.792", "3792"),
        ("3792", "3792"),
        ("3 792", "3792"),
        (3792.0, "3792"),
        ("1.234.567", "1234567"),
        (" 42 ", "42"),
    ],
)
def test_counts_accept_vietnamese_formatting(cell, expected):
    assert normalise_integer(cell) == expected


@pytest.mark.parametrize("cell", ["ba mươi", "3,5", "12a"])
def test_counts_that_are_not_numbers_are_kept_as_written(cell):
    assert normalise_integer(cell) == cell


def test_empty_cell_is_missing_not_zero():
    assert normalise_integer(None) is None
    assert normalise_integer("  ") is None


@pytest.mark.parametrize(("cell", "expected"), [("73,2", "73.2"), ("73,2%", "73.2"), (73.2, "73.2"), ("100", "100")])
def test_percentages_accept_decimal_comma(cell, expected):
    assert normalise_decimal(cell) == expected


@pytest.mark.parametrize(("cell", "expected"), [("Có", "true"), ("x", "true"), ("không", "false"), ("KHONG", "false")])
def test_yes_no(cell, expected):
    assert normalise_boolean(cell) == expected


@pytest.mark.parametrize(
    "label",
    ["Hoàn thành tốt nhiệm vụ", "HTTNV", "hoan thanh tot nhiem vu", "HOÀN THÀNH TỐT NHIỆM VỤ", "httnv"],
)
def test_grades_are_stored_as_code_with_label_as_reported(label):
    field_ = load_contract().sheet("to_chuc_co_so").field("org_grade")
    assert normalise_value(load_contract(), field_, label) == {"org_grade": "HTTNV", "org_grade_label": label}


def test_unknown_grade_is_kept_as_written_for_validation_to_name():
    field_ = load_contract().sheet("to_chuc_co_so").field("org_grade")
    assert normalise_value(load_contract(), field_, "Tốt lắm")["org_grade"] == "Tốt lắm"


def _rows(report):
    return {name: [row.values for row in sheet.rows] for name, sheet in report.sheets.items()}


def test_xlsx_csv_zip_and_csv_folder_read_into_identical_rows(tmp_path: Path):
    report = muong_khuong_2023()
    as_xlsx = read_report(write_xlsx(tmp_path / "r.xlsx", report))
    as_zip = read_report(write_csv_zip(tmp_path / "r.zip", report))
    as_folder = read_report(write_csv_folder(tmp_path / "r", report))
    assert _rows(as_xlsx) == _rows(as_zip) == _rows(as_folder)
    assert len(as_xlsx.sheets["to_chuc_co_so"].rows) == 42
    assert as_xlsx.info("province") == "Lào Cai"


def test_headers_match_whatever_case_spacing_and_diacritics(tmp_path: Path):
    csv_text = (
        "MA TCCSD,  ten tccsđ ,LOẠI HÌNH,khoi,Đảng viên - TỔNG SỐ,dang vien - chinh thuc,Đảng viên -  Dự bị\n"
        'A1,Xã A,Đảng bộ cơ sở,xa_phuong_thi_tran,"1.010",1000,10\n'
    )
    folder = tmp_path / "bao_cao"
    folder.mkdir()
    (folder / "TO_CHUC_CO_SO.csv").write_text(csv_text, encoding="utf-8")
    sheet = read_report(folder).sheets["to_chuc_co_so"]
    assert {f.name for f in load_contract().sheet("to_chuc_co_so").fields if f.required} <= set(sheet.columns)
    assert sheet.rows[0].values["members_total"] == "1010"
    assert sheet.rows[0].values["org_kind"] == "dang_bo_co_so"


def test_title_rows_and_totals_row_are_not_data(tmp_path: Path):
    csv_text = (
        "BÁO CÁO SỐ LIỆU TỔ CHỨC CƠ SỞ ĐẢNG NĂM 2023,,,\n"
        ",,,\n"
        "Mã TCCSĐ,Tên TCCSĐ,Đảng viên - Tổng số,Đảng viên - Chính thức\n"
        "A1,Xã A,10,9\n"
        "Tổng cộng,,10,9\n"
    )
    folder = tmp_path / "r"
    folder.mkdir()
    (folder / "to_chuc_co_so.csv").write_text(csv_text, encoding="utf-8")
    sheet = read_report(folder).sheets["to_chuc_co_so"]
    assert sheet.header_row == 3
    assert [row.sheet_row for row in sheet.rows] == [4]
    assert any("tổng cộng" in note for note in sheet.notes)


@pytest.mark.parametrize(
    ("name", "content"),
    [("hong.xlsx", b"not a workbook"), ("rong.xlsx", b""), ("bao_cao.pdf", b"%PDF-1.4"), ("hong.zip", b"PK\x03\x04xx")],
)
def test_unreadable_files_raise_a_vietnamese_reason(tmp_path: Path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(UnreadableReport) as raised:
        read_report(path)
    assert raised.value.message_vi and "gửi lại" in raised.value.message_vi


def test_a_workbook_without_any_contract_sheet_is_unreadable(tmp_path: Path):
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.title = "Sheet1"
    workbook.save(tmp_path / "khac.xlsx")
    with pytest.raises(UnreadableReport, match="no contract sheet"):
        read_report(tmp_path / "khac.xlsx")


def test_legacy_font_text_in_cells_is_converted_and_noted(tmp_path: Path):
    from reading.legacy_text import TCVN3_TABLE, VNI_TABLE

    def encode(text: str, table: dict[str, str]) -> str:
        reverse = {unicode: legacy for legacy, unicode in table.items()}
        return "".join(reverse.get(ch, ch) for ch in text)

    rows = [
        ("MK01", "Đảng bộ xã Bản Lầu", "Hoàn thành tốt nhiệm vụ"),
        ("MK02", "Chi bộ Trạm y tế", "Hoàn thành nhiệm vụ"),
    ]
    for table, name in [(TCVN3_TABLE, "TCVN3"), (VNI_TABLE, "VNI")]:
        folder = tmp_path / name
        folder.mkdir()
        lines = ["Mã TCCSĐ,Tên TCCSĐ,Xếp loại TCCSĐ"] + [
            ",".join([code, encode(org, table), encode(grade, table)]) for code, org, grade in rows
        ]
        (folder / "to_chuc_co_so.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        sheet = read_report(folder).sheets["to_chuc_co_so"]
        assert [r.values["org_name"] for r in sheet.rows] == [org for _, org, _ in rows], name
        assert [r.values["org_grade"] for r in sheet.rows] == ["HTTNV", "HTNV"], name
        assert any(name in note for note in sheet.notes), name


def test_decomposed_unicode_is_composed(tmp_path: Path):
    import unicodedata

    folder = tmp_path / "nfd"
    folder.mkdir()
    text = "Mã TCCSĐ,Tên TCCSĐ\nMK01,Đảng bộ xã Bản Lầu\n"
    (folder / "to_chuc_co_so.csv").write_text(unicodedata.normalize("NFD", text), encoding="utf-8")
    sheet = read_report(folder).sheets["to_chuc_co_so"]
    assert sheet.rows[0].values["org_name"] == "Đảng bộ xã Bản Lầu"
