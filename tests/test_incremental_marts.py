"""The marts built night after night (incremental: only the committee and province years that changed) are the
marts a full rebuild (``dbt build --full-refresh``) gives on the same warehouse, checksum for checksum: a demo
history arriving over several nights, with a corrected version of a report already counted and a rejected one, then
a night where only the staff's approval of a counted report changed."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path

from chibo.config import Settings
from contract.workbook import write_csv_zip
from demo.history_generator import history_reports
from pipeline import nightly
from pipeline.dbt_runner import DBT_PROJECT_DIR, dbt_build
from warehouse.approvals import ApprovalDecision, record_decisions
from warehouse.raw import connect

PROVINCES = ["Yên Bái"]  # restated onto today's Lào Cai
YEARS = [2022, 2023, 2024]  # 2022 aggregate-only, 2023-2024 detailed


def mart_checksums(warehouse: Path) -> dict[str, tuple[int, str]]:
    """Every mart (each fct_ and dim_ table of the marts schema): its row count and the md5 of its rows in order."""
    with connect(warehouse, read_only=True) as connection:
        marts = [
            name
            for (name,) in connection.execute(
                "select table_name from information_schema.tables where table_schema = 'marts' order by table_name"
            ).fetchall()
        ]
        checksums = {}
        for mart in marts:
            [(rows, checksum)] = connection.execute(
                "select count(*), md5(coalesce(string_agg(cast(r as varchar), chr(10)"
                f" order by cast(r as varchar)), '')) from marts.{mart} as r"
            ).fetchall()
            checksums[mart] = (rows, checksum)
    return checksums


def night(settings: Settings, run_id: str, reports: dict[str, dict]) -> dict[str, str]:
    """One night through the pipeline's steps: tonight's files in the inbox, intake, validation, the marts."""
    for stem, report in reports.items():
        write_csv_zip(settings.inbox / f"{stem}.zip", report)
    nightly.ingest(settings, run_id)
    outcomes = nightly.validate(settings, run_id)
    nightly.build_marts(settings, run_id)
    return outcomes


def corrected(report: dict) -> dict:
    """A new version of a report: its first organisation's women members corrected (still a valid report)."""
    report = copy.deepcopy(report)
    report["to_chuc_co_so"][0]["members_female"] = 1
    return report


def broken(report: dict) -> dict:
    """A new version whose tổng hợp does not add up: rejected, so the version before it keeps counting."""
    report = copy.deepcopy(report)
    report["to_chuc_co_so"][0]["members_female"] = 2
    report["tong_hop"]["members_total"] = 1
    return report


def test_incremental_nights_give_the_marts_of_a_full_rebuild(settings: Settings):
    history = {g.file_stem: g.report for g in history_reports(PROVINCES, YEARS, seed=7, detail_years=[2023, 2024])}
    by_year = {
        year: {stem: report for stem, report in history.items() if stem.startswith(f"{year}_")} for year in YEARS
    }
    assert all(by_year.values()) and sum(map(len, by_year.values())) == len(history)
    [(counted_stem, counted), *_] = by_year[2023].items()
    [(other_stem, other), *_] = by_year[2024].items()

    first = night(settings, "night-1", by_year[2022] | by_year[2023])  # the marts are built whole
    second = night(settings, "night-2", by_year[2024] | {f"{counted_stem}-v2": corrected(counted)})
    third = night(
        settings,
        "night-3",
        {f"{counted_stem}-v3": broken(counted), f"{other_stem}-v2": corrected(other)},
    )
    assert set(first.values()) == set(second.values()) == {"accepted"}
    assert sorted(third.values()) == ["accepted", "rejected"]

    with connect(settings.warehouse, read_only=True) as connection:
        new_versions = connection.execute(
            "select distinct s.file_name, m.version from marts.fct_members as m"
            " inner join raw.submissions as s on m.submission_id = s.submission_id"
            " where s.file_name like '%-v_.zip' order by 1"
        ).fetchall()
    # the corrected versions count, the rejected one never does
    assert new_versions == sorted([(f"{counted_stem}-v2.zip", 2), (f"{other_stem}-v2.zip", 2)])

    # a fourth night where only the staff's approval of a report already counted changes (no file, no lock)
    [_, approved_stem, *_] = by_year[2023]  # a detailed report counted since the first night
    with connect(settings.warehouse) as connection:
        [(approved_id,)] = connection.execute(
            "select submission_id from raw.submissions where file_name = ?", [f"{approved_stem}.zip"]
        ).fetchall()
    nightly.ingest(settings, "night-4")  # the night's sync of the portal comes first; its state is then:
    with connect(settings.warehouse) as connection:
        record_decisions(connection, [ApprovalDecision(approved_id, "approved", None, "lan", datetime.now(UTC))], [])
    nightly.build_marts(settings, "night-4")
    with connect(settings.warehouse, read_only=True) as connection:
        approved = connection.execute(
            "select distinct approval_state from marts.fct_evaluations where submission_id = ?", [approved_id]
        ).fetchall()
        [(committees_approved,)] = connection.execute(
            "select sum(committees_approved) from marts.fct_province_year_restated where report_year = 2023"
        ).fetchall()
    assert approved == [("approved",)] and committees_approved == 1

    incremental = mart_checksums(settings.warehouse)
    dbt_build(settings.warehouse, settings.work_dir, full_refresh=True)
    full = mart_checksums(settings.warehouse)

    assert {mart for mart in full if mart.startswith(("fct_", "dim_"))} == set(full)
    assert set(full) == {model.stem for model in (DBT_PROJECT_DIR / "models" / "marts").rglob("*.sql")}
    assert incremental == full
