"""Checks against a committee's own accepted history: roll-forward, outliers, villages with a branch."""

from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path

import pytest

from chibo.config import Settings
from contract.workbook import write_xlsx
from demo.samples import MUONG_KHUONG_2023, synthesise_report
from expectations.history import Current, history_row, modified_z, roll_forward
from ingestion.intake import ingest_inbox
from pipeline.check import check_file
from tests.nights import validate_tonight
from warehouse.raw import connect

HISTORY = {2019: 3650, 2020: 3700, 2021: 3690, 2022: 3760}  # members at year end, as accepted earlier


def report_for(year: int, members: int) -> dict:
    return synthesise_report(replace(MUONG_KHUONG_2023, year=year, members_total=members, seed=year))


def load_history(settings: Settings) -> None:
    for year, members in HISTORY.items():
        write_xlsx(settings.inbox / f"mk_{year}.xlsx", report_for(year, members))
    with connect(settings.warehouse) as connection:
        ingest_inbox(connection, settings, "earlier")
    outcomes = validate_tonight(settings, "earlier")
    assert {o.outcome for o in outcomes} == {"accepted"}


def night_findings(settings: Settings, report: dict) -> list:
    write_xlsx(settings.inbox / "mk_2023.xlsx", report)
    with connect(settings.warehouse) as connection:
        ingest_inbox(connection, settings, "tonight")
    [outcome] = validate_tonight(settings, "tonight")
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
    assert modified_z(100, [10, 12]) is None  # too little history
    assert modified_z(100, [10, 11, 12, 13]).spread == "mad"
    assert modified_z(100, [10, 11, 12, 13]).score > 3.5
    assert modified_z(12, [10, 11, 12, 13]).score < 3.5


def test_the_outlier_check_falls_back_to_the_mean_absolute_deviation_when_mad_is_0():
    # MAD is 0 (most years equal): |x − median| / (1.253314 · mean absolute deviation)
    fallback = modified_z(120, [12, 12, 12, 13])
    assert fallback.spread == "mean_ad"
    assert fallback.score == pytest.approx(108 / (1.253314 * 0.25))
    assert modified_z(12, [12, 12, 12, 13]).score == 0
    # every earlier year the same figure: a typo of 120 is flagged, the same figure is not
    assert modified_z(120, [12, 12, 12, 12]).score == float("inf")
    assert modified_z(12, [12, 12, 12, 12]).score == 0


def test_an_outlier_found_by_the_fallback_says_so():
    history = {("k", year): {"branches_total": 12.0} for year in (2019, 2020, 2021, 2022)}
    current = Current("s", "k", 2023, {"branches_total": 120.0}, 7)
    row = history_row(current, history)
    assert row["branches_total_typical"] is False
    assert row["branches_total_z"] == "∞"
    assert "các năm trước đều cùng một số liệu" in row["branches_total_spread_note"]
    current = Current("s", "k", 2023, {"branches_total": 120.0}, 7)
    history[("k", 2018)] = {"branches_total": 13.0}
    row = history_row(current, history)
    assert row["branches_total_typical"] is False
    assert "độ lệch tuyệt đối trung bình × 1,253314" in row["branches_total_spread_note"]
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
    path = write_xlsx(tmp_path / "kiem_tra.xlsx", copy.deepcopy(report))
    outcome = check_file(path, settings, warehouse=settings.warehouse if with_warehouse else None)
    flagged = any(f.rule_id == "lich_su.bat_thuong.members_total" for f in outcome.findings)
    assert flagged is with_warehouse
