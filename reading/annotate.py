"""The submitted workbook back with the wrong cells marked (the portal's "workbook with the mistakes shown").

``mark_workbook`` writes a copy of a submitted .xlsx/.xlsm in which every cell a note points at is filled (red for
an error, amber for a warning) and carries an Excel comment with the note's text, and whose first sheet,
"Kết quả kiểm tra", lists every note (trang, dòng, cột, mức độ, nội dung) with a link to its cell.

Where a note goes is decided by the reader itself, never guessed: the file is read again with the reader's own
functions, which tell which workbook tab holds each contract sheet, which column of a table sheet holds each
contract field (its header as the workbook writes it, one- or two-row), and which cell of a key/value row holds
the value. A note's ``sheet_row`` is the reader's ``ParsedRow.sheet_row``: the row number Excel shows (the
reader's matrices start at A1). A note with a row but no column marks the row's first cell and fills the rest of
the row lightly; a note with no row, or on a sheet the workbook does not have, is only listed.

Marks of an earlier round (a submitter who fixed the marked copy and sent it again) are removed first: chibo's
comments, chibo's fills and the old "Kết quả kiểm tra" sheet. The copy is written with openpyxl, which keeps
values, formulas (as formulas), styles, merged cells and data validation, but not macros (an .xlsm comes back
without them: save the copy as .xlsx), images or charts.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, MergedCell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.worksheet import Worksheet

from contract.model import Contract, Sheet, load_contract
from reading.errors import UnreadableReport
from reading.guards import Limits, sniff
from reading.reader import (
    CORRUPT_DATA_ERRORS,
    Cell,
    ParsedReport,
    clean_cell,
    header_index,
    header_labels,
    map_columns,
    read_sheets,
    repair_matrix,
    workbook_matrices,
)

__all__ = ["SUMMARY_SHEET_TITLE", "CellNote", "mark_workbook"]

log = logging.getLogger(__name__)

SUMMARY_SHEET_TITLE = "Kết quả kiểm tra"
SUMMARY_HEADERS = ("Trang", "Dòng", "Cột", "Mức độ", "Nội dung")
SUMMARY_WIDTHS = (22, 8, 8, 12, 100)
SEVERITY_LABELS = {"error": "Lỗi", "warning": "Cảnh báo"}
COMMENT_AUTHOR = "chibo"
CELL_COLOURS = {"error": "FFFF7C80", "warning": "FFFFC000"}  # the cell a note points at: red, amber
ROW_COLOURS = {"error": "FFFFD9D9", "warning": "FFFFF2CC"}  # the rest of a row a note points at: lighter
CHIBO_COLOURS = frozenset(CELL_COLOURS.values()) | frozenset(ROW_COLOURS.values())
EXCEL_MAX_ROW = 1_048_576
EXCEL_MAX_COLUMN = 16_384
EXCEL_MAX_TEXT = 32_767
COMMENT_WIDTH = 320
COMMENT_CHARACTERS_PER_LINE = 48


@dataclass(frozen=True)
class CellNote:
    """One finding to show in the workbook, in plain values (``reading`` does not know validation)."""

    sheet: str | None  # the contract's sheet name, as in Finding.sheet ("(tệp)" or None: the whole file)
    sheet_row: int | None  # the row number as Excel shows it (the reader's ParsedRow.sheet_row)
    field: str | None  # the contract's field name
    severity: str  # 'error' | 'warning'
    text: str  # Vietnamese: message + how to fix


@dataclass(frozen=True)
class SheetLayout:
    """How the reader read one contract sheet of the workbook."""

    tab: str  # the workbook's own tab name
    key_value: bool
    columns: dict[str, int]  # contract field → 1-based column of its header (table sheets)
    matrix: list[list[Cell]]  # the cells as the reader saw them (row 1 first, column A first)


@dataclass(frozen=True)
class Place:
    """Where a note is shown: a tab, a row and a column when the reader knows them."""

    tab: str | None
    row: int | None
    column: int | None


# ---------------------------------------------------------------- where the reader found each thing


def filled_columns(cells: Sequence[Cell]) -> list[int]:
    """1-based columns of the non-empty cells of a row, as the reader tells empty from filled."""
    return [position + 1 for position, cell in enumerate(cells) if clean_cell(cell) is not None]


def table_columns(sheet: Sheet, matrix: Sequence[Sequence[Cell]], header_row: int | None) -> dict[str, int]:
    """Contract field → 1-based column, mapped from the header row exactly as the reader maps it."""
    if header_row is None:
        return {}
    mapped = map_columns(sheet, header_labels(matrix, header_row - 1), header_index(sheet))
    return {field_.name: position + 1 for position, (field_, _) in mapped.items()}


def sheet_layouts(
    report: ParsedReport, contract: Contract, matrices: dict[str, list[list[Cell]]]
) -> dict[str, SheetLayout]:
    """Contract sheet name → how the reader read it, for every sheet the reader took."""
    layouts: dict[str, SheetLayout] = {}
    for name, parsed in report.sheets.items():
        sheet = contract.sheet(name)
        matrix, _ = repair_matrix(matrices[parsed.source_name])
        key_value = sheet.layout == "key_value"
        columns = {} if key_value else table_columns(sheet, matrix, parsed.header_row)
        layouts[name] = SheetLayout(parsed.source_name, key_value, columns, matrix)
    return layouts


def read_layouts(source: Path, contract: Contract, limits: Limits) -> dict[str, SheetLayout] | None:
    """The reader's view of an .xlsx/.xlsm; None when it is not one the reader reads (the reader's own
    guards and errors decide)."""
    try:
        if sniff(source, limits) != "ooxml":
            return None
        named = workbook_matrices(source, "ooxml")
        report = read_sheets(contract, source.name, named, limits)
    except UnreadableReport as error:
        log.info("no marked copy of %s: %s", source.name, error.detail)
        return None
    except CORRUPT_DATA_ERRORS as error:
        log.info("no marked copy of %s: %s: %s", source.name, type(error).__name__, error)
        return None
    return sheet_layouts(report, contract, dict(named))


def value_column(cells: Sequence[Cell]) -> int | None:
    """The column of a key/value row's value: its second non-empty cell, as the reader takes it (or the cell
    after the label when the value is empty)."""
    filled = filled_columns(cells)
    if len(filled) > 1:
        return filled[1]
    return filled[0] + 1 if filled else None


def locate(note: CellNote, layouts: dict[str, SheetLayout]) -> Place:
    """Where the reader found what the note is about."""
    layout = layouts.get(note.sheet or "")
    if layout is None:
        return Place(None, note.sheet_row, None)
    row = note.sheet_row
    if row is None or not 1 <= row <= EXCEL_MAX_ROW:
        return Place(layout.tab, None, None)
    cells = layout.matrix[row - 1] if row <= len(layout.matrix) else []
    column = value_column(cells) if layout.key_value else layout.columns.get(note.field or "")
    if column is not None and not 1 <= column <= EXCEL_MAX_COLUMN:
        column = None
    return Place(layout.tab, row, column)


# ---------------------------------------------------------------- marking


def printable(text: str) -> str:
    """Text an .xlsx may hold: no control characters, within Excel's length for a cell or comment."""
    return ILLEGAL_CHARACTERS_RE.sub("", text)[:EXCEL_MAX_TEXT]


def labelled(note: CellNote) -> str:
    return f"{SEVERITY_LABELS.get(note.severity, note.severity)}: {note.text}"


def worst(severities: Sequence[str]) -> str:
    return "error" if "error" in severities else "warning"


def solid(colour: str) -> PatternFill:
    return PatternFill(fill_type="solid", start_color=colour, end_color=colour)


def is_chibo_fill(cell: Any) -> bool:
    colour = cell.fill.fgColor
    return bool(cell.fill.fill_type == "solid" and colour.type == "rgb" and colour.rgb in CHIBO_COLOURS)


def anchor(worksheet: Worksheet, row: int, column: int) -> Any:
    """The cell at (row, column), or the top-left cell of the merged range it lies in."""
    cell = worksheet.cell(row=row, column=column)
    if isinstance(cell, MergedCell):
        for merged in worksheet.merged_cells.ranges:
            if (row, column) in merged:
                return worksheet.cell(row=merged.min_row, column=merged.min_col)
    return cell


def comment_for(text: str) -> Comment:
    lines = sum(1 + len(line) // COMMENT_CHARACTERS_PER_LINE for line in text.splitlines() or [""])
    return Comment(text, COMMENT_AUTHOR, height=min(600, 30 + 16 * lines), width=COMMENT_WIDTH)


def clear_earlier_marks(workbook: Workbook) -> None:
    """Remove what an earlier round of marking left: its summary sheet, chibo's comments and fills."""
    earlier = [ws for ws in workbook.worksheets if ws.title.casefold() == SUMMARY_SHEET_TITLE.casefold()]
    if not earlier:
        return
    for summary in earlier:
        workbook.remove(summary)
    for worksheet in workbook.worksheets:
        for row in worksheet.iter_rows():
            for cell in row:
                if isinstance(cell, MergedCell):
                    continue
                if cell.comment is not None and cell.comment.author == COMMENT_AUTHOR:
                    cell.comment = None
                if is_chibo_fill(cell):
                    cell.fill = PatternFill()


def row_columns(layout: SheetLayout | None, row: int) -> range:
    """The columns of a row to fill lightly: as far as the sheet's mapped columns and the row's own cells go."""
    if layout is None:
        return range(1, 2)
    cells = layout.matrix[row - 1] if row <= len(layout.matrix) else []
    last = max([*layout.columns.values(), *filled_columns(cells), 1])
    return range(1, last + 1)


def first_column(layout: SheetLayout | None, row: int) -> int:
    """A row's first non-empty cell as the reader saw it, else its first mapped column, else column A."""
    if layout is not None:
        if row <= len(layout.matrix) and (filled := filled_columns(layout.matrix[row - 1])):
            return filled[0]
        if layout.columns:
            return min(layout.columns.values())
    return 1


def resolved_places(
    notes: Sequence[CellNote], layouts: dict[str, SheetLayout], workbook: Workbook
) -> list[tuple[CellNote, Place]]:
    """Each note with where it is shown; a cell inside a merged range becomes the range's top-left cell."""
    worksheets = {ws.title: ws for ws in workbook.worksheets}
    placed: list[tuple[CellNote, Place]] = []
    for note in notes:
        place = locate(note, layouts)
        if place.tab is not None and place.tab not in worksheets:  # a chart sheet, or a tab openpyxl does not see
            place = Place(None, place.row, None)
        elif place.tab is not None and place.row is not None and place.column is not None:
            cell = anchor(worksheets[place.tab], place.row, place.column)
            place = Place(place.tab, cell.row, cell.column)
        placed.append((note, place))
    return placed


def mark_cells(workbook: Workbook, placed: Sequence[tuple[CellNote, Place]], layouts: dict[str, SheetLayout]) -> None:
    """Fill and comment every cell a note points at; a row-only note fills its row lightly, its first cell fully."""
    tabs = {layout.tab: layout for layout in layouts.values()}
    by_cell: dict[tuple[str, int, int], list[CellNote]] = {}
    rows: dict[tuple[str, int], list[str]] = {}
    for note, place in placed:
        if place.tab is None or place.row is None:
            continue
        column = place.column
        if column is None:
            rows.setdefault((place.tab, place.row), []).append(note.severity)
            column = first_column(tabs.get(place.tab), place.row)
        by_cell.setdefault((place.tab, place.row, column), []).append(note)
    for (tab, row), severities in rows.items():
        worksheet = workbook[tab]
        for column in row_columns(tabs.get(tab), row):
            cell = worksheet.cell(row=row, column=column)
            if not isinstance(cell, MergedCell):
                cell.fill = solid(ROW_COLOURS[worst(severities)])
    for (tab, row, column), cell_notes in by_cell.items():
        cell = anchor(workbook[tab], row, column)
        cell.fill = solid(CELL_COLOURS[worst([note.severity for note in cell_notes])])
        text = "\n\n".join(labelled(note) for note in cell_notes)
        if cell.comment is not None:  # the submitter's own note is kept, after chibo's
            text = f"{text}\n\n{cell.comment.text}"
        cell.comment = comment_for(printable(text))


def text_cell(worksheet: Worksheet, row: int, column: int, value: str | int | None) -> Any:
    """A summary cell; text is always stored as text (a message starting with "=" is not a formula)."""
    cell = worksheet.cell(row=row, column=column)
    if isinstance(value, str):
        cell.value = printable(value)
        cell.data_type = "s"
    else:
        cell.value = value
    return cell


def write_summary(workbook: Workbook, placed: Sequence[tuple[CellNote, Place]]) -> None:
    """The first sheet: every note, where it is and what to do, each place linked to its cell."""
    summary = workbook.create_sheet(SUMMARY_SHEET_TITLE, 0)
    for column, (header, width) in enumerate(zip(SUMMARY_HEADERS, SUMMARY_WIDTHS, strict=True), start=1):
        text_cell(summary, 1, column, header).font = Font(bold=True)
        summary.column_dimensions[get_column_letter(column)].width = width
    summary.freeze_panes = "A2"
    for row, (note, place) in enumerate(placed, start=2):
        tab = text_cell(summary, row, 1, place.tab or note.sheet)
        text_cell(summary, row, 2, place.row)
        text_cell(summary, row, 3, get_column_letter(place.column) if place.column is not None else None)
        severity = text_cell(summary, row, 4, SEVERITY_LABELS.get(note.severity, note.severity))
        severity.fill = solid(CELL_COLOURS.get(note.severity, CELL_COLOURS["error"]))
        text_cell(summary, row, 5, note.text).alignment = Alignment(wrap_text=True, vertical="top")
        if place.tab is not None:
            target = f"{get_column_letter(place.column or 1)}{place.row or 1}"
            tab.hyperlink = Hyperlink(ref=tab.coordinate, location=f"{quote_sheetname(place.tab)}!{target}")
            tab.font = Font(color="FF0563C1", underline="single")
    for worksheet in workbook.worksheets:
        worksheet.sheet_view.tabSelected = False
    summary.sheet_view.tabSelected = True
    workbook.active = 0


def save_beside(workbook: Workbook, target: Path) -> None:
    """Save to a temporary file beside ``target``, then move it in place: never a half-written target."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(handle)
    try:
        workbook.save(temporary)
        os.replace(temporary, target)
    finally:
        Path(temporary).unlink(missing_ok=True)


def mark_workbook(
    source: Path,
    notes: Sequence[CellNote],
    target: Path,
    *,
    contract: Contract | None = None,
    limits: Limits | None = None,
) -> Path | None:
    """Write to ``target`` a copy of the submitted workbook with each note's cell marked and the summary sheet first.

    Returns ``target``, or None (and writes nothing) when ``source`` is not an .xlsx/.xlsm the reader reads (a
    CSV zip, an .ods, a legacy .xls, a broken or hostile file) or openpyxl cannot load or save it. Pass the
    deployment's ``limits`` (``Settings.limits``) so the file is read as intake read it. ``source`` is only read.
    """
    if source.resolve() == target.resolve():
        raise ValueError(f"the marked copy would overwrite the submitted file {source}")
    contract = contract or load_contract()
    layouts = read_layouts(source, contract, limits or Limits())
    if layouts is None:
        return None
    try:
        with source.open("rb") as handle:  # a file object: openpyxl's check of the name's suffix does not apply
            workbook = load_workbook(handle, rich_text=True)
        clear_earlier_marks(workbook)
        placed = resolved_places(notes, layouts, workbook)
        mark_cells(workbook, placed, layouts)
        write_summary(workbook, placed)
        save_beside(workbook, target)
    except Exception as error:  # noqa: BLE001 - openpyxl raises many types on odd files: no copy, the list remains
        log.warning("no marked copy of %s: openpyxl failed: %s: %s", source.name, type(error).__name__, error)
        return None
    return target
