"""Read a submission (.xlsx workbook, folder of CSVs or .zip of CSVs) into contract-shaped rows.

The reader maps each sheet and column to the contract, normalises values to canonical text
(``"3.792"`` → ``"3792"``, grade labels → codes, "Có" → ``"true"``) and keeps values it cannot
convert as written, so that validation can name them. It never judges a report: a file it cannot
read at all raises :class:`UnreadableReport` with a Vietnamese message for staff.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ingestion.contract import Contract, Field, Sheet, fold, load_contract

CSV_SUFFIX = ".csv"
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
TOTALS_ROW_LABELS = frozenset({"cong", "tong cong", "tong so", "tong"})
HEADER_SEARCH_ROWS = 20
TRUE_WORDS = frozenset({"co", "x", "1", "true", "yes", "c", "dung"})
FALSE_WORDS = frozenset({"khong", "0", "false", "no", "k", "sai"})
GROUPED_INTEGER = re.compile(r"^\d{1,3}([.,\s]\d{3})+$")
DAY_FIRST_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")

Cell = Any


class UnreadableReport(Exception):
    """The file cannot be read as a report. ``message_vi`` is shown to staff, ``detail`` is logged."""

    def __init__(self, message_vi: str, detail: str) -> None:
        super().__init__(detail)
        self.message_vi = message_vi
        self.detail = detail


@dataclass
class ParsedRow:
    sheet_row: int
    values: dict[str, str | None]


@dataclass
class ParsedSheet:
    name: str
    source_name: str
    header_row: int | None
    rows: list[ParsedRow]
    columns: dict[str, str] = field(default_factory=dict)  # contract field → header as written
    missing_required: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class ParsedReport:
    file_name: str
    sheets: dict[str, ParsedSheet]
    notes: list[str] = field(default_factory=list)

    def info(self, field_name: str) -> str | None:
        sheet = self.sheets.get("thong_tin")
        if sheet is None:
            return None
        for row in sheet.rows:
            if row.values["field"] == field_name:
                return row.values["value"]
        return None

    @property
    def report_kind(self) -> str:
        detail = {"to_chuc_co_so", "chi_bo", "thon_ban"}
        return "detailed" if detail & self.sheets.keys() else "aggregate_only"


# ---------------------------------------------------------------- value normalisation


def clean_text(value: Cell) -> str | None:
    """Cell → stripped NFC text, or None when empty."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.isoformat()
    text = unicodedata.normalize("NFC", str(value)).replace("\u00a0", " ")
    text = " ".join(text.split())
    return text or None


def normalise_integer(value: Cell) -> str | None:
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int | float) and float(value).is_integer():
        return str(int(value))
    text = clean_text(value)
    if text is None:
        return None
    compact = text.replace(" ", "")
    if compact.lstrip("-").isdigit():
        return str(int(compact))
    if GROUPED_INTEGER.match(text):
        return str(int(re.sub(r"[.,\s]", "", text)))
    return text


def normalise_decimal(value: Cell) -> str | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return repr(float(value)).removesuffix(".0") if float(value).is_integer() else repr(float(value))
    text = clean_text(value)
    if text is None:
        return None
    candidate = text.removesuffix("%").strip().replace(" ", "")
    if re.fullmatch(r"-?\d+([.,]\d+)?", candidate):
        return candidate.replace(",", ".")
    return text


def normalise_boolean(value: Cell) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    text = clean_text(value)
    if text is None:
        return None
    folded = fold(text)
    if folded in TRUE_WORDS:
        return "true"
    if folded in FALSE_WORDS:
        return "false"
    return text


def normalise_date(value: Cell) -> str | None:
    text = clean_text(value)
    if text is None:
        return None
    match = DAY_FIRST_DATE.match(text)
    if match:
        day, month, year = (int(part) for part in match.groups())
        try:
            return date(year, month, day).isoformat()
        except ValueError:
            return text
    return text


def match_code(text: str | None, spellings_by_code: dict[str, str]) -> str | None:
    """Folded spelling → code lookup; unknown text is returned as written."""
    if text is None:
        return None
    return spellings_by_code.get(fold(text), text)


def spelling_index(contract: Contract, field_: Field) -> dict[str, str]:
    return {fold(s): value.code for value in contract.values_for(field_) for s in value.spellings()}


def normalise_value(contract: Contract, field_: Field, value: Cell) -> dict[str, str | None]:
    """One cell → the raw column(s) it fills: ``{name: canonical}`` (+ ``name_label`` for grades)."""
    if field_.type == "integer":
        return {field_.name: normalise_integer(value)}
    if field_.type == "decimal":
        return {field_.name: normalise_decimal(value)}
    if field_.type == "boolean":
        return {field_.name: normalise_boolean(value)}
    if field_.type == "date":
        return {field_.name: normalise_date(value)}
    text = clean_text(value)
    if field_.type == "enum":
        return {field_.name: match_code(text, spelling_index(contract, field_))}
    if field_.type == "grade":
        return {field_.name: match_code(text, spelling_index(contract, field_)), f"{field_.name}_label": text}
    return {field_.name: text}


# ---------------------------------------------------------------- layout


def match_field(sheet: Sheet, header: Cell) -> Field | None:
    folded = fold(clean_text(header) or "")
    if not folded:
        return None
    for field_ in sheet.fields:
        if folded in {fold(s) for s in field_.spellings()}:
            return field_
    return None


def match_sheet(contract: Contract, source_name: str) -> Sheet | None:
    folded = fold(Path(source_name).stem).replace(" ", "_")
    for sheet in contract.sheets:
        if folded in {sheet.name, fold(sheet.title).replace(" ", "_")}:
            return sheet
    return None


def find_header_row(sheet: Sheet, matrix: Sequence[Sequence[Cell]]) -> int | None:
    """Index of the first row (within the first rows) naming at least two contract fields."""
    for index, row in enumerate(matrix[:HEADER_SEARCH_ROWS]):
        if sum(1 for cell in row if match_field(sheet, cell)) >= 2:
            return index
    return None


def is_blank(row: Sequence[Cell]) -> bool:
    return all(clean_text(cell) is None for cell in row)


def is_totals_row(row: Sequence[Cell]) -> bool:
    first = next((clean_text(cell) for cell in row if clean_text(cell) is not None), None)
    return first is not None and fold(first) in TOTALS_ROW_LABELS


def read_table(contract: Contract, sheet: Sheet, source_name: str, matrix: Sequence[Sequence[Cell]]) -> ParsedSheet:
    header_index = find_header_row(sheet, matrix)
    parsed = ParsedSheet(sheet.name, source_name, None if header_index is None else header_index + 1, [])
    if header_index is None:
        parsed.missing_required = [f.name for f in sheet.fields if f.required]
        parsed.notes.append("không tìm thấy dòng tiêu đề cột")
        return parsed
    positions: dict[int, Field] = {}
    for position, header in enumerate(matrix[header_index]):
        field_ = match_field(sheet, header)
        if field_ is not None and field_.name not in parsed.columns:
            positions[position] = field_
            parsed.columns[field_.name] = clean_text(header) or ""
        elif clean_text(header) is not None:
            parsed.notes.append(f"bỏ qua cột không có trong mẫu: «{clean_text(header)}»")
    parsed.missing_required = [f.name for f in sheet.fields if f.required and f.name not in parsed.columns]
    for index in range(header_index + 1, len(matrix)):
        row = matrix[index]
        if is_blank(row):
            continue
        if is_totals_row(row):
            parsed.notes.append(f"bỏ dòng tổng cộng ở dòng {index + 1}")
            continue
        values: dict[str, str | None] = {}
        for field_ in sheet.fields:
            position = next((p for p, f in positions.items() if f is field_), None)
            cell = row[position] if position is not None and position < len(row) else None
            values.update(normalise_value(contract, field_, cell))
        parsed.rows.append(ParsedRow(index + 1, values))
    return parsed


def read_key_value(contract: Contract, sheet: Sheet, source_name: str, matrix: Sequence[Sequence[Cell]]) -> ParsedSheet:
    parsed = ParsedSheet(sheet.name, source_name, None, [])
    for index, row in enumerate(matrix):
        cells = [cell for cell in row if clean_text(cell) is not None]
        if not cells:
            continue
        field_ = match_field(sheet, cells[0])
        if field_ is None:
            if fold(clean_text(cells[0]) or "") not in {fold("Chỉ tiêu"), fold("Giá trị")}:
                parsed.notes.append(f"bỏ qua dòng {index + 1}: «{clean_text(cells[0])}» không có trong mẫu")
            continue
        if field_.name in parsed.columns:
            parsed.notes.append(f"dòng {index + 1}: «{field_.header}» lặp lại, bỏ qua")
            continue
        parsed.columns[field_.name] = clean_text(cells[0]) or ""
        value = normalise_value(contract, field_, cells[1] if len(cells) > 1 else None)[field_.name]
        parsed.rows.append(
            ParsedRow(index + 1, {"header_as_written": clean_text(cells[0]), "field": field_.name, "value": value})
        )
    parsed.missing_required = [f.name for f in sheet.fields if f.required and f.name not in parsed.columns]
    return parsed


def read_sheets(
    contract: Contract, file_name: str, named_matrices: Iterable[tuple[str, Sequence[Sequence[Cell]]]]
) -> ParsedReport:
    report = ParsedReport(file_name, {})
    for source_name, matrix in named_matrices:
        sheet = match_sheet(contract, source_name)
        if sheet is None:
            report.notes.append(f"bỏ qua trang «{source_name}»: không có trong mẫu báo cáo")
            continue
        if sheet.name in report.sheets:
            raise UnreadableReport(
                f"Trang «{sheet.name}» xuất hiện hai lần trong tệp; hãy giữ lại một trang rồi gửi lại.",
                f"duplicate sheet {sheet.name} ({source_name})",
            )
        reader = read_key_value if sheet.layout == "key_value" else read_table
        report.sheets[sheet.name] = reader(contract, sheet, source_name, matrix)
    if not report.sheets:
        raise UnreadableReport(
            "Tệp không có trang nào theo mẫu báo cáo (thong_tin, to_chuc_co_so, chi_bo, thon_ban, tong_hop). "
            "Hãy dùng mẫu do Ban Tổ chức phát hành (lệnh `chibo template`).",
            f"no contract sheet in {file_name}",
        )
    return report


# ---------------------------------------------------------------- file formats


def workbook_matrices(path: Path) -> list[tuple[str, list[list[Cell]]]]:
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
        return [
            (name, workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)) for name in workbook.sheet_names
        ]
    except Exception as error:  # calamine raises several error types for a broken file
        raise UnreadableReport(
            "Không đọc được tệp bảng tính: tệp bị hỏng hoặc không phải tệp Excel. "
            "Hãy mở tệp bằng Excel hoặc LibreOffice, lưu lại dưới dạng .xlsx rồi gửi lại.",
            f"calamine could not read {path.name}: {type(error).__name__}: {error}",
        ) from error


def decode_csv(data: bytes, name: str) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UnreadableReport(
            f"Tệp «{name}» không phải văn bản UTF-8. Hãy lưu lại dưới dạng CSV UTF-8 rồi gửi lại.",
            f"{name}: not UTF-8: {error}",
        ) from error
    return [list(row) for row in csv.reader(io.StringIO(text))]


def csv_zip_matrices(path: Path) -> list[tuple[str, list[list[str]]]]:
    try:
        with zipfile.ZipFile(path) as archive:
            members = sorted(
                (info for info in archive.infolist() if info.filename.lower().endswith(CSV_SUFFIX)),
                key=lambda info: info.filename,
            )
            return [(Path(m.filename).name, decode_csv(archive.read(m), m.filename)) for m in members]
    except zipfile.BadZipFile as error:
        raise UnreadableReport(
            "Tệp .zip bị hỏng, không giải nén được. Hãy nén lại các tệp CSV rồi gửi lại.",
            f"bad zip {path.name}: {error}",
        ) from error


def csv_folder_matrices(path: Path) -> list[tuple[str, list[list[str]]]]:
    return [
        (member.name, decode_csv(member.read_bytes(), member.name))
        for member in sorted(path.iterdir())
        if member.is_file() and member.suffix.lower() == CSV_SUFFIX
    ]


def read_report(path: Path, contract: Contract | None = None) -> ParsedReport:
    """Read one submission from the inbox; raise :class:`UnreadableReport` if it cannot be read."""
    contract = contract or load_contract()
    suffix = path.suffix.lower()
    if path.is_file() and path.stat().st_size == 0:
        raise UnreadableReport("Tệp rỗng (0 byte). Hãy gửi lại tệp báo cáo.", f"empty file {path.name}")
    if path.is_dir():
        matrices = csv_folder_matrices(path)
    elif suffix in WORKBOOK_SUFFIXES:
        matrices = workbook_matrices(path)
    elif suffix == ".zip":
        matrices = csv_zip_matrices(path)
    else:
        raise UnreadableReport(
            f"Định dạng tệp «{path.suffix}» không được nhận. "
            "Hãy gửi lại dưới dạng tệp .xlsx hoặc tệp .zip chứa các tệp CSV.",
            f"unsupported suffix {path.suffix!r} for {path.name}",
        )
    return read_sheets(contract, path.name, matrices)
