from pathlib import Path

from openpyxl import load_workbook

from chibo.format_docs import DOC_PATH, render
from contract.model import fold, load_contract, raw_columns
from contract.workbook import HEADER_ROW, INSTRUCTIONS_SHEET, KEY_HEADER, LISTS_SHEET, write_xlsx


def test_names_are_unique_snake_case_within_each_sheet():
    for sheet in load_contract().sheets:
        names = [f.name for f in sheet.fields]
        assert len(names) == len(set(names)), sheet.name
        assert all(name == name.lower() and " " not in name for name in names)


def test_spellings_do_not_collide_within_a_sheet():
    """A header must map to exactly one field, or the reader would guess."""
    for sheet in load_contract().sheets:
        seen: dict[str, str] = {}
        for field_ in sheet.fields:
            for spelling in field_.spellings():
                key = fold(spelling)
                assert seen.setdefault(key, field_.name) == field_.name, (sheet.name, spelling)


def test_template_has_every_sheet_and_header_of_the_contract(tmp_path: Path):
    workbook = load_workbook(write_xlsx(tmp_path / "mau.xlsx"))
    contract = load_contract()
    assert workbook.sheetnames == [INSTRUCTIONS_SHEET, *(s.title for s in contract.sheets), LISTS_SHEET]
    for sheet in contract.sheets:
        rows = list(workbook[sheet.title].iter_rows(min_row=HEADER_ROW, values_only=True))
        if sheet.layout == "table":
            assert list(rows[0]) == [f.header for f in sheet.fields]
        else:
            assert rows[0][0] == KEY_HEADER
            assert [r[0] for r in rows[1 : 1 + len(sheet.fields)]] == [f.header for f in sheet.fields]


def test_grade_columns_keep_the_label_as_reported():
    sheet = load_contract().sheet("to_chuc_co_so")
    columns = raw_columns(sheet)
    assert columns[columns.index("org_grade") + 1] == "org_grade_label"


def test_submission_format_doc_is_generated_from_the_contract():
    assert DOC_PATH.read_text(encoding="utf-8") == render(), "run: python -m chibo.format_docs"
