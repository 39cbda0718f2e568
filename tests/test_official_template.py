"""The official template (``chibo template``): as a Board hands it out, filled in and recalculated by LibreOffice,
read back to exactly the figures of the clean report, and rendered to an A4 landscape PDF."""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from contract.model import Contract, load_contract
from contract.workbook import write_xlsx
from demo.samples import muong_khuong_2023, totals_from_details
from reading.reader import match_sheet, read_report
from warehouse.export import current_province_names, write_template

pytestmark = pytest.mark.skipif(shutil.which("soffice") is None, reason="needs LibreOffice (soffice)")


def soffice(source: Path, target: str, out: Path, profile: Path) -> Path:
    """Convert with LibreOffice itself, with a private profile; returns the converted file."""
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--norestore",
            "--convert-to",
            target,
            "--outdir",
            str(out),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return out / f"{source.stem}.{target.split(':')[0]}"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_template(tmp_path_factory.mktemp("template") / "mau.xlsx")


def labelled(report: dict[str, Any], contract: Contract) -> dict[str, Any]:
    """The sample as a person fills the form: enumerations and grades chosen from the drop-downs (their labels)."""
    result = copy.deepcopy(report)
    for sheet in contract.sheets:
        rows = result.get(sheet.name)
        if not isinstance(rows, list):
            continue
        for field_ in sheet.fields:
            spellings = {s.casefold(): v.label for v in contract.values_for(field_) for s in v.spellings()}
            for row in rows:
                if spellings and row.get(field_.name) is not None:
                    row[field_.name] = spellings[str(row[field_.name]).casefold()]
    levels = {v.code: v.label for v in contract.enums["committee_level"]}
    result["thong_tin"]["committee_level"] = levels[result["thong_tin"]["committee_level"]]
    return result


def fill(template: Path, report: dict[str, Any], contract: Contract, path: Path) -> Path:
    """Type the report into the template's cells with openpyxl, finding each place by its header, and leave the
    computed (formula) cells alone."""
    book = load_workbook(template)
    for sheet in contract.sheets:
        worksheet = book[sheet.title]
        content = report[sheet.name]
        if sheet.layout == "key_value":
            rows = {row[0].value: row[0].row for row in worksheet.iter_rows(min_col=1, max_col=1) if row[0].value}
            for field_ in sheet.fields:
                cell = worksheet.cell(row=rows[field_.header], column=2)
                if cell.data_type != "f" and content.get(field_.name) is not None:
                    cell.value = content[field_.name]
            continue
        header_row = next(r[0].row for r in worksheet.iter_rows(max_col=1) if r[0].value == sheet.fields[0].header)
        columns = {cell.value: cell.column for cell in worksheet[header_row] if cell.value}
        for offset, values in enumerate(content, start=1):
            for field_ in sheet.fields:
                worksheet.cell(row=header_row + offset, column=columns[field_.header]).value = values.get(field_.name)
    book.save(path)
    return path


def rows_of(path: Path) -> dict[str, list[dict[str, str | None]]]:
    return {name: [row.values for row in sheet.rows] for name, sheet in read_report(path).sheets.items()}


def test_the_template_is_laid_out_as_an_official_form(template: Path):
    contract = load_contract()
    book = load_workbook(template)
    assert book.sheetnames[0] == "Hướng dẫn"
    assert book[book.sheetnames[-1]].sheet_state == "hidden"
    for sheet in contract.sheets:
        worksheet = book[sheet.title]
        assert len(worksheet.title) <= 31 and match_sheet(contract, worksheet.title) == sheet
        texts = [str(c.value) for row in worksheet.iter_rows(max_row=6) for c in row if c.value is not None]
        assert any("ĐẢNG BỘ" in t for t in texts) and any("Đơn vị báo cáo" in t for t in texts)
        assert any("Kỳ báo cáo" in t for t in texts) and any(re.match(r"Biểu số \d\d-", t) for t in texts)
        assert sheet.title.upper() in texts
        assert worksheet.page_setup.orientation == "landscape" and worksheet.page_setup.paperSize == 9
        fit = worksheet.sheet_properties.pageSetUpPr
        assert fit is not None and fit.fitToPage and worksheet.page_setup.fitToWidth == 1
        assert worksheet.print_title_rows
    signature = [c.value for row in book["Tổng hợp"].iter_rows() for c in row if c.value]
    assert "T/M BAN THƯỜNG VỤ" in signature and "NGƯỜI LẬP BIỂU" in signature


def test_every_choice_is_a_drop_down_that_refuses_other_values(template: Path):
    contract = load_contract()
    book = load_workbook(template)
    lists = book[book.sheetnames[-1]]

    def offered(formula: str) -> list[str]:
        cells = formula.split("!")[1].replace("$", "")
        return [c.value for row in lists[cells] for c in row]

    for sheet in contract.sheets:
        validations = book[sheet.title].data_validations.dataValidation
        for index, field_ in enumerate(sheet.fields):
            wanted = [v.label for v in contract.values_for(field_)] or (
                ["Có", "Không"] if field_.type == "boolean" else []
            )
            if field_.name == "province":
                wanted = list(current_province_names())
            if not wanted:
                continue
            place = f"B{8 + index}" if sheet.layout == "key_value" else f"{chr(65 + index)}8"
            [validation] = [v for v in validations if place in v.sqref]
            assert validation.type == "list" and validation.showErrorMessage and validation.errorStyle == "stop"
            assert "danh sách" in validation.error
            assert offered(validation.formula1) == wanted
    assert len(current_province_names()) == 34


def test_the_blank_template_reads_as_an_empty_report(template: Path):
    read = rows_of(template)
    assert all(row["value"] is None for row in read["thong_tin"])
    assert read["to_chuc_co_so"] == read["chi_bo"] == read["thon_ban"] == []


def test_the_template_filled_in_and_recalculated_by_libreoffice_reads_as_the_clean_report(
    template: Path, tmp_path: Path
):
    contract = load_contract()
    clean = muong_khuong_2023()
    sample = labelled(clean, contract)
    filled = fill(template, sample, contract, tmp_path / "filled.xlsx")
    recalculated = soffice(filled, "xlsx:Calc MS Excel 2007 XML", tmp_path / "lo", tmp_path / "profile")
    expected = rows_of(write_xlsx(tmp_path / "plain.xlsx", sample))

    assert rows_of(recalculated) == expected
    computed = {row["field"]: row["value"] for row in rows_of(recalculated)["tong_hop"]}
    for name, total in totals_from_details(clean).items():
        assert computed[name] == str(total), name  # the formulas give the contract's detail rules' totals
    header = load_workbook(recalculated, data_only=True)["Tổ chức cơ sở đảng"]
    assert header["A1"].value == "ĐẢNG BỘ LÀO CAI"
    assert header["A2"].value == "Đơn vị báo cáo: Đảng bộ huyện Mường Khương"
    assert header["A3"].value == "Kỳ báo cáo: năm 2023"


def test_the_template_renders_as_an_a4_landscape_form(template: Path, tmp_path: Path):
    pdf = soffice(template, "pdf", tmp_path / "pdf", tmp_path / "profile")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    for sheet in load_contract().sheets:
        assert sheet.title.upper() in text
    assert "ĐẢNG CỘNG SẢN VIỆT NAM" in text and "HƯỚNG DẪN" in text and "Biểu số 02-" in text
    assert "T/M BAN THƯỜNG VỤ" in text
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    width, height = map(float, re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info).groups())  # type: ignore[union-attr]
    assert (round(width), round(height)) == (842, 595)  # A4 landscape
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))  # type: ignore[union-attr]
    assert pages <= 12  # the 2,000 rows of drop-downs do not print as empty pages
