"""Checks against a committee's own accepted history: roll-forward, outliers, villages with a branch."""

from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path

import pytest

from chibo.config import Settings
from contract.workbook import write_xlsx
from demo.samples import MUONG_KHUONG_2023, synthesise_report
from expectations.history import modified_z, roll_forward
from expectations.validate import validate_pending, validate_report
from ingestion.intake import ingest_inbox
from reading.reader import read_report
from warehouse.raw import connect

HISTORY = {2019: 3650, 2020: 3700, 2021: 3690, 2022: 3760}  # members at year end, as accepted earlier


def report_for(year: int, members: int) -> dict:
    return synthesise_report(replace(MUONG_KHUONG_2023, year=year, members_total=members, seed=year))


def load_history(settings: Settings) -> None:
    for year, members in HISTORY.items():
        write_xlsx(settings.inbox / f"mk_{year}.xlsx", report_for(year, members))
    with connect(settings.warehouse) as connection:
        ingest_inbox(connection, settings, "earlier")
        outcomes = validate_pending(connection, "earlier", settings=settings)
    assert {o.outcome for o in outcomes} == {"accepted"}


def night_findings(settings: Settings, report: dict) -> list:
    write_xlsx(settings.inbox / "mk_2023.xlsx", report)
    with connect(settings.warehouse) as connection:
        ingest_inbox(connection, settings, "tonight")
        [outcome] = validate_pending(connection, "tonight", settings=settings)
    return [f for f in outcome.findings if f.rule_id.startswith("lich_su.")]


def consistent_2023(members: int) -> dict:
    """A 2023 report whose year-end stock rolls forward exactly from 2022's."""
    report = report_for(2023, members)
    flows = members - HISTORY[2022]
    first = report["to_chuc_co_so"][0]
    for row in report["to_chuc_co_so"]:
        for name in ("admitted", "transferred_in", "transferred_out", "deceased", "struck_off", "expelled_dismissed"):
            row[name] = 0
    first["admitted"] = max(120, flows)  # a usual year's admissions, and deaths to balance
    first["deceased"] = first["admitted"] - flows
    report["tong_hop"]["admitted"] = first["admitted"]
    return report


def test_pure_helpers():
    assert modified_z(100, [10, 10, 10]) is None  # MAD 0: no flag
    assert modified_z(100, [10, 12]) is None  # too little history
    assert modified_z(100, [10, 11, 12, 13]) > 3.5
    assert (
        roll_forward(
            100,
            {
                "admitted": 5,
                "transferred_in": 1,
                "deceased": 2,
                "struck_off": 0,
                "expelled_dismissed": 0,
                "transferred_out": 1,
            },
        )
        == 103
    )


def test_a_report_consistent_with_its_history_passes(settings: Settings):
    load_history(settings)
    assert night_findings(settings, consistent_2023(3792)) == []


def test_roll_forward_gap_is_a_warning_with_the_gap(settings: Settings):
    load_history(settings)
    report = consistent_2023(3792)
    report["to_chuc_co_so"][0]["admitted"] -= 7
    report["tong_hop"]["admitted"] -= 7
    [finding] = [f for f in night_findings(settings, report) if f.rule_id == "lich_su.chuyen_so_du"]
    assert finding.severity == "warning"
    assert "chênh 7" in finding.message and "cuối năm 2022" in finding.message


def test_an_outlier_in_the_committees_own_history_is_flagged(settings: Settings):
    load_history(settings)
    report = consistent_2023(5200)  # far from 3,650–3,760
    found = {f.rule_id: f for f in night_findings(settings, report)}
    assert "lich_su.bat_thuong.members_total" in found
    assert "5.200" in found["lich_su.bat_thuong.members_total"].message


def test_fewer_villages_with_a_branch_than_last_year(settings: Settings):
    load_history(settings)
    report = consistent_2023(3792)
    for village in report["thon_ban"][:3]:
        village["branch_code"] = None
    found = {f.rule_id for f in night_findings(settings, report)}
    assert "lich_su.thon_co_chi_bo_giam" in found


@pytest.mark.parametrize("with_warehouse", [True, False])
def test_chibo_validate_applies_history_checks_only_with_a_warehouse(
    settings: Settings, tmp_path: Path, with_warehouse
):
    load_history(settings)
    report = consistent_2023(5200)
    parsed = read_report(write_xlsx(tmp_path / "kiem_tra.xlsx", copy.deepcopy(report)))
    outcome = validate_report(parsed, warehouse=settings.warehouse if with_warehouse else None)
    flagged = any(f.rule_id == "lich_su.bat_thuong.members_total" for f in outcome.findings)
    assert flagged is with_warehouse
