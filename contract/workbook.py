"""Write reports in the contract's layout: the blank template and synthesised sample reports.

A report to write is a mapping from sheet name to either a mapping (key/value sheets: field name →
value) or a list of rows (table sheets: field name → value). Only sheets present are written.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.datavalidation import DataValidation

from contract.model import Contract, Sheet, load_contract

KEY_HEADER = "Chỉ tiêu"
VALUE_HEADER = "Giá trị"

ReportData = Mapping[str, Mapping[str, Any] | Sequence[Mapping[str, Any]]]


def sheet_matrix(sheet: Sheet, content: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None) -> list[list[Any]]:
    """The cells of one sheet, header row first, as the contract lays them out."""
    if sheet.layout == "key_value":
        values = content if isinstance(content, Mapping) else {}
        return [[KEY_HEADER, VALUE_HEADER]] + [[f.header, values.get(f.name)] for f in sheet.fields]
    rows = content if isinstance(content, Sequence) else []
    header = [f.header for f in sheet.fields]
    return [header] + [[row.get(f.name) for f in sheet.fields] for row in rows]


def write_xlsx(path: Path, report: ReportData | None = None, contract: Contract | None = None) -> Path:
    """Write an .xlsx workbook; with no report, the blank template with every sheet."""
    contract = contract or load_contract()
    workbook = Workbook()
    default_sheet = workbook.active  # a new workbook has one blank sheet
    if default_sheet is not None:
        workbook.remove(default_sheet)
    for sheet in contract.sheets:
        if report is not None and sheet.name not in report:
            continue
        worksheet = workbook.create_sheet(sheet.name)
        matrix = sheet_matrix(sheet, report.get(sheet.name) if report is not None else None)
        for row in matrix:
            worksheet.append(row)
        for cell in worksheet[1]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for column_cells in worksheet.columns:
            worksheet.column_dimensions[column_cells[0].column_letter].width = 22
        if report is None:
            _add_value_lists(worksheet, sheet, contract)
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path


def _add_value_lists(worksheet: Any, sheet: Sheet, contract: Contract) -> None:
    """Drop-down lists of the allowed labels in the template's table columns."""
    if sheet.layout != "table":
        return
    for index, field_ in enumerate(sheet.fields, start=1):
        labels = [value.label for value in contract.values_for(field_)]
        if field_.type == "boolean":
            labels = ["Có", "Không"]
        if not labels:
            continue
        letter = worksheet.cell(row=1, column=index).column_letter
        validation = DataValidation(type="list", formula1='"' + ",".join(labels) + '"', allow_blank=True)
        validation.add(f"{letter}2:{letter}5000")
        worksheet.add_data_validation(validation)


def csv_texts(report: ReportData, contract: Contract | None = None) -> dict[str, str]:
    """One UTF-8 CSV text per sheet present in the report, named ``<sheet>.csv``."""
    contract = contract or load_contract()
    texts: dict[str, str] = {}
    for sheet in contract.sheets:
        if sheet.name not in report:
            continue
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        for row in sheet_matrix(sheet, report[sheet.name]):
            writer.writerow(["" if value is None else value for value in row])
        texts[f"{sheet.name}.csv"] = buffer.getvalue()
    return texts


def write_csv_zip(path: Path, report: ReportData, contract: Contract | None = None) -> Path:
    """Write the report as a .zip of CSV files, one per sheet, with fixed timestamps."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in csv_texts(report, contract).items():
            info = zipfile.ZipInfo(name, date_time=(2025, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, text.encode("utf-8"))
    return path


def write_csv_folder(path: Path, report: ReportData, contract: Contract | None = None) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    for name, text in csv_texts(report, contract).items():
        (path / name).write_text(text, encoding="utf-8")
    return path
