"""Write reports in the contract's layout: the official template, the official form with values, and plain
synthesised sample reports.

A report to write is a mapping from sheet name to either a mapping (key/value sheets: field name →
value) or a list of rows (table sheets: field name → value). Only sheets present are written.

The official form (``write_template``, ``write_form``) lays every contract sheet out as a Board hands it out:
the form's header above the table (Đảng bộ, đơn vị báo cáo, kỳ báo cáo, số hiệu biểu), the sheet's
Vietnamese title as sheet name and title, A4 landscape print setup with the header row repeated, and a
signature block under the totals. Everything in it is derived from the contract.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation

from contract.model import Contract, DetailAggregate, Field, Sheet, load_contract

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


def write_xlsx(
    path: Path, report: ReportData | None = None, contract: Contract | None = None, provinces: Sequence[str] = ()
) -> Path:
    """Write an .xlsx workbook: with a report, its values in the plain layout (header in row 1, sheets named by
    the contract's ids); with no report, the official template (:func:`write_template`)."""
    contract = contract or load_contract()
    if report is None:
        return write_template(path, contract, provinces)
    workbook = _empty_workbook()
    for sheet in contract.sheets:
        if sheet.name not in report:
            continue
        worksheet = workbook.create_sheet(sheet.name)
        for row in sheet_matrix(sheet, report.get(sheet.name)):
            worksheet.append(row)
        for cell in worksheet[1]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for column_cells in worksheet.columns:
            worksheet.column_dimensions[column_cells[0].column_letter].width = 22
    return _save(workbook, path)


# ---------------------------------------------------------------- the official form

PARTY = "ĐẢNG CỘNG SẢN VIỆT NAM"
FORM_CODE = "TCCSĐ"  # the forms' series: "Biểu số 02-TCCSĐ"
AS_OF = "(Số liệu tính đến ngày 31 tháng 12 của năm báo cáo)"
INSTRUCTIONS_SHEET = "Hướng dẫn"
LISTS_SHEET = "Danh mục"  # hidden: the values of the drop-down lists
BOOLEAN_LABELS = ("Có", "Không")
HEADER_ROW = 7  # the column headers; the form's header block above it
TEMPLATE_ROWS = 2000  # rows of a detail table the drop-downs and the tong_hop formulas cover
BORDERED_ROWS = 15  # empty rows drawn as a form on the printed template
ERROR_TITLE = "Giá trị không hợp lệ"
THIN = Side(style="thin")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
COMPUTED_FILL = PatternFill("solid", fgColor="E7EEF7")
HEADER_FILL = PatternFill("solid", fgColor="F2F2F2")


@dataclass(frozen=True)
class FormHeader:
    """The lines above every table of the form: texts (an export) or formulas (the template)."""

    party_committee: str  # "ĐẢNG BỘ TỈNH LÀO CAI"
    reporting_unit: str  # "Đơn vị báo cáo: …"
    period: str  # "Kỳ báo cáo: năm 2024"
    note: str = AS_OF  # under the title: what the figures are (completeness of a consolidated report)
    place_and_date: str = "……, ngày …… tháng …… năm ……"
    signer: str = ""  # the name under the signature
    formulas: bool = False  # the lines are formulas (the template's header, over «Thông tin chung»)


@dataclass(frozen=True)
class Annex:
    """A sheet added after the contract's sheets (the committees a consolidated report sums), values only."""

    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]


def form_number(contract: Contract, sheet: Sheet) -> str:
    """The form's number of a sheet: its place in the contract, "Biểu số 02-TCCSĐ"."""
    return f"Biểu số {contract.sheets.index(sheet) + 1:02d}-{FORM_CODE}"


def sheet_title(sheet: Sheet) -> str:
    """The sheet's name in the official form: the contract's Vietnamese title (≤ 31 characters)."""
    if len(sheet.title) > 31 or any(ch in sheet.title for ch in "[]:*?/\\"):
        raise ValueError(f"the title of sheet {sheet.name} cannot name a worksheet: {sheet.title!r}")
    return sheet.title


def field_row(sheet: Sheet, field_name: str) -> int:
    """The row of a key/value sheet's field in the official form."""
    return HEADER_ROW + 1 + sheet.field_names.index(field_name)


def write_template(path: Path, contract: Contract | None = None, provinces: Sequence[str] = ()) -> Path:
    """The blank official template: instructions, every contract sheet with drop-down lists that refuse other
    values, and ``tong_hop``'s detail totals as formulas over the detail sheets. ``provinces``: the province
    drop-down (the caller knows the units; without them the cell takes any text)."""
    contract = contract or load_contract()
    workbook = _empty_workbook()
    _instructions(workbook.create_sheet(INSTRUCTIONS_SHEET), contract)
    lists = _value_lists(workbook, contract, provinces)
    header, blanks = _template_header(contract)
    for sheet in contract.sheets:
        worksheet = workbook.create_sheet(sheet_title(sheet))
        _lay_out(worksheet, contract, sheet, header, None)
        _add_validations(worksheet, sheet, contract, provinces, lists)
        if sheet.layout == "table":
            _border_rows(worksheet, len(sheet.fields), HEADER_ROW + 1, HEADER_ROW + BORDERED_ROWS)
    workbook.move_sheet(LISTS_SHEET, offset=len(workbook.sheetnames))
    workbook.calculation.fullCalcOnLoad = True
    _save(workbook, path)
    _cache_blank_values(path, workbook, blanks)
    return path


def write_form(
    path: Path, report: ReportData, header: FormHeader, contract: Contract | None = None, annexes: Sequence[Annex] = ()
) -> Path:
    """The official form filled with values only: every text is written as text, never as a formula (a name
    starting with = + - @ stays that name)."""
    contract = contract or load_contract()
    workbook = _empty_workbook()
    for sheet in contract.sheets:
        if sheet.name not in report:
            continue
        _lay_out(workbook.create_sheet(sheet_title(sheet)), contract, sheet, header, report[sheet.name])
    for annex in annexes:
        _annex(workbook.create_sheet(annex.title[:31]), annex, header)
    return _save(workbook, path)


def put(cell: Any, value: Any) -> None:
    """A value into a cell, a text always as text (formula injection: "=HYPERLINK(…)" is a name, not a link)."""
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"


def _empty_workbook() -> Workbook:
    workbook = Workbook()
    default_sheet = workbook.active  # a new workbook has one blank sheet
    if default_sheet is not None:
        workbook.remove(default_sheet)
    return workbook


def _save(workbook: Workbook, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path


def _reference(sheet: Sheet, column: int, first: int, last: int | None = None) -> str:
    """An absolute reference to a cell or a column's range on a sheet of the form."""
    letter = get_column_letter(column)
    cells = f"${letter}${first}" if last is None else f"${letter}${first}:${letter}${last}"
    return f"{quote_sheetname(sheet_title(sheet))}!{cells}"


def _template_header(contract: Contract) -> tuple[FormHeader, dict[str, str]]:
    """The header lines as formulas over «Thông tin chung», so that every table's header fills itself in; and each
    formula's value while that sheet is blank."""
    info = contract.sheet("thong_tin")

    def value(field_name: str) -> str:
        return _reference(info, 2, field_row(info, field_name))

    blanks: dict[str, str] = {}

    def line(field_name: str, filled: str, blank: str) -> str:
        formula = f'=IF({value(field_name)}="","{blank}",{filled})'
        blanks[formula] = blank
        return formula

    header = FormHeader(
        party_committee=line("province", f'"ĐẢNG BỘ "&UPPER({value("province")})', "ĐẢNG BỘ TỈNH, THÀNH PHỐ ……"),
        reporting_unit=line(
            "committee_name", f'"Đơn vị báo cáo: "&{value("committee_name")}', "Đơn vị báo cáo (tên đảng bộ): ……"
        ),
        period=line("report_year", f'"Kỳ báo cáo: năm "&{value("report_year")}', "Kỳ báo cáo: năm ……"),
        formulas=True,
    )
    return header, blanks


def _cache_blank_values(path: Path, workbook: Workbook, blanks: Mapping[str, str]) -> None:
    """Give every formula of the saved blank template the value it has while the form is empty (a header
    line's blank text, 0 for a total), as Excel and LibreOffice save them: the blank template then reads
    and previews as it is. ``fullCalcOnLoad`` makes a spreadsheet compute them again on opening."""
    parts: dict[str, dict[str, str]] = {}
    for number, worksheet in enumerate(workbook.worksheets, start=1):
        for row in worksheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    parts.setdefault(f"xl/worksheets/sheet{number}.xml", {})[cell.coordinate] = blanks.get(
                        str(cell.value), ""
                    )
    staged = path.with_name(path.name + ".part")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(staged, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename in parts:
                data = _with_cached_values(data.decode("utf-8"), parts[info.filename]).encode("utf-8")
            target.writestr(info, data)
    staged.replace(path)


FORMULA_CELL = re.compile(r'<c r="([A-Z]+[0-9]+)"([^>]*)><f>(.*?)</f><v\s*/></c>')


def _with_cached_values(document: str, cached: Mapping[str, str]) -> str:
    def cell(match: re.Match[str]) -> str:
        reference, attributes, formula = match.groups()
        if reference not in cached:
            return match.group(0)
        text = cached[reference]
        if text:
            return f'<c r="{reference}"{attributes} t="str"><f>{formula}</f><v>{escape(text)}</v></c>'
        return f'<c r="{reference}"{attributes}><f>{formula}</f><v>0</v></c>'

    return FORMULA_CELL.sub(cell, document)


def _lay_out(
    worksheet: Any,
    contract: Contract,
    sheet: Sheet,
    header: FormHeader,
    content: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None,
) -> None:
    """One contract sheet as the official form: header block, column headers, values, signature, print setup."""
    matrix = sheet_matrix(sheet, content)
    width = len(matrix[0])
    _header_block(worksheet, width, header, sheet.title.upper(), form_number(contract, sheet))
    for offset, row in enumerate(matrix):
        for column, value in enumerate(row, start=1):
            cell = worksheet.cell(row=HEADER_ROW + offset, column=column)
            put(cell, value)
            cell.border = BOX
            if offset == 0:
                cell.font = Font(bold=True)
                cell.fill = HEADER_FILL
                cell.alignment = Alignment(wrap_text=True, horizontal="center", vertical="center")
    if sheet.layout == "key_value":
        worksheet.column_dimensions["A"].width = 52
        worksheet.column_dimensions["B"].width = 40
        if content is None:
            _key_value_template(worksheet, contract, sheet)
    else:
        for column, field_ in enumerate(sheet.fields, start=1):
            worksheet.column_dimensions[get_column_letter(column)].width = max(9, min(24, len(field_.header) * 0.8))
        worksheet.row_dimensions[HEADER_ROW].height = 48
        worksheet.freeze_panes = worksheet.cell(row=HEADER_ROW + 1, column=1)
    if sheet.name == "tong_hop":
        _signature(worksheet, HEADER_ROW + len(matrix) + 1, header)
    _print_setup(worksheet)


def _header_block(worksheet: Any, width: int, header: FormHeader, title: str, number: str) -> None:
    right = max(width, 2)
    for row, line in enumerate((header.party_committee, header.reporting_unit, header.period), start=1):
        if header.formulas:
            worksheet.cell(row=row, column=1).value = line
        else:
            put(worksheet.cell(row=row, column=1), line)
    put(worksheet.cell(row=1, column=right), PARTY)
    put(worksheet.cell(row=2, column=right), number)
    worksheet.cell(row=1, column=1).font = Font(bold=True)
    worksheet.cell(row=1, column=right).font = Font(bold=True)
    for row in (1, 2):
        worksheet.cell(row=row, column=right).alignment = Alignment(horizontal="right")
    put(worksheet.cell(row=4, column=1), title)
    put(worksheet.cell(row=5, column=1), header.note)
    worksheet.cell(row=4, column=1).font = Font(bold=True, size=14)
    worksheet.cell(row=5, column=1).font = Font(italic=True)
    for row in (4, 5):
        worksheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=right)
        worksheet.cell(row=row, column=1).alignment = Alignment(horizontal="center")


def _signature(worksheet: Any, first_row: int, header: FormHeader) -> None:
    """Under the totals: who prepared the form and the Standing Committee's signature."""
    lines = (
        ("", header.place_and_date),
        ("NGƯỜI LẬP BIỂU", "T/M BAN THƯỜNG VỤ"),
        ("(Ký, ghi rõ họ tên)", "BÍ THƯ"),
        ("", "(Ký tên, đóng dấu)"),
        ("", ""),
        ("", ""),
        ("", ""),
        (header.signer, ""),
    )
    for offset, (left, right) in enumerate(lines):
        for column, text in ((1, left), (2, right)):
            if text:
                cell = worksheet.cell(row=first_row + offset, column=column)
                put(cell, text)
                cell.alignment = Alignment(horizontal="center")
                cell.font = Font(bold=text.isupper(), italic=text.startswith(("(", "……")) or "ngày" in text)


def _print_setup(worksheet: Any) -> None:
    """A4 landscape, the column headers repeated on every page, the width fitted to one page."""
    worksheet.page_setup.orientation = "landscape"
    worksheet.page_setup.paperSize = worksheet.PAPERSIZE_A4
    worksheet.page_setup.fitToWidth = 1
    worksheet.page_setup.fitToHeight = 0
    worksheet.sheet_properties.pageSetUpPr.fitToPage = True
    worksheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    worksheet.print_options.horizontalCentered = True
    worksheet.page_margins.left = worksheet.page_margins.right = 0.4
    worksheet.page_margins.top = worksheet.page_margins.bottom = 0.5


def _border_rows(worksheet: Any, width: int, first: int, last: int) -> None:
    for row in range(first, last + 1):
        for column in range(1, width + 1):
            worksheet.cell(row=row, column=column).border = BOX


def _key_value_template(worksheet: Any, contract: Contract, sheet: Sheet) -> None:
    """The value cells of a blank key/value sheet: text formats, and tong_hop's detail totals as formulas."""
    for field_ in sheet.fields:
        cell = worksheet.cell(row=field_row(sheet, field_.name), column=2)
        if field_.type in {"text", "email"}:
            cell.number_format = "@"
        if field_.detail is not None:
            cell.value = "=" + detail_formula(contract, field_.detail)
            cell.fill = COMPUTED_FILL


def detail_formula(contract: Contract, detail: DetailAggregate) -> str:
    """A tong_hop total as a spreadsheet formula over its detail sheet, from the contract's declaration
    (count / sum, with ``where`` and ``any_of``), as dbt's ``detail_aggregate`` macro computes it."""
    sheet = contract.sheet(detail.sheet)

    def column(field_name: str) -> str:
        return _reference(sheet, sheet.field_names.index(field_name) + 1, HEADER_ROW + 1, HEADER_ROW + TEMPLATE_ROWS)

    rows = f'({column(sheet.key[-1])}<>"")'  # a row is there when its key is
    conditions = [rows] + [
        _condition(contract, sheet, name, wanted, column(name)) for name, wanted in detail.where.items()
    ]
    if detail.aggregate == "sum" and detail.column is not None:
        if not detail.where:
            return f"SUM({column(detail.column)})"
        return f"SUMPRODUCT({'*'.join(conditions)}*{column(detail.column)})"
    if detail.any_of:
        given = "+".join(_given(sheet.field(name), column(name)) for name in detail.any_of)
        conditions.append(f"(({given})>0)")
    return f"SUMPRODUCT({'*'.join(conditions)})"


def _given(field_: Field, cells: str) -> str:
    """Cells holding a value: a yes/no answered yes, anything else filled in (``any_of``)."""
    if field_.type == "boolean":
        return f'({cells}="{BOOLEAN_LABELS[0]}")'
    return f'({cells}<>"")'


def _condition(contract: Contract, sheet: Sheet, field_name: str, wanted: str, cells: str) -> str:
    """``where: {field: code}`` as a test of the cells: the label the drop-down writes, or the number."""
    field_ = sheet.field(field_name)
    labels = {value.code: value.label for value in contract.values_for(field_)}
    if wanted in labels:
        return f'({cells}="{labels[wanted]}")'
    if field_.type in {"integer", "decimal"}:
        return f'({cells}<>"")*({cells}={wanted})'
    return f'({cells}="{wanted}")'


def _list_labels(contract: Contract, sheet: Sheet, provinces: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """Field name → the labels its drop-down offers."""
    labels: dict[str, tuple[str, ...]] = {}
    for field_ in sheet.fields:
        if field_.name == "province" and provinces:
            labels[field_.name] = tuple(provinces)
        elif field_.type == "boolean":
            labels[field_.name] = BOOLEAN_LABELS
        elif contract.values_for(field_):
            labels[field_.name] = tuple(value.label for value in contract.values_for(field_))
    return labels


def _value_lists(workbook: Workbook, contract: Contract, provinces: Sequence[str]) -> dict[tuple[str, ...], str]:
    """The hidden sheet of drop-down values, one column per list; list → its absolute range."""
    worksheet = workbook.create_sheet(LISTS_SHEET)
    worksheet.sheet_state = "hidden"
    ranges: dict[tuple[str, ...], str] = {}
    for sheet in contract.sheets:
        for labels in _list_labels(contract, sheet, provinces).values():
            if labels in ranges:
                continue
            column = len(ranges) + 1
            for row, label in enumerate(labels, start=1):
                put(worksheet.cell(row=row, column=column), label)
            letter = get_column_letter(column)
            ranges[labels] = f"{quote_sheetname(LISTS_SHEET)}!${letter}$1:${letter}${len(labels)}"
    return ranges


def _add_validations(
    worksheet: Any, sheet: Sheet, contract: Contract, provinces: Sequence[str], lists: Mapping[tuple[str, ...], str]
) -> None:
    """Drop-down lists that refuse any other value, and whole numbers ≥ 0 in the integer cells."""
    labels = _list_labels(contract, sheet, provinces)
    for index, field_ in enumerate(sheet.fields):
        if sheet.layout == "table":
            letter = get_column_letter(index + 1)
            cells = f"{letter}{HEADER_ROW + 1}:{letter}{HEADER_ROW + TEMPLATE_ROWS}"
        elif field_.detail is None:
            cells = f"B{field_row(sheet, field_.name)}"
        else:
            continue  # computed by a formula
        choices = lists.get(labels[field_.name]) if field_.name in labels else None
        if choices is not None:
            validation = DataValidation(type="list", formula1=choices)
            validation.error = (
                f"«{field_.header}»: hãy chọn một giá trị trong danh sách thả xuống; giá trị khác không được nhận."
            )
        elif field_.type == "integer":
            validation = DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0")
            validation.error = f"«{field_.header}»: hãy nhập một số nguyên không âm."
        else:
            continue
        validation.allow_blank = True
        validation.showErrorMessage = True
        validation.errorStyle = "stop"
        validation.errorTitle = ERROR_TITLE
        validation.add(cells)
        worksheet.add_data_validation(validation)


def _instructions(worksheet: Any, contract: Contract) -> None:
    """The «Hướng dẫn» sheet: how to fill the form, then every column of every sheet, from the contract."""
    info, totals = contract.sheet("thong_tin"), contract.sheet("tong_hop")
    forms = "; ".join(f"{form_number(contract, s)}: {s.title}" for s in contract.sheets)
    lines = (
        "HƯỚNG DẪN ĐIỀN BIỂU BÁO CÁO THỐNG KÊ TỔ CHỨC CƠ SỞ ĐẢNG VÀ ĐẢNG VIÊN",
        "",
        f"1. Bộ biểu gồm: {forms}.",
        f"2. Điền trang «{info.title}» trước: phần đầu của các biểu khác (đảng bộ, đơn vị báo cáo, kỳ báo cáo) tự lấy "
        "từ trang này.",
        "3. Ở các ô có danh sách thả xuống (tỉnh, cấp, loại hình, khối, loại chi bộ, loại thôn, xếp loại, có/không), "
        "chỉ chọn một giá trị trong danh sách; giá trị khác sẽ bị từ chối.",
        "4. Trong các biểu chi tiết, mỗi tổ chức cơ sở đảng, chi bộ, thôn, bản, tổ dân phố ghi trên một dòng, "
        "không chèn dòng cộng, không gộp ô.",
        f"5. Trang «{totals.title}»: các ô tô màu được tính tự động từ các biểu chi tiết, không ghi đè; "
        "các chỉ tiêu còn lại điền trực tiếp.",
        "6. Số liệu tính đến ngày 31 tháng 12 của năm báo cáo.",
        "7. Không đổi tên trang, không xóa hoặc đổi tên cột. Lưu tệp dạng .xlsx rồi gửi cho Ban Tổ chức.",
        "",
    )
    for row, text in enumerate(lines, start=1):
        put(worksheet.cell(row=row, column=1), text)
    worksheet.cell(row=1, column=1).font = Font(bold=True, size=14)
    table = len(lines) + 1
    for column, text in enumerate(("Biểu", "Chỉ tiêu, cột", "Bắt buộc", "Đơn vị tính", "Cách điền"), start=1):
        cell = worksheet.cell(row=table, column=column)
        put(cell, text)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.border = BOX
    row = table
    for sheet in contract.sheets:
        for field_ in sheet.fields:
            row += 1
            values = (
                sheet.title,
                field_.header,
                "Có" if field_.required else "",
                field_.unit or "",
                _how_to(contract, field_),
            )
            for column, value in enumerate(values, start=1):
                put(worksheet.cell(row=row, column=column), value)
                worksheet.cell(row=row, column=column).border = BOX
    for letter, width in zip("ABCDE", (24, 46, 10, 12, 60), strict=True):
        worksheet.column_dimensions[letter].width = width
    worksheet.column_dimensions["A"].width = 24
    _print_setup(worksheet)
    worksheet.print_title_rows = f"{table}:{table}"


def _how_to(contract: Contract, field_: Field) -> str:
    if field_.detail is not None:
        return f"Tự tính từ biểu «{contract.sheet(field_.detail.sheet).title}»"
    if field_.type == "boolean" or contract.values_for(field_) or field_.name == "province":
        return "Chọn trong danh sách"
    return {
        "integer": "Số nguyên",
        "decimal": "Số, phần thập phân sau dấu phẩy",
        "date": "Ngày/tháng/năm",
        "email": "Địa chỉ thư điện tử",
    }.get(field_.type, "Chữ")


def column_texts(annex: Annex, column: int) -> list[str]:
    """The texts of an annex column, its header's words included (a header wraps between words)."""
    return [*annex.header[column - 1].split(), *(str(row[column - 1]) for row in annex.rows)]


def _annex(worksheet: Any, annex: Annex, header: FormHeader) -> None:
    """An annex sheet of the filled form: the header block, then its table, values only."""
    width = len(annex.header)
    _header_block(worksheet, width, header, annex.title.upper(), "")
    for column, text in enumerate(annex.header, start=1):
        cell = worksheet.cell(row=HEADER_ROW, column=column)
        put(cell, text)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.border = BOX
        cell.alignment = Alignment(wrap_text=True, horizontal="center", vertical="center")
        worksheet.column_dimensions[get_column_letter(column)].width = max(
            12, min(44, 1.2 * max(map(len, column_texts(annex, column))) + 2)
        )
    worksheet.row_dimensions[HEADER_ROW].height = 48
    for offset, values in enumerate(annex.rows, start=1):
        for column, value in enumerate(values, start=1):
            cell = worksheet.cell(row=HEADER_ROW + offset, column=column)
            put(cell, value)
            cell.border = BOX
    _print_setup(worksheet)


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
