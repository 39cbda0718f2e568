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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError
from xml.parsers import expat

from contract.model import Contract, Field, Sheet, fold, load_contract
from reading.errors import UnreadableReport
from reading.guards import Limits, is_system_member, sniff
from reading.legacy_text import LegacyEncoding, repair_text

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
# Folded; «Total» is what Excel's Table totals row writes in an English-language Excel.
TOTALS_ROW_LABELS = frozenset(
    {"cong", "tong cong", "tong so", "tong", "cong chung", "tong cong chung", "total", "grand total"}
)
# Subtotal rows of official forms, matched on the lower-case text with its diacritics («Công an huyện» is an
# organisation, «Cộng khối …» a subtotal): exact labels, or what a label starts with.
SUBTOTAL_LABELS = frozenset({"cộng", "tổng", "tổng cộng", "tổng số", "cộng chung", "tổng cộng chung"})
SUBTOTAL_STARTS = re.compile(
    r"^(?:cộng\s*[:(]|cộng (?:khối|các|chung)\b|tổng cộng\b|tổng số\s*[:(]|toàn (?:huyện|tỉnh|quận|thị xã|thành phố|"
    r"đảng bộ|khối)\b)"
)
SECTION_STARTS = re.compile(r"^(?:khối|phần|mục)\b")
# Where the document around the table ends it: the «Nơi nhận» and signature block, the place-and-date line,
# footnotes to the headers («(*) …», «¹ …»).
FOOTER_STARTS = re.compile(
    r"^(?:nơi nhận|t/m\b|tm\.|tm\s+ban|k/t\b|kt\.|kt\s|bí thư\b|phó bí thư\b|người lập\b|thủ trưởng\b|"
    r"\(đã ký|\(ký|xác nhận của\b|ghi chú\s*:|\(\*{1,3}\)|\*{1,3}\s|[¹²³])"
)
PLACE_AND_DATE = re.compile(r"^[^,]{1,60},\s*ngày\b.{0,6}\btháng\b.{0,6}\bnăm\b")
# An item number on its own (an STT cell, a section number): 1, 1., 1.2, I, II., a), (3)
ITEM_NUMBER = re.compile(r"^\(?(?:[IVXLCDM]+|\d{1,4}(?:\.\d{1,3})*|[a-zđ])[.)]?$", re.IGNORECASE)
# A numbered item label: «1. Tỉnh», «I. Tỉnh», «a) Tỉnh», «- Tỉnh»
ITEM_PREFIX = re.compile(r"^(?:\(?(?:[IVXLCDM]+|\d{1,3}(?:\.\d{1,3})*|[a-zđ])[.):]|[-–—+•*])\s*", re.IGNORECASE)
STT_HEADERS = frozenset({"stt", "tt", "so tt", "so thu tu", "thu tu"})
COLUMN_NUMBER = re.compile(r"^\(?([A-Z]|\d{1,3})\)?$")
HEADER_SEARCH_ROWS = 40
NUMBER_TEXT = re.compile(r"^-?\d[\d.,\s]*%?$")
TRUE_WORDS = frozenset({"co", "x", "1", "true", "yes", "c", "dung"})
FALSE_WORDS = frozenset({"khong", "0", "false", "no", "k", "sai"})
GROUPED_INTEGER = re.compile(r"^\d{1,3}([.,\s]\d{3})+$")
DAY_FIRST_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
# «ngày 17 tháng 01 năm 2024», folded (no diacritics, no punctuation)
# What official forms write in a figure cell for «none» (không có, không phát sinh): read as 0 in any count.
NONE_DASHES = frozenset({"-", "–", "—", "--"})
# «x» (and «…»): no figure (không có số liệu, không áp dụng); ambiguous as a count (a tick also reads «có»):
# an optional count is left empty, a required one is kept as written so that validation names it.
NO_FIGURE_MARKS = frozenset({"x", "X", "...", "…"})
MARK_ORDER = ("-", "–", "—", "--", "x", "X", "...", "…")  # how the notes list them
# Footnote marks after a header: «Dự bị (*)», «Nữ¹», «Dân tộc thiểu số (2)», «Kết nạp**»
FOOTNOTE_MARKS = re.compile(
    r"(?:\s*(?:\(\s*(?:\*{1,3}|\d{1,2}|[a-z])\s*\)|\*{1,3}|[\u00b9\u00b2\u00b3\u2070-\u2079]+))+$"
)
DATE_IN_WORDS = re.compile(r"^(?:.* )?(?:ngay )?(\d{1,2}) thang (\d{1,2}) nam (\d{4})$")

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


# clean_text is pure and the same cells recur (labels, names, codes, counts): cached for text and float cells.
# typed: 1.0 and True are equal keys but different cells; -0.0 and 0.0 are one key and both give "0".
_clean_cached = lru_cache(maxsize=1 << 16, typed=True)(clean_text)


def clean_cell(value: Cell) -> str | None:
    """:func:`clean_text`, cached for text and float cells."""
    if value is None:
        return None
    if type(value) is str or type(value) is float:  # noqa: E721 - exactly these types, see above
        return _clean_cached(value)
    return clean_text(value)


def normalise_integer(value: Cell) -> str | None:
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int | float) and float(value).is_integer():
        return str(int(value))
    text = clean_text(value)
    if text is None:
        return None
    if text in NONE_DASHES:
        return "0"
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
    match = DAY_FIRST_DATE.match(text) or DATE_IN_WORDS.match(fold(text))
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


def normalise_value(
    contract: Contract, field_: Field, value: Cell, spellings: dict[str, str] | None = None
) -> dict[str, str | None]:
    """One cell → the raw column(s) it fills: ``{name: canonical}`` (+ ``name_label`` for grades).

    ``spellings`` is ``spelling_index(contract, field_)`` when the caller has built it already.
    """
    if field_.type == "integer":
        count = normalise_integer(value)
        if count in NO_FIGURE_MARKS and not field_.required:
            count = None
        return {field_.name: count}
    if field_.type == "decimal":
        return {field_.name: normalise_decimal(value)}
    if field_.type == "boolean":
        return {field_.name: normalise_boolean(value)}
    if field_.type == "date":
        return {field_.name: normalise_date(value)}
    text = clean_text(value)
    if field_.type in ("enum", "grade"):
        index = spellings if spellings is not None else spelling_index(contract, field_)
        if field_.type == "enum":
            return {field_.name: match_code(text, index)}
        return {field_.name: match_code(text, index), f"{field_.name}_label": text}
    return {field_.name: text}


class CellNormaliser:
    """:func:`normalise_value` for one field, its spelling index built once and cells memoised.

    The result depends only on the cell, so each distinct text (and float, but for decimal fields, where
    -0.0 and 0.0, one key, give "-0" and "0") is normalised once per sheet; other cells (ints, dates,
    booleans) are normalised every time. Results are shared: callers copy them and never change them.
    """

    __slots__ = ("contract", "field", "marks", "memo", "memo_floats", "spellings")

    def __init__(self, contract: Contract, field_: Field) -> None:
        self.contract = contract
        self.field = field_
        self.spellings = spelling_index(contract, field_) if field_.type in ("enum", "grade") else None
        self.memo_floats = field_.type != "decimal"
        self.memo: dict[Cell, dict[str, str | None]] = {}
        self.marks: Counter[str] = Counter()  # a count's «-» / «x» cells, by mark: never memoised, so counted

    def __call__(self, value: Cell) -> dict[str, str | None]:
        # Exactly str, None or float: equal values of other types (1.0, 1, True) normalise differently.
        if type(value) is str or value is None or (self.memo_floats and type(value) is float):  # noqa: E721
            found = self.memo.get(value)
            if found is None:
                found = normalise_value(self.contract, self.field, value, self.spellings)
                mark = figure_mark(self.field, value)
                if mark is not None:
                    self.marks[mark] += 1
                    return found
                self.memo[value] = found
            return found
        return normalise_value(self.contract, self.field, value, self.spellings)


def figure_mark(field_: Field, value: Cell) -> str | None:
    """The «none» mark (a dash, «x») a count's cell holds, or None."""
    if field_.type != "integer" or type(value) is not str:  # noqa: E721
        return None
    text = clean_cell(value)
    return text if text in NONE_DASHES or text in NO_FIGURE_MARKS else None


MarkedCells = tuple[str, Counter[str], bool]  # (column or item as written, cells by mark, required)


def mark_notes(marked: Sequence[MarkedCells], noun: str) -> list[str]:
    """What was done with the counts' «-» / «x» cells, one note per outcome, the cells counted (``noun``:
    «cột» on a table, «chỉ tiêu» on a key/value sheet)."""
    outcomes = (
        ("đọc là 0", lambda mark, required: mark in NONE_DASHES, "(không có)"),
        ("để trống", lambda mark, required: mark not in NONE_DASHES and not required, "(không có số liệu)"),
        (
            "giữ nguyên để báo lỗi (chỉ tiêu bắt buộc phải ghi số)",
            lambda mark, required: mark not in NONE_DASHES and required,
            "",
        ),
    )
    notes: list[str] = []
    for outcome, applies, meaning in outcomes:
        where: list[str] = []
        marks: dict[str, None] = {}
        total = 0
        for label, counts, required in marked:
            count = sum(n for mark, n in counts.items() if applies(mark, required))
            if count:
                where.append(f"«{label}» ({count})")
                marks.update(dict.fromkeys(m for m in counts if applies(m, required)))
                total += count
        if total:
            written = ", ".join(f"«{mark}»" for mark in sorted(marks, key=MARK_ORDER.index))
            written += f" {meaning}" if meaning else ""
            notes.append(f"{total} ô ghi {written} {outcome}: {noun} {', '.join(where)}")
    return notes


# ---------------------------------------------------------------- cell text repair


def repair_matrix(matrix: Sequence[Sequence[Cell]]) -> tuple[list[list[Cell]], Counter[str]]:
    """Text cells repaired: legacy TCVN3/VNI text converted, decomposed (NFD) text composed (NFC).

    A sheet typed in a legacy font is typed in it throughout: once some cells are recognised, the
    encoding found most often is used as a hint for the cells too short or too ambiguous to tell
    alone (VNI «Sôn La»). Returns the repaired cells and how many cells each conversion touched.
    """
    # repair_text is pure: each distinct text of the sheet is repaired once, in order of first appearance.
    texts = Counter(cell for row in matrix for cell in row if isinstance(cell, str) and cell)
    if any(type(text) is not str for text in texts):  # noqa: E721 - a str subclass: repaired cell by cell
        return repair_cells(matrix)
    unhinted = {text: repair_text(text) for text in texts}
    found: Counter[LegacyEncoding] = Counter()
    for text, count in texts.items():  # the cells of each encoding, first encountered in the same order
        legacy = unhinted[text][1]
        if legacy is not None:
            found[legacy] += count
    if not found:
        # No legacy text anywhere (the usual case): only the cells NFC changed are counted.
        conversions: Counter[str] = Counter()
        changed = sum(count for text, count in texts.items() if unhinted[text][0] != text)
        if changed:
            conversions["NFC"] = changed
        repaired = {text: result[0] for text, result in unhinted.items() if result[0] is not text}
        if not repaired:
            return [list(row) for row in matrix], conversions
        rows = [[repaired.get(cell, cell) if type(cell) is str else cell for cell in row] for row in matrix]  # noqa: E721
        return rows, conversions
    return repair_cells(matrix, unhinted)


def repair_cells(
    matrix: Sequence[Sequence[Cell]], unhinted: dict[str, tuple[str, LegacyEncoding | None]] | None = None
) -> tuple[list[list[Cell]], Counter[str]]:
    """:func:`repair_matrix` cell by cell (``unhinted``: repair_text of the texts, when known)."""
    first_memo = unhinted if unhinted is not None else {}

    def repair(cell: Cell) -> tuple[Cell, LegacyEncoding | None]:
        if not (isinstance(cell, str) and cell):
            return cell, None
        if type(cell) is not str:  # noqa: E721 - a str subclass is repaired as it comes, not memoised
            return repair_text(cell)
        repaired = first_memo.get(cell)
        if repaired is None:
            repaired = first_memo[cell] = repair_text(cell)
        return repaired

    first_pass = [[repair(cell) for cell in row] for row in matrix]
    found = Counter(legacy for row in first_pass for _, legacy in row if legacy is not None)
    hint = found.most_common(1)[0][0] if found else None
    conversions: Counter[str] = Counter()
    hinted: dict[str, tuple[str, LegacyEncoding | None]] = {}
    repaired_rows: list[list[Cell]] = []
    for raw_row, repaired_row in zip(matrix, first_pass, strict=True):
        cells: list[Cell] = []
        for raw, (text, legacy) in zip(raw_row, repaired_row, strict=True):
            if hint is not None and legacy is None and isinstance(raw, str) and raw:
                if type(raw) is str:  # noqa: E721 - see above
                    again = hinted.get(raw)
                    if again is None:
                        again = hinted[raw] = repair_text(raw, hint=hint)
                    text, legacy = again
                else:
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
    """The field a header names; a header with a footnote mark («Dự bị (*)», «Nữ¹») names it too."""
    text = clean_cell(header) or ""
    folded = fold(text)
    if not folded:
        return None
    fields = index if index is not None else header_index(sheet)
    found = fields.get(folded)
    if found is None:
        bare = without_footnote(text)
        if bare != text:
            found = fields.get(fold(bare))
    return found


@lru_cache(maxsize=1 << 12)
def without_footnote(text: str) -> str:
    """A header without its trailing footnote marks («Nữ¹» → «Nữ»); the text itself when nothing is left."""
    return FOOTNOTE_MARKS.sub("", text).strip() or text


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
    own = [clean_cell(cell) for cell in matrix[row_index]]
    above = [clean_cell(cell) for cell in matrix[row_index - 1]] if row_index > 0 else []
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


def first_text(row: Sequence[Cell]) -> str | None:
    """The row's first non-empty cell as text; None for a blank row."""
    return next((text for text in map(clean_cell, row) if text is not None), None)


def is_blank(row: Sequence[Cell]) -> bool:
    return first_text(row) is None


MergedRange = tuple[tuple[int, int], tuple[int, int]]  # ((first_row, first_col), (last_row, last_col)), 0-based


@dataclass(frozen=True)
class Hidden:
    """Rows and columns a sheet hides (0-based), where the format says so (.xlsx, .ods)."""

    rows: frozenset[int] = frozenset()
    columns: frozenset[int] = frozenset()


def lower_label(text: str) -> str:
    """Lower-case label with its item number («1.», «I.», «a)», «- ») removed, diacritics kept."""
    return ITEM_PREFIX.sub("", text.lower(), count=1).strip()


@lru_cache(maxsize=1 << 14)
def is_subtotal_label(text: str) -> bool:
    if fold(text) in TOTALS_ROW_LABELS:
        return True
    label = lower_label(text)
    return label.rstrip(":") in SUBTOTAL_LABELS or SUBTOTAL_STARTS.match(label) is not None


@lru_cache(maxsize=1 << 14)
def is_footer_label(text: str) -> bool:
    label = text.lower().strip()
    return FOOTER_STARTS.match(label) is not None or PLACE_AND_DATE.match(label) is not None


def is_column_numbers(texts: Sequence[str]) -> bool:
    """A row of column numbers under a header: «(1) (2) (3) …» or «A B C … 1 2 3» (consecutive)."""
    tokens = [COLUMN_NUMBER.match(text) for text in texts]
    if len(tokens) < 3 or any(token is None for token in tokens):
        return False
    values = [token.group(1) for token in tokens if token is not None]
    letters = [v for v in values if v.isalpha()]
    digits = [int(v) for v in values if v.isdigit()]
    if values != [*letters, *map(str, digits)]:
        return False
    letters_ok = letters == [chr(ord("A") + i) for i in range(len(letters))]
    digits_ok = digits == list(range(digits[0], digits[0] + len(digits))) if digits else True
    return letters_ok and digits_ok


@dataclass(frozen=True)
class TableShape:
    """Where a table's key and figures are: what tells a data row from the form's other rows."""

    key: int | None  # column of the sheet's own key (the last key field: org, branch code, village name)
    figures: tuple[int, ...]  # columns of integer and decimal fields


def row_kind(row: Sequence[Cell], texts: Sequence[str], shape: TableShape) -> str:
    """blank, item_only, section, subtotal, footer or data (``texts``: the row's non-empty cells as text).

    A row with a key of its own and not a form label is always data («Tổng công ty …» with its code is an
    organisation). Section, subtotal and footer rows have no key (or the label in the key's column).
    """
    if not texts:
        return "blank"
    key = clean_cell(row[shape.key]) if shape.key is not None and shape.key < len(row) else None
    first_label = next((text for text in texts if not is_item_number(text)), None)
    if key is not None and key != first_label:
        return "data"
    if first_label is None:
        return "item_only" if len(texts) == 1 else "data"
    if is_subtotal_label(first_label):
        return "subtotal"
    footer = is_footer_label(first_label)
    section = (len(texts) == 2 or is_section_label(first_label)) and sum(
        1 for text in texts if not is_item_number(text)
    ) == 1
    if not (footer or section):
        return "data"
    figures = (clean_cell(row[p]) for p in shape.figures if p < len(row))
    if any(value is not None and NUMBER_TEXT.match(value) for value in figures):
        return "data"
    return "footer" if footer else "section"


@lru_cache(maxsize=1 << 14)
def is_item_number(text: str) -> bool:
    return ITEM_NUMBER.match(text) is not None


@lru_cache(maxsize=1 << 14)
def is_section_label(text: str) -> bool:
    return SECTION_STARTS.match(lower_label(text)) is not None


def merged_fill(
    matrix: Sequence[Sequence[Cell]], merges: Iterable[MergedRange], columns: dict[int, Field], first_row: int
) -> tuple[list[list[Cell]], dict[int, int]]:
    """Names merged vertically over their detail rows: the merged cell's text copied down the rows it covers.

    Only text columns, only below the header, only into empty cells. Returns the rows and, per column,
    how many cells were filled.
    """
    rows = [list(row) for row in matrix]
    filled: Counter[int] = Counter()
    for (top, left), (bottom, right) in merges:
        if bottom <= top or top < first_row or left != right:
            continue
        field_ = columns.get(left)
        if field_ is None or field_.type != "text" or left >= len(rows[top]) or clean_cell(rows[top][left]) is None:
            continue
        for row_number in range(top + 1, min(bottom, len(rows) - 1) + 1):
            row = rows[row_number]
            if left < len(row) and clean_cell(row[left]) is None:
                row[left] = rows[top][left]
                filled[left] += 1
    return rows, dict(filled)


def read_table(
    contract: Contract,
    sheet: Sheet,
    source_name: str,
    matrix: Sequence[Sequence[Cell]],
    merges: Sequence[MergedRange] = (),
    hidden: Hidden | None = None,
) -> ParsedSheet:
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
    hidden = hidden or Hidden()
    for position, candidates in enumerate(header_labels(matrix, header_row)):
        if position not in mapped and candidates:
            if fold(candidates[-1]) in STT_HEADERS:
                parsed.notes.append(f"bỏ qua cột số thứ tự «{candidates[-1]}»")
            elif position in hidden.columns:
                parsed.notes.append(f"bỏ qua cột không có trong mẫu: «{candidates[0]}» (cột bị ẩn trong tệp)")
            else:
                parsed.notes.append(f"bỏ qua cột không có trong mẫu: «{candidates[0]}»")
        elif position in mapped and position in hidden.columns:
            parsed.notes.append(f"cột «{mapped[position][1]}» bị ẩn trong tệp nhưng có trong mẫu: vẫn đọc")
    own_header = matrix[header_row]
    header_top = header_row
    if any(label != clean_cell(own_header[p] if p < len(own_header) else None) for p, (_, label) in mapped.items()):
        parsed.notes.append(f"tiêu đề cột hai dòng (dòng {header_row} và {header_row + 1})")
        header_top = header_row - 1
    parsed.notes += header_notes(matrix, header_row, header_top, mapped)
    title_rows = [n + 1 for n in range(header_top) if not is_blank(matrix[n])]
    if title_rows:
        parsed.notes.append(f"bỏ qua phần đầu văn bản phía trên bảng (tiêu đề, {len(title_rows)} dòng)")
    matrix, filled = merged_fill(matrix, merges, {p: f for p, (f, _) in mapped.items()}, header_row + 1)
    for position, count in sorted(filled.items()):
        parsed.notes.append(f"điền tên ở ô gộp của cột «{mapped[position][1]}» xuống {count} dòng chi tiết")
    shape = TableShape(
        positions.get(sheet.key[-1]) if sheet.key else None,
        tuple(p for p, (f, _) in mapped.items() if f.type in ("integer", "decimal")),
    )
    normalisers = [(positions.get(field_.name), CellNormaliser(contract, field_)) for field_ in sheet.fields]
    seen_data = False
    item_only: list[int] = []
    for row_number in range(header_row + 1, len(matrix)):
        row = matrix[row_number]
        texts = [text for text in map(clean_cell, row) if text is not None]
        kind = row_kind(row, texts, shape)
        if kind == "blank":
            continue
        if not seen_data and not parsed.rows and is_column_numbers(texts):
            parsed.notes.append(f"bỏ dòng đánh số cột ở dòng {row_number + 1}")
            continue
        if kind == "item_only":
            item_only.append(row_number + 1)
            continue
        if kind == "subtotal":
            label = next(t for t in texts if not ITEM_NUMBER.match(t))
            parsed.notes.append(f"bỏ dòng tổng cộng «{label}» ở dòng {row_number + 1} (không nạp)")
            continue
        if kind == "section":
            parsed.notes.append(f"bỏ dòng tiêu đề nhóm «{' '.join(texts)}» ở dòng {row_number + 1}")
            continue
        if kind == "footer":
            parsed.notes.append(f"bỏ phần cuối văn bản (nơi nhận, chữ ký) từ dòng {row_number + 1}")
            break
        seen_data = True
        values: dict[str, str | None] = {}
        width = len(row)
        for column, normalise in normalisers:
            values.update(normalise(row[column] if column is not None and column < width else None))
        parsed.rows.append(ParsedRow(row_number + 1, values))
    if item_only:
        parsed.notes.append(f"bỏ {len(item_only)} dòng chỉ có số thứ tự (dòng {item_only[0]}–{item_only[-1]})")
    hidden_data = [row.sheet_row for row in parsed.rows if row.sheet_row - 1 in hidden.rows] if hidden.rows else []
    if hidden_data:
        shown = ", ".join(map(str, hidden_data[:10])) + (", …" if len(hidden_data) > 10 else "")
        parsed.notes.append(
            f"{len(hidden_data)} dòng bị ẩn trong tệp vẫn là số liệu và đã được đọc (dòng {shown}); "
            "nếu là dòng cũ không dùng nữa, hãy xóa hẳn"
        )
    marked = [
        (mapped[column][1], normalise.marks, normalise.field.required)
        for column, normalise in normalisers
        if column is not None
    ]
    parsed.notes += mark_notes([entry for entry in marked if entry[1]], "cột")
    return parsed


def header_notes(
    matrix: Sequence[Sequence[Cell]],
    header_row: int,
    header_top: int,
    mapped: dict[int, tuple[Field, str]],
) -> list[str]:
    """Headers written over several lines in their cell (one note), or with a footnote mark: matched to their
    field."""
    notes: list[str] = []
    broken: list[str] = []
    for position, (field_, label) in sorted(mapped.items()):
        cells = [matrix[n][position] for n in range(header_top, header_row + 1) if position < len(matrix[n])]
        if any(isinstance(cell, str) and "\n" in cell for cell in cells):
            broken.append(label)
        if without_footnote(label) != label:
            notes.append(f"tiêu đề cột «{label}» có dấu chú thích: đọc là «{field_.header}»")
    if broken:
        shown = ", ".join(f"«{label}»" for label in broken[:3]) + (", …" if len(broken) > 3 else "")
        notes.insert(0, f"đọc {len(broken)} tiêu đề cột viết xuống dòng trong ô: {shown}")
    return notes


def strip_item(text: str) -> str:
    """A label without its item number («1. Tỉnh» → «Tỉnh»)."""
    return ITEM_PREFIX.sub("", text, count=1).strip() or text


def key_value_cells(row: Sequence[Cell]) -> list[tuple[str, Cell]]:
    """(text, cell) of the non-empty cells of a key/value row, without an STT cell before the item label."""
    cells = [(text, cell) for cell in row if (text := clean_cell(cell)) is not None]
    if len(cells) > 1 and ITEM_NUMBER.match(cells[0][0]) and not ITEM_NUMBER.match(cells[1][0]):
        return cells[1:]
    return cells


def read_key_value(contract: Contract, sheet: Sheet, source_name: str, matrix: Sequence[Sequence[Cell]]) -> ParsedSheet:
    parsed = ParsedSheet(sheet.name, source_name, None, [])
    index = header_index(sheet)
    ignored_headers = {fold("Chỉ tiêu"), fold("Giá trị"), *STT_HEADERS}
    title: list[str] = []
    numbered = 0
    marked: list[MarkedCells] = []
    for row_number, row in enumerate(matrix):
        cells = key_value_cells(row)
        if not cells:
            continue
        if is_column_numbers([text for text, _ in cells]):
            parsed.notes.append(f"bỏ dòng đánh số cột ở dòng {row_number + 1}")
            continue
        written = cells[0][0]
        label = strip_item(written)
        field_ = match_field(sheet, written, index) or match_field(sheet, label, index)
        if field_ is None:
            if parsed.rows and is_footer_label(written):
                parsed.notes.append(f"bỏ phần cuối văn bản (nơi nhận, chữ ký) từ dòng {row_number + 1}")
                break
            if fold(written) in ignored_headers:
                continue
            if not parsed.rows:
                title.append(written)
                continue
            parsed.notes.append(f"bỏ qua dòng {row_number + 1}: «{written}» không có trong mẫu")
            continue
        if field_.name in parsed.columns:
            parsed.notes.append(f"dòng {row_number + 1}: «{field_.header}» lặp lại, bỏ qua")
            continue
        if label != written or len(row_texts(row)) > len(cells):
            numbered += 1
        parsed.columns[field_.name] = label
        raw_value = cells[1][1] if len(cells) > 1 else None
        value = normalise_value(contract, field_, raw_value)[field_.name]
        mark = figure_mark(field_, raw_value)
        if mark is not None:
            marked.append((label, Counter([mark]), field_.required))
        if field_.type == "date" and value is not None and DATE_IN_WORDS.match(fold(clean_cell(raw_value) or "")):
            parsed.notes.append(f"«{field_.header}»: ngày viết bằng chữ «{clean_cell(raw_value)}» đọc là {value}")
        parsed.rows.append(
            ParsedRow(row_number + 1, {"header_as_written": label, "field": field_.name, "value": value})
        )
    parsed.notes += mark_notes(marked, "chỉ tiêu")
    if numbered:
        parsed.notes.insert(0, f"bỏ số thứ tự (STT) trước tên chỉ tiêu ở {numbered} dòng")
    if title:
        shown = ", ".join(f"«{text}»" for text in title[:3]) + (", …" if len(title) > 3 else "")
        parsed.notes.insert(0, f"bỏ qua phần đầu văn bản phía trên bảng ({len(title)} dòng: {shown})")
    return parsed


COVER_WORDS = re.compile(r"\bbáo cáo\b", re.IGNORECASE)


def ignored_sheet_note(source_name: str, matrix: Sequence[Sequence[Cell]], *, first: bool) -> str:
    """The note for a sheet outside the contract, saying what it looks like: a cover page (a first sheet with
    a «BÁO CÁO …» title and no table), a chart sheet or an empty one, or any other sheet."""
    note = f"bỏ qua trang «{source_name}»: không có trong mẫu báo cáo"
    texts = [text for row in matrix[:HEADER_SEARCH_ROWS] for text in row_texts(row)]
    if not texts:
        return f"{note} (trang biểu đồ hoặc trang không có số liệu)"
    title = next((text for text in texts if COVER_WORDS.search(text)), None)
    if first and title is not None and len(matrix) <= HEADER_SEARCH_ROWS:
        return f"{note} (trang bìa «{title}»)"
    return note


def row_texts(row: Sequence[Cell]) -> list[str]:
    return [text for text in map(clean_cell, row) if text is not None]


def read_sheets(
    contract: Contract,
    file_name: str,
    named_matrices: Iterable[tuple[str, Sequence[Sequence[Cell]]]],
    limits: Limits | None = None,
    merges: Mapping[str, Sequence[MergedRange]] | None = None,
    hidden: Mapping[str, Hidden] | None = None,
) -> ParsedReport:
    """Contract sheets from named cell grids; ``merges`` (each sheet's merged ranges) and ``hidden`` (its hidden
    rows and columns), when the format has them."""
    limits = limits or Limits()
    merges = merges or {}
    hidden = hidden or {}
    report = ParsedReport(file_name, {})
    for source_name, raw_matrix in named_matrices:
        sheet = match_sheet(contract, source_name)
        if sheet is None:
            report.notes.append(ignored_sheet_note(source_name, raw_matrix, first=not report.sheets))
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
        if sheet.layout == "key_value":
            parsed = read_key_value(contract, sheet, source_name, matrix)
        else:
            parsed = read_table(
                contract, sheet, source_name, matrix, merges.get(source_name, ()), hidden.get(source_name)
            )
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


# The same chunks ElementTree.iterparse reads, so that a damaged member fails at the same point.
XML_CHUNK = 16 * 1024
# What may follow a prefixed element name "x:f" in well-formed XML: white space, "/" or ">".
NAME_ENDS = frozenset(b" \t\n\r/>")
XML_DECLARED_ENCODING = re.compile(rb"^(?:\xef\xbb\xbf)?<\?xml[^>]*?encoding\s*=\s*[\"']([^\"']*)[\"']")
# Encodings in which the bytes of "<", ":", "f", "/", ">" and white space are their ASCII bytes.
ASCII_COMPATIBLE = frozenset({b"utf-8", b"us-ascii", b"iso-8859-1"})
DOCTYPE = b"<!DOCTYPE"


def sheet_formulas(sheet_name: str, handle: Iterable[tuple[str, Any]]) -> list[tuple[str, str]]:
    """(sheet, cell) of every formula without a computed value among ``iterparse`` events of one sheet part."""
    found: list[tuple[str, str]] = []
    for _, element in handle:
        if element.tag == f"{SPREADSHEET_ML}c":
            formula = element.find(f"{SPREADSHEET_ML}f")
            value = element.find(f"{SPREADSHEET_ML}v")
            if formula is not None and (value is None or value.text is None):
                found.append((sheet_name, element.get("r", "?")))
            element.clear()
    return found


def formula_free(archive: zipfile.ZipFile, part: str) -> bool:
    """True when the part is well-formed XML with no f element: nothing for :func:`sheet_formulas` to find.

    Checked with expat alone (no element objects), fed the same chunks as ``iterparse`` with the same
    namespace processing, so a malformed part raises the same ``ParseError`` at the same point. False
    (let ``iterparse`` decide) whenever the cheap check cannot answer for certain: an f element may be
    there, a DOCTYPE (entities, which ElementTree resolves its own way), or an encoding whose bytes
    are not ASCII's.
    """
    parser = expat.ParserCreate(namespace_separator="}")
    chunks: list[bytes] = []
    with archive.open(part) as handle:
        while data := handle.read(XML_CHUNK):
            if not chunks:
                declared = XML_DECLARED_ENCODING.match(data)
                if b"\x00" in data or data.startswith((b"\xfe\xff", b"\xff\xfe")):
                    return False
                if declared is not None and declared.group(1).lower() not in ASCII_COMPATIBLE:
                    return False
            if DOCTYPE in (chunks[-1][-len(DOCTYPE) :] if chunks else b"") + data:
                return False
            chunks.append(data)
            feed_expat(parser, data, final=False)
    feed_expat(parser, b"", final=True)
    return not may_hold_f_element(b"".join(chunks))


def may_hold_f_element(document: bytes) -> bool:
    """Whether an element named f may start in ``document``, whatever its prefix (a superset of
    SpreadsheetML's <f> formula element): "<f", or ":f" followed by what may end a name."""
    if b"<f" in document:
        return True
    at = document.find(b":f")
    while at >= 0:
        if at + 2 >= len(document) or document[at + 2] in NAME_ENDS:
            return True
        at = document.find(b":f", at + 2)
    return False


def feed_expat(parser: Any, data: bytes, *, final: bool) -> None:
    """Parse with expat, raising what ElementTree raises: ``ParseError`` with expat's message."""
    try:
        parser.Parse(data, final)
    except expat.ExpatError as error:
        failure = ParseError(str(error))
        failure.code = error.code
        failure.position = (error.lineno, error.offset)
        raise failure from None


MAX_COLUMNS = 16384  # a sheet's width in Excel: a <col> span never reaches past it
# A run of hidden repeated rows this long is the empty rest of a sheet (a row style to the last row), not data.
MAX_HIDDEN_ROWS = 100_000
HIDDEN_MARK = re.compile(rb'\bhidden="(?:1|true)"')
HIDDEN_ROW = re.compile(
    rb'<(?:\w+:)?row\b[^>]*?\br="(\d+)"[^>]*?\bhidden="(?:1|true)"'
    rb'|<(?:\w+:)?row\b[^>]*?\bhidden="(?:1|true)"[^>]*?\br="(\d+)"'
)
HIDDEN_COLUMNS = re.compile(rb'<(?:\w+:)?col\b[^>]*?\bhidden="(?:1|true)"[^>]*>')
COLUMN_SPAN = re.compile(rb'\b(min|max)="(\d+)"')


def ooxml_hidden(path: Path) -> dict[str, Hidden]:
    """Hidden rows and columns of each sheet of an .xlsx (only sheets that hide something are listed)."""
    found: dict[str, Hidden] = {}
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        for sheet_name, part in ooxml_sheet_paths(archive).items():
            if part not in names:
                continue
            data = archive.read(part)
            if HIDDEN_MARK.search(data) is None:
                continue
            rows = frozenset(int(a or b) - 1 for a, b in HIDDEN_ROW.findall(data))
            columns: set[int] = set()
            for element in HIDDEN_COLUMNS.findall(data):
                span = dict(COLUMN_SPAN.findall(element))
                first = int(span.get(b"min", b"1"))
                columns.update(range(first - 1, min(int(span.get(b"max", first)), MAX_COLUMNS)))
            found[sheet_name] = Hidden(rows, frozenset(columns))
    return found


def uncached_formulas(path: Path) -> list[tuple[str, str]]:
    """(sheet, cell) of every formula saved without its computed value (files written by some tools)."""
    from xml.etree import ElementTree

    found: list[tuple[str, str]] = []
    with zipfile.ZipFile(path) as archive:
        for sheet_name, part in ooxml_sheet_paths(archive).items():
            if part not in archive.namelist():
                continue
            if formula_free(archive, part):
                continue
            with archive.open(part) as handle:
                found += sheet_formulas(sheet_name, ElementTree.iterparse(handle))
    return found


def workbook_matrices(path: Path, kind: str) -> list[tuple[str, list[list[Cell]]]]:
    """Each sheet's cells, read by content (whatever the file's extension says)."""
    return workbook_contents(path, kind)[0]


def ods_merges(path: Path) -> dict[str, list[MergedRange]]:
    """Merged ranges of each sheet of an .ods (calamine gives none for OpenDocument), from content.xml."""
    return ods_structure(path)[0]


def ods_structure(path: Path) -> tuple[dict[str, list[MergedRange]], dict[str, Hidden]]:
    """Merged ranges of each sheet of an .ods (calamine gives none for OpenDocument) and its hidden rows and
    columns (only sheets that hide something are listed), from content.xml."""
    from xml.etree import ElementTree

    table_ns = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
    names = ("table", "table-row", "table-cell", "covered-table-cell", "table-column")
    tag = {name: f"{{{table_ns}}}{name}" for name in names}
    visibility, repeated_columns = f"{{{table_ns}}}visibility", f"{{{table_ns}}}number-columns-repeated"
    merges: dict[str, list[MergedRange]] = {}
    hidden_rows: dict[str, set[int]] = {}
    hidden_columns: dict[str, set[int]] = {}
    sheet_name, row, column, declared = "", 0, 0, 0
    with zipfile.ZipFile(path) as archive, archive.open("content.xml") as handle:
        for event, element in ElementTree.iterparse(handle, events=("start", "end")):
            if event == "start":
                if element.tag == tag["table"]:
                    sheet_name, row, declared = element.get(f"{{{table_ns}}}name", ""), 0, 0
                    merges[sheet_name] = []
                elif element.tag == tag["table-row"]:
                    column = 0
                elif element.tag == tag["table-column"]:
                    count = int(element.get(repeated_columns, "1"))
                    if element.get(visibility, "visible") != "visible":
                        covered = range(declared, min(declared + count, MAX_COLUMNS))
                        hidden_columns.setdefault(sheet_name, set()).update(covered)
                    declared += count
                continue
            if element.tag in (tag["table-cell"], tag["covered-table-cell"]):
                spanned = int(element.get(f"{{{table_ns}}}number-rows-spanned", "1"))
                columns = int(element.get(f"{{{table_ns}}}number-columns-spanned", "1"))
                if spanned > 1 or columns > 1:
                    merges[sheet_name].append(((row, column), (row + spanned - 1, column + columns - 1)))
                column += int(element.get(f"{{{table_ns}}}number-columns-repeated", "1"))
                element.clear()
            elif element.tag == tag["table-row"]:
                count = int(element.get(f"{{{table_ns}}}number-rows-repeated", "1"))
                if element.get(visibility, "visible") != "visible" and count < MAX_HIDDEN_ROWS:
                    hidden_rows.setdefault(sheet_name, set()).update(range(row, row + count))
                row += count
                element.clear()
    hidden = {
        name: Hidden(frozenset(hidden_rows.get(name, ())), frozenset(hidden_columns.get(name, ())))
        for name in hidden_rows.keys() | hidden_columns.keys()
    }
    return merges, hidden


WorkbookContents = tuple[list[tuple[str, list[list[Cell]]]], dict[str, list[MergedRange]], dict[str, Hidden]]


def workbook_contents(path: Path, kind: str) -> WorkbookContents:
    """Each sheet's cells, merged ranges and hidden rows and columns (.xlsx, .ods), read by content (whatever
    the file's extension says)."""
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
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(path.read_bytes()))
        try:
            matrices: list[tuple[str, list[list[Cell]]]] = []
            merges: dict[str, list[MergedRange]] = {}
            for name in workbook.sheet_names:
                sheet = workbook.get_sheet_by_name(name)
                matrices.append((name, sheet.to_python(skip_empty_area=False)))
                merges[name] = list(sheet.merged_cell_ranges or [])
        finally:
            workbook.close()
        hidden: dict[str, Hidden] = {}
        if kind == "ods":
            merges, hidden = ods_structure(path)
        elif kind == "ooxml":
            hidden = ooxml_hidden(path)
        return matrices, merges, hidden
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


def decode_csv(data: bytes, name: str) -> tuple[list[list[str]], str, str]:
    """CSV bytes → (rows, encoding, delimiter), trying UTF-8 (with or without BOM), UTF-16 (BOM) and
    Windows-1258, in that order; the delimiter is ``,`` or ``;`` (see :func:`csv_delimiter`)."""
    candidates = ["utf-16"] if data.startswith((b"\xff\xfe", b"\xfe\xff")) else ["utf-8-sig", "cp1258"]
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            break
        text = unicodedata.normalize("NFC", text)
        delimiter = csv_delimiter(text)
        return [list(row) for row in csv.reader(io.StringIO(text), delimiter=delimiter)], encoding, delimiter
    raise UnreadableReport(
        f"Tệp «{name}» không đọc được bằng bảng mã UTF-8, UTF-16 hay Windows-1258. "
        "Hãy lưu lại dưới dạng CSV UTF-8 rồi gửi lại.",
        f"{name}: undecodable CSV",
    )


def csv_delimiter(text: str) -> str:
    """``;`` (what Excel writes in a Vietnamese locale, where the comma is the decimal mark) or ``,``.

    The one whose parse gives the header's width (at least two columns) on more rows; ``,`` on a tie.
    """
    lines = text.splitlines()[:50]

    def consistency(delimiter: str) -> int:
        rows = [row for row in csv.reader(lines, delimiter=delimiter) if any(cell.strip() for cell in row)]
        if not rows or len(rows[0]) < 2:
            return -1
        return sum(len(row) == len(rows[0]) for row in rows)

    return ";" if consistency(";") > consistency(",") else ","


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
        system = [info.filename for info in archive.infolist() if is_system_member(info.filename)]
        if system:
            shown = ", ".join(f"«{name}»" for name in system[:5]) + (", …" if len(system) > 5 else "")
            notes.append(f"bỏ qua {len(system)} mục do hệ điều hành thêm vào tệp nén (máy Mac/Windows): {shown}")
        members = sorted(
            (
                info
                for info in archive.infolist()
                if info.filename.lower().endswith(CSV_SUFFIX) and not is_system_member(info.filename)
            ),
            key=lambda info: info.filename,
        )
        for member in members:
            data = bounded_read(archive, member, limits.max_uncompressed_bytes)
            rows, encoding, delimiter = decode_csv(data, member.filename)
            matrices.append((Path(member.filename).name, rows))
            notes.append(encoding_note(Path(member.filename).name, encoding, delimiter))
    return matrices, notes


def encoding_note(name: str, encoding: str, delimiter: str = ",") -> str:
    labels = {"utf-8-sig": "UTF-8", "utf-16": "UTF-16", "cp1258": "Windows-1258"}
    separator = ", phân cách cột bằng dấu chấm phẩy «;» (dấu phẩy là dấu thập phân)" if delimiter == ";" else ""
    return f"«{name}»: bảng mã {labels.get(encoding, encoding)}{separator}"


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
        rows, encoding, delimiter = decode_csv(member.read_bytes(), member.name)
        matrices.append((member.name, rows))
        notes.append(encoding_note(member.name, encoding, delimiter))
    return matrices, notes


# What each workbook kind is called, and the extensions that say it.
WORKBOOK_KINDS = {
    "ooxml": ("Excel 2007 trở lên (.xlsx)", {".xlsx", ".xlsm"}),
    "xls": ("Excel 97–2003 (.xls)", {".xls"}),
    "ods": ("LibreOffice/OpenDocument (.ods)", {".ods"}),
}


def extension_note(path: Path, kind: str) -> str | None:
    """A note when the extension does not say what the workbook is (``.xls`` named ``.xlsx`` and the reverse)."""
    label, suffixes = WORKBOOK_KINDS[kind]
    if path.suffix.lower() in suffixes:
        return None
    return f"tệp có đuôi «{path.suffix}» nhưng nội dung là bảng tính {label}: đã đọc theo nội dung tệp"


def read_report(path: Path, contract: Contract | None = None, limits: Limits | None = None) -> ParsedReport:
    """Read one submission; raise :class:`UnreadableReport` (and nothing else) if it cannot be read."""
    contract = contract or load_contract()
    limits = limits or Limits()
    try:
        kind = sniff(path, limits)
        notes: list[str] = []
        merges: dict[str, list[MergedRange]] = {}
        hidden: dict[str, Hidden] = {}
        if kind in {"ooxml", "ods", "xls"}:
            matrices, merges, hidden = workbook_contents(path, kind)
            mismatch = extension_note(path, kind)
            if mismatch is not None:
                notes.append(mismatch)
        elif kind == "csv_zip":
            matrices, notes = csv_zip_matrices(path, limits)
        elif kind == "csv_folder":
            members = sorted(p for p in path.iterdir() if p.suffix.lower() == CSV_SUFFIX)
            matrices, notes = csv_file_matrices(members, limits)
        else:
            matrices, notes = csv_file_matrices([path], limits)
        report = read_sheets(contract, path.name, matrices, limits, merges, hidden)
    except UnreadableReport:
        raise
    except CORRUPT_DATA_ERRORS as error:
        raise UnreadableReport(
            "Không đọc được tệp: tệp bị hỏng hoặc không đúng định dạng. Hãy lưu lại tệp rồi gửi lại.",
            f"{path.name}: {type(error).__name__}: {error}",
        ) from error
    report.notes = notes + report.notes
    return report
