"""``chibo export``: the province's consolidated report as the official form, from the marts of a real night,
read back by the reader to the marts' figures; values only, never a formula (formula injection)."""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from chibo.config import Settings
from contract.model import load_contract
from contract.workbook import write_xlsx
from demo.samples import muong_khuong_2023
from pipeline import nightly
from reading.reader import read_report
from units.admin_units import resolve_province
from warehouse.admin_dimension import write_admin_reference
from warehouse.expected import write_expected
from warehouse.export import Committee, ProvinceFigures, province_form, write_province_report
from warehouse.raw import connect

OLD_LAO_CAI, NEW_LAO_CAI = "10", "15"
HOSTILE_NAMES = ('=HYPERLINK("http://example.org/x","Bấm vào đây")', "+84 912 345 678", "-1+1", "@SUM(1+1)")


@pytest.fixture
def night(settings: Settings) -> Settings:
    """A night over Mường Khương (Lào Cai) and Lục Yên (Yên Bái) 2023: two provinces then, one today."""
    lao_cai = muong_khuong_2023()
    yen_bai = copy.deepcopy(lao_cai)
    yen_bai["thong_tin"].update(province="Yên Bái", committee_name="Đảng bộ huyện Lục Yên", committee_code="135")
    write_xlsx(settings.inbox / "lao-cai_muong-khuong_2023.xlsx", lao_cai)
    write_xlsx(settings.inbox / "yen-bai_luc-yen_2023.xlsx", yen_bai)
    nightly.ingest(settings, "night-1")
    with connect(settings.warehouse) as connection:
        write_admin_reference(connection)
        write_expected(connection, ["Lào Cai", "Yên Bái"], [2023])  # as the night does for configured provinces
    assert sorted(nightly.validate(settings, "night-1").values()) == ["accepted", "accepted"]
    nightly.build_marts(settings)
    return settings


def mart_row(settings: Settings, sql: str, *parameters: object) -> dict[str, Any]:
    with connect(settings.warehouse, read_only=True) as connection:
        cursor = connection.execute(sql, list(parameters))
        columns = [d[0] for d in cursor.description]
        [row] = cursor.fetchall()
    return dict(zip(columns, row, strict=True))


def read_back(path: Path) -> tuple[dict[str, str | None], dict[str, str | None]]:
    report = read_report(path)
    assert report.report_kind == "aggregate_only"

    def values(sheet: str) -> dict[str, str | None]:
        return {row.values["field"]: row.values["value"] for row in report.sheets[sheet].rows}  # type: ignore[misc]

    return values("thong_tin"), values("tong_hop")


def texts(path: Path) -> list[str]:
    book = load_workbook(path)
    return [str(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value is not None]


def no_formula_anywhere(path: Path) -> bool:
    with zipfile.ZipFile(path) as archive:
        return not any(b"<f>" in archive.read(n) or b"<f " in archive.read(n) for n in archive.namelist())


def assert_totals_are_the_marts(totals: dict[str, str | None], mart: dict[str, Any]) -> None:
    compared = [f.name for f in load_contract().sheet("tong_hop").fields if f.name in mart]
    assert len(compared) >= 10
    for name in compared:
        assert totals[name] == (None if mart[name] is None else str(mart[name])), name


def test_the_province_as_reported_reads_back_to_the_marts_figures(night: Settings, tmp_path: Path):
    path = write_province_report(night, OLD_LAO_CAI, 2023, "as_reported", tmp_path / "lao-cai-2023.xlsx")
    info, totals = read_back(path)
    mart = mart_row(night, "select * from marts.fct_province_year where province = 'Lào Cai' and report_year = 2023")
    rate = mart_row(
        night,
        "select expected from marts.fct_reporting_rate where province_code = ? and report_year = 2023",
        OLD_LAO_CAI,
    )
    assert_totals_are_the_marts(totals, mart)
    assert totals["members_total"] == str(muong_khuong_2023()["tong_hop"]["members_total"])
    assert info["province"] == "Lào Cai" and info["report_year"] == "2023" and info["committee_level"] == "tinh"
    assert info["committee_name"] == "Đảng bộ tỉnh Lào Cai"
    assert info["prepared_on"] == date.today().isoformat()
    written = texts(path)
    expected = mart.get("committees_expected") or rate["expected"]  # the mart's own count, once it has one
    assert f"Số liệu tổng hợp từ 1/{expected} đảng bộ trực thuộc, theo địa giới hành chính năm 2023" in written
    assert expected > 1  # Lào Cai had several districts: the form says how incomplete it is
    assert "Huyện Mường Khương" in written  # the committees summed, with their status
    assert no_formula_anywhere(path)


def test_the_province_restated_sums_old_lao_cai_and_yen_bai(night: Settings, tmp_path: Path):
    path = write_province_report(night, NEW_LAO_CAI, 2023, "restated", tmp_path / "lao-cai-2023-restated.xlsx")
    info, totals = read_back(path)
    mart = mart_row(
        night,
        "select * from marts.fct_province_year_restated where province_code = ? and report_year = 2023",
        NEW_LAO_CAI,
    )
    assert_totals_are_the_marts(totals, mart)
    assert totals["members_total"] == str(2 * muong_khuong_2023()["tong_hop"]["members_total"])
    assert info["committee_code"] == NEW_LAO_CAI
    note = next(t for t in texts(path) if t.startswith("Số liệu tổng hợp từ 2/"))
    assert "Lào Cai + Yên Bái" in note
    assert no_formula_anywhere(path)


def test_nothing_to_export_is_said(night: Settings, tmp_path: Path):
    from warehouse.export import NothingToExport

    with pytest.raises(NothingToExport):
        write_province_report(night, OLD_LAO_CAI, 2019, "as_reported", tmp_path / "none.xlsx")
    with pytest.raises(NothingToExport):
        write_province_report(night, "99", 2023, "restated", tmp_path / "none.xlsx")


def test_a_committee_name_that_looks_like_a_formula_stays_text(tmp_path: Path):
    from contract.workbook import write_form

    province = resolve_province(NEW_LAO_CAI, 2025)
    assert province is not None
    found = ProvinceFigures(
        province,
        2025,
        "as_reported",
        {"committees_expected_reporting": 3, "committees_expected": 4, "members_total": 100, "orgs_total": 4},
        tuple(Committee(name, "on_time") for name in HOSTILE_NAMES[:3]) + (Committee(HOSTILE_NAMES[3], "missing"),),
    )
    report, header, annex = province_form(found, date(2026, 1, 20))
    path = write_form(tmp_path / "hostile.xlsx", report, header, annexes=(annex,))

    assert no_formula_anywhere(path)
    assert all(name in texts(path) for name in HOSTILE_NAMES)
    assert "Số liệu tổng hợp từ 3/4 đảng bộ trực thuộc, theo địa giới hành chính năm 2025" in texts(path)
    if shutil.which("soffice") is None:
        pytest.skip("needs LibreOffice (soffice) to check what a spreadsheet makes of the cells")
    subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{tmp_path / 'profile'}", "--headless", "--convert-to", "pdf",
         "--outdir", str(tmp_path), str(path)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    text = subprocess.run(
        ["pdftotext", "-layout", str(tmp_path / "hostile.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "=HYPERLINK(" in text and "@SUM(1+1)" in text and re.search(r"-1\+1", text)
