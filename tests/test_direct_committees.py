"""Committees directly under the province that are not administrative units have registry entries."""

from __future__ import annotations

import copy

import pytest

from chibo.config import Settings
from contract.workbook import write_xlsx
from demo.samples import muong_khuong_2023
from ingestion.intake import ingest_inbox
from tests.nights import validate_tonight
from units.direct_committees import resolve_direct
from warehouse.raw import connect


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Đảng bộ Quân sự tỉnh", "pre-2025:direct:14:quan-su"),
        ("Đảng ủy Công an tỉnh Sơn La", "pre-2025:direct:14:cong-an"),
        ("Bộ đội Biên phòng tỉnh", "pre-2025:direct:14:bien-phong"),
        ("Đảng bộ Khối các cơ quan tỉnh", "pre-2025:direct:14:khoi-co-quan"),
        ("Trường Đại học Tây Bắc", "pre-2025:direct:14:dai-hoc-tay-bac"),
    ],
)
def test_direct_committees_of_son_la_2019_resolve(name: str, key: str):
    resolution = resolve_direct("Sơn La", name, 2019)
    assert resolution is not None and resolution.unit.key == key
    assert resolution.unit.province_name == "Sơn La"


def test_a_university_of_another_province_is_not_in_this_one_and_districts_are_not_direct():
    assert resolve_direct("Lào Cai", "Trường Đại học Tây Bắc", 2019) is None
    assert resolve_direct("Sơn La", "Huyện Mường La", 2019) is None


def test_keys_differ_across_the_reform_and_provinces():
    before = resolve_direct("Lào Cai", "Công an tỉnh", 2024).unit
    after = resolve_direct("Lào Cai", "Công an tỉnh", 2025).unit
    assert (before.key, after.key) == ("pre-2025:direct:10:cong-an", "2025+:direct:15:cong-an")


def test_a_direct_committees_report_is_accepted_and_versioned(settings: Settings):
    report = copy.deepcopy(muong_khuong_2023())
    report["thong_tin"].update(province="Lào Cai", committee_name="Đảng bộ Quân sự tỉnh", committee_code=None)
    write_xlsx(settings.inbox / "quan_su.xlsx", report)
    with connect(settings.warehouse) as connection:
        ingest_inbox(connection, settings, "night")
    [outcome] = validate_tonight(settings, "night")
    with connect(settings.warehouse, read_only=True) as connection:
        [(key, province)] = connection.execute("select committee_key, province from raw.submissions").fetchall()
    assert outcome.outcome == "accepted"
    assert (key, province) == ("pre-2025:direct:10:quan-su", "Lào Cai")
