"""Read a submission (.xlsx/.xlsm/.xls/.ods workbook, CSV, folder or .zip of CSVs) into contract-shaped rows.

The reader maps each sheet and column to the contract, normalises values to canonical text
(``"3.792"`` → ``"3792"``, grade labels → codes, "Có" → ``"true"``) and keeps values it cannot
convert as written, so that validation can name them. It never judges a report: a file it cannot
read at all raises :class:`UnreadableReport` with a Vietnamese message for staff.
"""

from __future__ import annotations

import csv
import io
import re
import struct
import unicodedata
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError

from contract.model import Contract, Field, Sheet, fold, load_contract
from reading.errors import UnreadableReport
from reading.guards import Limits, sniff
from reading.legacy_text import repair_text

__all__ = ["ParsedReport", "ParsedRow", "ParsedSheet", "UnreadableReport", "read_report"]

CSV_SUFFIX = ".csv"
# What the standard library raises on corrupt bytes (a damaged zip member, XML, CSV): a reading error, not a bug.
CORRUPT_DATA_ERRORS = (
    OSError,
    EOFError,
    ValueError,
    KeyError,
    NotImplementedError,
    RecursionError,
    zipfile.BadZipFile,
    zlib.error,
    struct.error,
    csv.Error,
    ParseError,
)
TOTALS_ROW_LABELS = frozenset({"cong", "tong cong", "tong so", "tong"})
HEADER_SEARCH_ROWS = 20
TRUE_WORDS = frozenset({"co", "x", "1", "true", "yes", "c", "dung"})
FALSE_WORDS = frozenset({"khong", "0", "false", "no", "k", "sai"})
GROUPED_INTEGER = re.compile(r"^\d{1,3}([.,\s]\d{3})+$")
DAY_FIRST_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")

Cell = Any


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


# ---------------------------------------------------------------- cell text repair


def repair_matrix(matrix: Sequence[Sequence[Cell]]) -> tuple[list[list[Cell]], Counter[str]]:
    """Text cells repaired: legacy TCVN3/VNI text converted, decomposed (NFD) text composed (NFC).

    A sheet typed in a legacy font is typed in it throughout: once some cells are recognised, the
    encoding found most often is used as a hint for the cells too short or too ambiguous to tell
    alone (VNI «Sôn La»). Returns the repaired cells and how many cells each conversion touched.
    """
    first_pass = [
        [repair_text(cell) if isinstance(cell, str) and cell else (cell, None) for cell in row] for row in matrix
    ]
    found = Counter(legacy for row in first_pass for _, legacy in row if legacy is not None)
    hint = found.most_common(1)[0][0] if found else None
    conversions: Counter[str] = Counter()
    repaired_rows: list[list[Cell]] = []
    for raw_row, repaired_row in zip(matrix, first_pass, strict=True):
        cells: list[Cell] = []
        for raw, (text, legacy) in zip(raw_row, repaired_row, strict=True):
            if hint is not None and legacy is None and isinstance(raw, str) and raw:
                text, legacy = repair_text(raw, hint=hint)
            if legacy is not None:
                conversions[legacy] += 1
            elif isinstance(raw, str) and text != raw:
                conversions["NFC"] += 1
            cells.append(text)
        repaired_rows.append(cells)
    return repaired_rows, conversions


def conversion_notes(conversions: Counter[str]) -> list[str]:
    names = {
        "TCVN3": "chuyển mã TCVN3 (.VnTime) sang Unicode",
        "VNI": "chuyển mã VNI sang Unicode",
        "NFC": "chuẩn hóa Unicode dựng sẵn (NFC)",
    }
    return [f"{names.get(kind, kind)}: {count} ô" for kind, count in sorted(conversions.items())]


# ---------------------------------------------------------------- layout


def header_index(sheet: Sheet) -> dict[str, Field]:
    """Folded spelling → field, for one sheet."""
    return {fold(spelling): field_ for field_ in sheet.fields for spelling in field_.spellings()}


def match_field(sheet: Sheet, header: Cell, index: dict[str, Field] | None = None) -> Field | None:
    folded = fold(clean_text(header) or "")
    if not folded:
        return None
    return (index if index is not None else header_index(sheet)).get(folded)


def match_sheet(contract: Contract, source_name: str) -> Sheet | None:
    folded = fold(Path(source_name).stem).replace(" ", "_")
    for sheet in contract.sheets:
        if folded in {sheet.name, fold(sheet.title).replace(" ", "_")}:
            return sheet
    return None


def header_labels(matrix: Sequence[Sequence[Cell]], row_index: int) -> list[list[str]]:
    """Candidate labels of each column if the header ends on ``row_index``.

    Handles two-row headers: a group cell ("Đảng viên", merged over several columns, so only its first
    cell holds the text) above "Tổng số | Chính thức | Dự bị", and single headers merged down over both
    rows. Each column gets, most specific first: group + own label, own label, label of the row above.
    """
    own = [clean_text(cell) for cell in matrix[row_index]]
    above = [clean_text(cell) for cell in matrix[row_index - 1]] if row_index > 0 else []
    width = max(len(own), len(above))
    own += [None] * (width - len(own))
    above += [None] * (width - len(above))
    labels: list[list[str]] = []
    group: str | None = None
    for own_label, above_label in zip(own, above, strict=True):
        if above_label is not None:
            group = above_label
        elif own_label is None:
            group = None
        candidates: list[str] = []
        if own_label is not None and group is not None:
            candidates.append(f"{group} - {own_label}")
        if own_label is not None:
            candidates.append(own_label)
        if own_label is None and above_label is not None:
            candidates.append(above_label)
        labels.append(candidates)
    return labels


def map_columns(sheet: Sheet, labels: list[list[str]], index: dict[str, Field]) -> dict[int, tuple[Field, str]]:
    """Column position → (field, header as written), first match per field."""
    mapped: dict[int, tuple[Field, str]] = {}
    taken: set[str] = set()
    for position, candidates in enumerate(labels):
        for label in candidates:
            field_ = match_field(sheet, label, index)
            if field_ is not None and field_.name not in taken:
                mapped[position] = (field_, label)
                taken.add(field_.name)
                break
    return mapped


def find_header(
    sheet: Sheet, matrix: Sequence[Sequence[Cell]], index: dict[str, Field]
) -> tuple[int, dict[int, tuple[Field, str]]] | None:
    """The header row (its last row, for a two-row header) naming the most contract fields (at least two)."""
    best: tuple[int, dict[int, tuple[Field, str]]] | None = None
    for row_index in range(min(HEADER_SEARCH_ROWS, len(matrix))):
        mapped = map_columns(sheet, header_labels(matrix, row_index), index)
        if len(mapped) >= 2 and (best is None or len(mapped) > len(best[1])):
            best = (row_index, mapped)
    return best


def is_blank(row: Sequence[Cell]) -> bool:
    return all(clean_text(cell) is None for cell in row)


def is_totals_row(row: Sequence[Cell]) -> bool:
    first = next((clean_text(cell) for cell in row if clean_text(cell) is not None), None)
    return first is not None and fold(first) in TOTALS_ROW_LABELS


def read_table(contract: Contract, sheet: Sheet, source_name: str, matrix: Sequence[Sequence[Cell]]) -> ParsedSheet:
    index = header_index(sheet)
    found = find_header(sheet, matrix, index)
    if found is None:
        parsed = ParsedSheet(sheet.name, source_name, None, [])
        parsed.notes.append("không tìm thấy dòng tiêu đề cột")
        return parsed
    header_row, mapped = found
    parsed = ParsedSheet(sheet.name, source_name, header_row + 1, [])
    parsed.columns = {field_.name: label for field_, label in mapped.values()}
    positions = {field_.name: position for position, (field_, _) in mapped.items()}
    for position, candidates in enumerate(header_labels(matrix, header_row)):
        if position not in mapped and candidates:
            parsed.notes.append(f"bỏ qua cột không có trong mẫu: «{candidates[0]}»")
    own_header = matrix[header_row]
    if any(label != clean_text(own_header[p] if p < len(own_header) else None) for p, (_, label) in mapped.items()):
        parsed.notes.append(f"tiêu đề cột hai dòng (dòng {header_row} và {header_row + 1})")
    for row_number in range(header_row + 1, len(matrix)):
        row = matrix[row_number]
        if is_blank(row):
            continue
        if is_totals_row(row):
            parsed.notes.append(f"bỏ dòng tổng cộng ở dòng {row_number + 1}")
            continue
        values: dict[str, str | None] = {}
        for field_ in sheet.fields:
            column = positions.get(field_.name)
            cell = row[column] if column is not None and column < len(row) else None
            values.update(normalise_value(contract, field_, cell))
        parsed.rows.append(ParsedRow(row_number + 1, values))
    return parsed


def read_key_value(contract: Contract, sheet: Sheet, source_name: str, matrix: Sequence[Sequence[Cell]]) -> ParsedSheet:
    parsed = ParsedSheet(sheet.name, source_name, None, [])
    index = header_index(sheet)
    ignored_headers = {fold("Chỉ tiêu"), fold("Giá trị")}
    for row_number, row in enumerate(matrix):
        cells = [cell for cell in row if clean_text(cell) is not None]
        if not cells:
            continue
        field_ = match_field(sheet, cells[0], index)
        if field_ is None:
            if fold(clean_text(cells[0]) or "") not in ignored_headers:
                parsed.notes.append(f"bỏ qua dòng {row_number + 1}: «{clean_text(cells[0])}» không có trong mẫu")
            continue
        if field_.name in parsed.columns:
            parsed.notes.append(f"dòng {row_number + 1}: «{field_.header}» lặp lại, bỏ qua")
            continue
        parsed.columns[field_.name] = clean_text(cells[0]) or ""
        value = normalise_value(contract, field_, cells[1] if len(cells) > 1 else None)[field_.name]
        parsed.rows.append(
            ParsedRow(row_number + 1, {"header_as_written": clean_text(cells[0]), "field": field_.name, "value": value})
        )
    return parsed


def read_sheets(
    contract: Contract,
    file_name: str,
    named_matrices: Iterable[tuple[str, Sequence[Sequence[Cell]]]],
    limits: Limits | None = None,
) -> ParsedReport:
    limits = limits or Limits()
    report = ParsedReport(file_name, {})
    for source_name, raw_matrix in named_matrices:
        sheet = match_sheet(contract, source_name)
        if sheet is None:
            report.notes.append(f"bỏ qua trang «{source_name}»: không có trong mẫu báo cáo")
            continue
        if sheet.name in report.sheets:
            raise UnreadableReport(
                f"Trang «{sheet.name}» xuất hiện hai lần trong tệp («{report.sheets[sheet.name].source_name}» và "
                f"«{source_name}»); hãy giữ lại một trang rồi gửi lại.",
                f"duplicate sheet {sheet.name} ({report.sheets[sheet.name].source_name!r}, {source_name!r})",
            )
        if len(raw_matrix) > limits.max_rows_per_sheet:
            raise UnreadableReport(
                f"Trang «{source_name}» có {len(raw_matrix)} dòng, vượt giới hạn {limits.max_rows_per_sheet} dòng. "
                "Hãy kiểm tra lại tệp (có thể có dòng thừa đến cuối trang).",
                f"{file_name}: sheet {source_name!r} has {len(raw_matrix)} rows over {limits.max_rows_per_sheet}",
            )
        matrix, conversions = repair_matrix(raw_matrix)
        reader = read_key_value if sheet.layout == "key_value" else read_table
        parsed = reader(contract, sheet, source_name, matrix)
        parsed.notes = conversion_notes(conversions) + parsed.notes
        report.sheets[sheet.name] = parsed
    if not report.sheets:
        raise UnreadableReport(
            "Tệp không có trang nào theo mẫu báo cáo (thong_tin, to_chuc_co_so, chi_bo, thon_ban, tong_hop). "
            "Hãy dùng mẫu do Ban Tổ chức phát hành (lệnh `chibo template`).",
            f"no contract sheet in {file_name}",
        )
    return report


# ---------------------------------------------------------------- file formats

SPREADSHEET_ML = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
RELATIONSHIPS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PACKAGE_RELATIONSHIPS = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def ooxml_sheet_paths(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name → path of its XML part inside an .xlsx/.xlsm."""
    from xml.etree import ElementTree

    workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    relations = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {rel.get("Id"): rel.get("Target", "") for rel in relations.iter(f"{PACKAGE_RELATIONSHIPS}Relationship")}
    paths: dict[str, str] = {}
    for sheet in workbook.iter(f"{SPREADSHEET_ML}sheet"):
        target = targets.get(sheet.get(f"{RELATIONSHIPS}id"), "")
        paths[sheet.get("name", "")] = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    return paths


def uncached_formulas(path: Path) -> list[tuple[str, str]]:
    """(sheet, cell) of every formula saved without its computed value (files written by some tools)."""
    from xml.etree import ElementTree

    found: list[tuple[str, str]] = []
    with zipfile.ZipFile(path) as archive:
        for sheet_name, part in ooxml_sheet_paths(archive).items():
            if part not in archive.namelist():
                continue
            with archive.open(part) as handle:
                for _, element in ElementTree.iterparse(handle):
                    if element.tag == f"{SPREADSHEET_ML}c":
                        formula = element.find(f"{SPREADSHEET_ML}f")
                        value = element.find(f"{SPREADSHEET_ML}v")
                        if formula is not None and (value is None or value.text is None):
                            found.append((sheet_name, element.get("r", "?")))
                        element.clear()
    return found


def workbook_matrices(path: Path, kind: str) -> list[tuple[str, list[list[Cell]]]]:
    from python_calamine import CalamineWorkbook, PasswordError

    if kind == "ooxml":
        missing = uncached_formulas(path)
        if missing:
            cells = ", ".join(f"ô {cell} trang «{sheet}»" for sheet, cell in missing[:10])
            raise UnreadableReport(
                f"Tệp có công thức chưa được tính giá trị ({cells}). Hãy mở tệp bằng Excel hoặc LibreOffice, "
                "để chương trình tính lại, lưu rồi gửi lại.",
                f"{path.name}: formulas without cached values at {missing[:10]}",
            )
    try:
        workbook = CalamineWorkbook.from_path(str(path))
        try:
            return [
                (name, workbook.get_sheet_by_name(name).to_python(skip_empty_area=False))
                for name in workbook.sheet_names
            ]
        finally:
            workbook.close()
    except PasswordError as error:
        raise UnreadableReport(
            "Tệp Excel có đặt mật khẩu nên không đọc được. Hãy gỡ mật khẩu rồi gửi lại.",
            f"{path.name}: password protected: {error}",
        ) from error
    except (KeyboardInterrupt, SystemExit, MemoryError):
        raise
    except BaseException as error:  # calamine raises several types, and a Rust panic is a BaseException
        raise UnreadableReport(
            "Không đọc được tệp bảng tính: tệp bị hỏng hoặc không phải tệp Excel/LibreOffice. "
            "Hãy mở tệp bằng Excel hoặc LibreOffice, lưu lại rồi gửi lại.",
            f"calamine could not read {path.name}: {type(error).__name__}: {error}",
        ) from error


def decode_csv(data: bytes, name: str) -> tuple[list[list[str]], str]:
    """CSV bytes → rows, trying UTF-8 (with or without BOM), UTF-16 (BOM) and Windows-1258, in that order."""
    candidates = ["utf-16"] if data.startswith((b"\xff\xfe", b"\xfe\xff")) else ["utf-8-sig", "cp1258"]
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            break
        rows = [list(row) for row in csv.reader(io.StringIO(unicodedata.normalize("NFC", text)))]
        return rows, encoding
    raise UnreadableReport(
        f"Tệp «{name}» không đọc được bằng bảng mã UTF-8, UTF-16 hay Windows-1258. "
        "Hãy lưu lại dưới dạng CSV UTF-8 rồi gửi lại.",
        f"{name}: undecodable CSV",
    )


def bounded_read(archive: zipfile.ZipFile, member: zipfile.ZipInfo, limit: int) -> bytes:
    """Read a member, never more than ``limit`` bytes whatever its header claims."""
    with archive.open(member) as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise UnreadableReport(
            "Tệp nén khi giải nén quá lớn (nghi «bom nén»). Tệp đã được cách ly.",
            f"member {member.filename!r} inflates past {limit} bytes",
        )
    return data


def csv_zip_matrices(path: Path, limits: Limits) -> tuple[list[tuple[str, list[list[str]]]], list[str]]:
    notes: list[str] = []
    matrices: list[tuple[str, list[list[str]]]] = []
    with zipfile.ZipFile(path) as archive:
        members = sorted(
            (info for info in archive.infolist() if info.filename.lower().endswith(CSV_SUFFIX)),
            key=lambda info: info.filename,
        )
        for member in members:
            rows, encoding = decode_csv(bounded_read(archive, member, limits.max_uncompressed_bytes), member.filename)
            matrices.append((Path(member.filename).name, rows))
            notes.append(encoding_note(Path(member.filename).name, encoding))
    return matrices, notes


def encoding_note(name: str, encoding: str) -> str:
    labels = {"utf-8-sig": "UTF-8", "utf-16": "UTF-16", "cp1258": "Windows-1258"}
    return f"«{name}»: bảng mã {labels.get(encoding, encoding)}"


def csv_file_matrices(paths: Iterable[Path], limits: Limits) -> tuple[list[tuple[str, list[list[str]]]], list[str]]:
    notes: list[str] = []
    matrices: list[tuple[str, list[list[str]]]] = []
    for member in paths:
        if member.is_symlink():
            raise UnreadableReport(
                "Thư mục báo cáo chứa liên kết (shortcut) thay cho tệp thật. Hãy chép tệp thật rồi gửi lại.",
                f"symlink {member.name} inside a CSV folder",
            )
        size = member.stat().st_size
        if size > limits.max_file_bytes:
            raise UnreadableReport(
                f"Tệp «{member.name}» quá lớn.", f"{member.name}: {size} bytes over {limits.max_file_bytes}"
            )
        rows, encoding = decode_csv(member.read_bytes(), member.name)
        matrices.append((member.name, rows))
        notes.append(encoding_note(member.name, encoding))
    return matrices, notes


def read_report(path: Path, contract: Contract | None = None, limits: Limits | None = None) -> ParsedReport:
    """Read one submission; raise :class:`UnreadableReport` (and nothing else) if it cannot be read."""
    contract = contract or load_contract()
    limits = limits or Limits()
    try:
        kind = sniff(path, limits)
        notes: list[str] = []
        if kind in {"ooxml", "ods", "xls"}:
            matrices = workbook_matrices(path, kind)
        elif kind == "csv_zip":
            matrices, notes = csv_zip_matrices(path, limits)
        elif kind == "csv_folder":
            members = sorted(p for p in path.iterdir() if p.suffix.lower() == CSV_SUFFIX)
            matrices, notes = csv_file_matrices(members, limits)
        else:
            matrices, notes = csv_file_matrices([path], limits)
        report = read_sheets(contract, path.name, matrices, limits)
    except UnreadableReport:
        raise
    except CORRUPT_DATA_ERRORS as error:
        raise UnreadableReport(
            "Không đọc được tệp: tệp bị hỏng hoặc không đúng định dạng. Hãy lưu lại tệp rồi gửi lại.",
            f"{path.name}: {type(error).__name__}: {error}",
        ) from error
    report.notes = notes + report.notes
    return report
