"""The marts through a real dbt build: only the latest accepted version of a report feeds them."""

from __future__ import annotations

import copy

from chibo.config import Settings
from contract.workbook import write_xlsx
from demo.samples import muong_khuong_2023
from pipeline import nightly
from warehouse.raw import connect


def members_row(settings: Settings, org_code: str) -> tuple:
    with connect(settings.warehouse, read_only=True) as connection:
        [(version, female)] = connection.execute(
            "select version, members_female from marts.fct_members where org_code = ?", [org_code]
        ).fetchall()
        [(organisations,)] = connection.execute("select count(*) from marts.fct_members").fetchall()
    return version, female, organisations


def test_a_corrected_version_replaces_the_old_one_and_a_rejected_one_never_does(settings: Settings):
    first = muong_khuong_2023()
    org_code = first["to_chuc_co_so"][0]["org_code"]
    write_xlsx(settings.inbox / "v1.xlsx", first)
    nightly.ingest(settings, "night-1")
    nightly.validate(settings, "night-1")
    nightly.build_marts(settings)
    assert members_row(settings, org_code) == (1, first["to_chuc_co_so"][0]["members_female"], 42)

    corrected = copy.deepcopy(first)
    corrected["to_chuc_co_so"][0]["members_female"] = 1
    write_xlsx(settings.inbox / "v2.xlsx", corrected)
    broken = copy.deepcopy(corrected)
    broken["to_chuc_co_so"][0]["members_female"] = 2
    broken["tong_hop"]["members_total"] = 1  # does not add up: rejected
    write_xlsx(settings.inbox / "v3.xlsx", broken)
    nightly.ingest(settings, "night-2")
    outcomes = nightly.validate(settings, "night-2")
    nightly.build_marts(settings)

    assert sorted(outcomes.values()) == ["accepted", "rejected"]
    assert members_row(settings, org_code) == (2, 1, 42)
    with connect(settings.warehouse, read_only=True) as connection:
        versions = connection.execute("select version from raw.submissions order by version").fetchall()
    assert versions == [(1,), (2,), (3,)]  # every version stays in the registry
