"""The administrative-unit reference tables: both eras, and the crosswalk from old units to new provinces."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from warehouse.admin_dimension import AdminReference, admin_reference, write_admin_reference


@pytest.fixture(scope="module")
def reference() -> AdminReference:
    return admin_reference()


@pytest.fixture(scope="module")
def written() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    write_admin_reference(connection)
    return connection


def new_province_of_old(reference: AdminReference) -> dict[str, str]:
    return {str(row["old_province_key"]): str(row["new_province_key"]) for row in reference.province_crosswalk}


def test_every_unit_of_both_eras_once(reference: AdminReference):
    counts: dict[tuple[object, object], int] = {}
    for row in reference.units:
        counts[(row["era"], row["level"])] = counts.get((row["era"], row["level"]), 0) + 1
    assert counts == {
        ("pre-2025", "province"): 63,
        ("pre-2025", "district"): 696,
        ("2025+", "province"): 34,
        ("2025+", "commune"): 3321,
    }
    keys = [row["unit_key"] for row in reference.units]
    assert len(keys) == len(set(keys))
    assert all(row["unit_key"] == f"{row['era']}:{row['level']}:{row['code']}" for row in reference.units)


def test_validity_dates_split_at_the_reform(reference: AdminReference):
    for row in reference.units:
        if row["era"] == "pre-2025":
            assert (row["valid_from"], row["valid_to"]) == (None, date(2025, 6, 30))  # start unknown: snapshot
        else:
            assert (row["valid_from"], row["valid_to"]) == (date(2025, 7, 1), None)


def test_63_old_provinces_map_onto_34_new(reference: AdminReference):
    mapping = new_province_of_old(reference)
    new_keys = {str(row["unit_key"]) for row in reference.units if row["era"] == "2025+" and row["level"] == "province"}
    assert len(mapping) == 63
    assert set(mapping.values()) == new_keys
    assert len(new_keys) == 34


def test_lao_cai_and_yen_bai_become_the_new_lao_cai(reference: AdminReference):
    mapping = new_province_of_old(reference)
    assert mapping["pre-2025:province:10"] == "2025+:province:15"  # old Lào Cai
    assert mapping["pre-2025:province:15"] == "2025+:province:15"  # old Yên Bái
    merged = sorted(
        row["old_province_name"] for row in reference.province_crosswalk if row["new_province_code"] == "15"
    )
    assert merged == ["Lào Cai", "Yên Bái"]
    [new_lao_cai] = [row for row in reference.units if row["unit_key"] == "2025+:province:15"]
    assert new_lao_cai["short_name"] == "Lào Cai"


def test_dien_bien_and_son_la_map_to_themselves(reference: AdminReference):
    mapping = new_province_of_old(reference)
    assert mapping["pre-2025:province:11"] == "2025+:province:11"
    assert mapping["pre-2025:province:14"] == "2025+:province:14"
    alone = [row for row in reference.province_crosswalk if row["new_province_code"] in {"11", "14"}]
    assert sorted(row["old_province_name"] for row in alone) == ["Sơn La", "Điện Biên"]


def test_every_old_district_has_a_crosswalk_row_agreeing_with_its_province(reference: AdminReference):
    districts = {row["unit_key"] for row in reference.units if row["level"] == "district"}
    crosswalk = {row["district_key"]: row for row in reference.district_crosswalk}
    assert set(crosswalk) == districts
    assert len(reference.district_crosswalk) == 696
    provinces = new_province_of_old(reference)
    assert all(provinces[str(row["old_province_key"])] == row["new_province_key"] for row in crosswalk.values())
    assert crosswalk["pre-2025:district:083"]["new_province_key"] == "2025+:province:15"  # Mường Khương, Lào Cai
    assert crosswalk["pre-2025:district:135"]["new_province_key"] == "2025+:province:15"  # Lục Yên, Yên Bái
    assert crosswalk["pre-2025:district:116"]["new_province_key"] == "2025+:province:14"  # Thành phố Sơn La


def test_reused_code_15_is_two_units(reference: AdminReference):
    provinces_15 = {
        str(row["unit_key"]): row["short_name"]
        for row in reference.units
        if row["level"] == "province" and row["code"] == "15"
    }
    assert provinces_15 == {"pre-2025:province:15": "Yên Bái", "2025+:province:15": "Lào Cai"}


def test_written_tables(written: duckdb.DuckDBPyConnection):
    counts = {
        table: written.execute(f"select count(*) from raw.{table}").fetchone()
        for table in ("ref_admin_units", "ref_province_crosswalk", "ref_district_crosswalk")
    }
    assert counts == {"ref_admin_units": (4114,), "ref_province_crosswalk": (63,), "ref_district_crosswalk": (696,)}
    kinds = dict(written.execute("select column_name, column_type from (describe raw.ref_admin_units)").fetchall())
    assert kinds["valid_from"] == kinds["valid_to"] == "DATE"
    write_admin_reference(written)  # replaced, not appended
    assert written.execute("select count(*) from raw.ref_admin_units").fetchone() == (4114,)
