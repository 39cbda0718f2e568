"""Two views of the same reports through a real night: as reported (fct_province_year) and restated onto
today's 34 provinces (fct_province_year_restated), where old Lào Cai and old Yên Bái are one province."""

from __future__ import annotations

import copy

from chibo.config import Settings
from contract.workbook import write_xlsx
from demo.samples import muong_khuong_2023
from pipeline import nightly
from warehouse.admin_dimension import write_admin_reference
from warehouse.raw import connect

YEN_BAI_DISTRICT = ("Đảng bộ huyện Lục Yên", "135")


def test_lao_cai_and_yen_bai_2023_are_summed_into_the_current_lao_cai(settings: Settings):
    lao_cai = muong_khuong_2023()
    yen_bai = copy.deepcopy(lao_cai)
    yen_bai["thong_tin"].update(
        province="Yên Bái",
        committee_name=YEN_BAI_DISTRICT[0],
        committee_code=YEN_BAI_DISTRICT[1],
        contact_email="bantochuc.lucyen@example.org",
    )
    write_xlsx(settings.inbox / "lao-cai_muong-khuong_2023.xlsx", lao_cai)
    write_xlsx(settings.inbox / "yen-bai_luc-yen_2023.xlsx", yen_bai)

    nightly.ingest(settings, "night-1")
    with connect(settings.warehouse) as connection:
        write_admin_reference(connection)
    outcomes = nightly.validate(settings, "night-1")
    nightly.build_marts(settings)

    assert sorted(outcomes.values()) == ["accepted", "accepted"]
    members = int(lao_cai["tong_hop"]["members_total"])
    with connect(settings.warehouse, read_only=True) as connection:
        keys = connection.execute("select committee_key from raw.submissions order by committee_key").fetchall()
        as_reported = connection.execute(
            "select province, report_year, members_total from marts.fct_province_year order by province"
        ).fetchall()
        restated = connection.execute(
            "select province_key, province_code, province, report_year, restated_from, provinces_reported,"
            " committees_reporting, members_total, orgs_total from marts.fct_province_year_restated"
        ).fetchall()
        lao_cai_new = connection.execute(
            "select is_current, current_province_key from marts.dim_admin_unit where unit_key = '2025+:province:15'"
        ).fetchall()

    assert keys == [("pre-2025:district:083",), ("pre-2025:district:135",)]
    assert as_reported == [("Lào Cai", 2023, members), ("Yên Bái", 2023, members)]
    assert restated == [
        (
            "2025+:province:15",
            "15",
            "Lào Cai",
            2023,
            "Lào Cai + Yên Bái",
            2,
            2,
            2 * members,
            2 * lao_cai["tong_hop"]["orgs_total"],
        )
    ]
    assert lao_cai_new == [(True, "2025+:province:15")]
