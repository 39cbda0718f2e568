"""Intake and the night's batch validation against a real DuckDB warehouse."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from chibo.config import Settings
from contract.workbook import write_xlsx
from demo.samples import (
    MUONG_NHE_2016_OFF_BY_TWO_ORG,
    SAMPLE_REPORTS,
    UNREADABLE_FILE_NAME,
    muong_khuong_2023,
    write_sample_inbox,
)
from ingestion.intake import ingest_inbox
from tests.nights import validate_tonight
from units.committee import committee_key
from warehouse.raw import connect


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_fallback_committee_key_ignores_prefix_case_and_diacritics():
    """The key of a committee that is not (yet) resolved to an official unit: versions still line up."""
    assert committee_key("Lào Cai", "Đảng bộ huyện Mường Khương") == "lao-cai/muong-khuong"
    assert committee_key("LÀO CAI", "H. Mường  Khương") == "lao-cai/muong-khuong"
    assert committee_key("Lào Cai", None) is None


def test_inbox_is_never_modified_and_every_file_is_kept_under_its_hash(settings: Settings):
    paths = write_sample_inbox(settings.inbox)
    before = {p.name: digest(p) for p in paths}
    with connect(settings.warehouse) as connection:
        results = ingest_inbox(connection, settings, "night-1")
    assert {p.name: digest(p) for p in paths} == before
    archived = {p.name.split(".")[0] for p in settings.archive.iterdir()}
    quarantined = {p.name.split(".")[0] for p in settings.quarantine.iterdir()}
    assert archived | quarantined == set(before.values())
    assert quarantined == {before[UNREADABLE_FILE_NAME]}
    reason = json.loads((settings.quarantine / f"{before[UNREADABLE_FILE_NAME]}.json").read_text(encoding="utf-8"))
    assert reason["file_name"] == UNREADABLE_FILE_NAME and "không phải bảng tính" in reason["message_vi"]
    assert {r.file_name: r.status for r in results}[UNREADABLE_FILE_NAME] == "unreadable"
    assert sum(r.status == "new" for r in results) == len(SAMPLE_REPORTS)


def test_the_same_file_twice_is_registered_once(settings: Settings):
    write_sample_inbox(settings.inbox)
    with connect(settings.warehouse) as connection:
        ingest_inbox(connection, settings, "night-1")
        second = ingest_inbox(connection, settings, "night-2")
        [(count,)] = connection.execute("select count(*) from raw.submissions").fetchall()
        [(rows,)] = connection.execute("select count(*) from raw.to_chuc_co_so").fetchall()
    assert {r.status for r in second} == {"duplicate"}
    assert count == len(SAMPLE_REPORTS) + 1
    assert rows == 42 + 32 + 40 + 42


def test_a_corrected_report_is_a_new_version_and_both_are_kept(settings: Settings):
    report = muong_khuong_2023()
    write_xlsx(settings.inbox / "muong-khuong.xlsx", report)
    report["thong_tin"]["preparer"] = "Người lập khác"
    with connect(settings.warehouse) as connection:
        ingest_inbox(connection, settings, "night-1")
        write_xlsx(settings.inbox / "muong-khuong-sua.xlsx", report)
        ingest_inbox(connection, settings, "night-2")
        versions = connection.execute(
            "select file_name, version, committee_key from raw.submissions order by version"
        ).fetchall()
    assert versions == [
        ("muong-khuong.xlsx", 1, "pre-2025:district:083"),
        ("muong-khuong-sua.xlsx", 2, "pre-2025:district:083"),
    ]


def test_rows_carry_submission_sheet_and_row_number(settings: Settings):
    write_xlsx(settings.inbox / "mk.xlsx", muong_khuong_2023())
    with connect(settings.warehouse) as connection:
        [result] = ingest_inbox(connection, settings, "night-1")
        rows = connection.execute(
            "select submission_id, min(sheet_row), max(sheet_row), count(*) from raw.chi_bo group by 1"
        ).fetchall()
    assert rows == [(result.submission_id, 2, 244, 243)]


def test_the_night_batch_is_validated_at_once_and_failures_point_at_submission_sheet_and_row(settings: Settings):
    write_sample_inbox(settings.inbox)
    with connect(settings.warehouse) as connection:
        results = ingest_inbox(connection, settings, "night-1")
    outcomes = {o.submission_id: o for o in validate_tonight(settings, "night-1")}
    with connect(settings.warehouse) as connection:
        stored = connection.execute(
            "select s.file_name, o.outcome from raw.submission_outcomes o join raw.submissions s using (submission_id)"
        ).fetchall()
    again = validate_tonight(settings, "night-2")
    by_file = {r.file_name: outcomes[r.submission_id] for r in results}
    for sample in SAMPLE_REPORTS:
        assert by_file[sample.file_name].outcome == ("accepted" if sample.valid else "rejected"), sample.file_name
    assert by_file[UNREADABLE_FILE_NAME].outcome == "rejected"
    assert dict(stored) == {name: o.outcome for name, o in by_file.items()}
    assert again == []  # decided submissions are not validated again

    rejected = by_file["dien-bien_muong-nhe_2016.xlsx"]
    found = {(f.rule_id, f.sheet, f.sheet_row) for f in rejected.findings}
    off_by_two_row = 2 + [o["org_code"] for o in SAMPLE_REPORTS[3].build()["to_chuc_co_so"]].index(
        MUONG_NHE_2016_OFF_BY_TWO_ORG
    )
    assert ("to_chuc_co_so.members_split", "to_chuc_co_so", off_by_two_row) in found
    assert ("tong_hop.matches_detail", "tong_hop", 5) in found  # branches_total, the 4th field
    assert {f.rule_id for f in rejected.findings} == {
        "to_chuc_co_so.members_split",
        "to_chuc_co_so.branch_rows",
        "to_chuc_co_so.branch_members",
        "tong_hop.matches_detail",
    }
