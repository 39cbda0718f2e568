"""One definition each, read everywhere: which submission counts, what a submission says, the grading rules.

Real intake, GX, dbt and DuckDB through the night's own steps (pipeline.nightly, which the DAG wires).
"""

from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path

import pytest

from chibo.cli import main
from chibo.config import Settings
from chibo.local_airflow import run_night
from chibo.smtp_sink import CollectingHandler, airflow_smtp_connection
from contract.model import load_contract
from contract.workbook import write_xlsx
from demo.history_generator import history_reports
from demo.samples import MUONG_KHUONG_2023, synthesise_report
from pipeline import nightly
from warehouse.raw import connect

V1_MEMBERS = 3792  # Mường Khương 2023 as published, in the detailed version 1
V2_MEMBERS = 3800  # the aggregate-only version 2 says otherwise


def aggregate_only(report: dict, members: int) -> dict:
    """The same report with only thong_tin and tong_hop: an aggregate-only version."""
    summary = dict(report["tong_hop"], members_total=members)
    return {"thong_tin": copy.deepcopy(report["thong_tin"]), "tong_hop": summary}


def report_2024_rolling_forward_from(previous_members: int) -> dict:
    """A 2024 report whose year-end stock rolls forward exactly from ``previous_members``."""
    members = previous_members + 30
    report = synthesise_report(replace(MUONG_KHUONG_2023, year=2024, members_total=members, seed=2024))
    for row in report["to_chuc_co_so"]:
        for name in ("admitted", "transferred_in", "transferred_out", "deceased", "struck_off", "expelled_dismissed"):
            row[name] = 0
    report["to_chuc_co_so"][0]["admitted"] = 30
    report["tong_hop"]["admitted"] = 30
    return report


def night(settings: Settings, run_id: str) -> dict[str, str]:
    nightly.ingest(settings, run_id)
    outcomes = nightly.validate(settings, run_id)
    nightly.build_marts(settings)
    return outcomes


def findings_of(settings: Settings, run_id: str) -> set[str]:
    with connect(settings.warehouse, read_only=True) as connection:
        rows = connection.execute("select rule_id from raw.validation_failures where run_id = ?", [run_id]).fetchall()
    return {rule_id for (rule_id,) in rows}


def test_a_detailed_v1_and_an_aggregate_v2_give_one_answer_everywhere(
    settings: Settings,
    capsys: pytest.CaptureFixture[str],
    smtp_server: tuple[int, CollectingHandler],
    airflow_home: Path,
    monkeypatch: pytest.MonkeyPatch,
):
    detailed = synthesise_report(MUONG_KHUONG_2023)
    write_xlsx(settings.inbox / "v1_chi_tiet.xlsx", detailed)
    assert set(night(settings, "night-1").values()) == {"accepted"}

    # version 2, aggregate-only and accepted, through the real DAG and a real SMTP server
    port, mailbox = smtp_server
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", airflow_smtp_connection(port))
    write_xlsx(settings.inbox / "v2_tong_hop.xlsx", aggregate_only(detailed, V2_MEMBERS))
    assert run_night(airflow_home) == "success"
    with connect(settings.warehouse, read_only=True) as connection:
        outcomes = connection.execute("select outcome from raw.submission_outcomes").fetchall()
    assert outcomes == [("accepted",), ("accepted",)]

    # the digest: version 2 is taken in, the figures stay those of version 1
    [received] = mailbox.received
    digest = received.message.get_body(preferencelist=("plain",)).get_content()
    assert "v2_tong_hop.xlsx" in digest
    assert "số liệu tổng hợp vẫn dùng lần gửi thứ 1 (báo cáo chi tiết)" in digest

    # the marts: the detailed version 1 counts
    with connect(settings.warehouse, read_only=True) as connection:
        [(members, source, version)] = connection.execute(
            "select members_total, figures_source, version from intermediate.int_committee_year_totals "
            "where report_year = 2023"
        ).fetchall()
        [(province_members,)] = connection.execute(
            "select members_total from marts.fct_province_year where report_year = 2023"
        ).fetchall()
    assert (members, source, version, province_members) == (V1_MEMBERS, "detail", 1, V1_MEMBERS)

    # chibo history: version 1 feeds the marts, version 2 does not
    assert main(["history", "Mường Khương", "2023"]) == 0
    rows = [line.rstrip() for line in capsys.readouterr().out.splitlines() if line.strip().startswith(("1 ", "2 "))]
    assert [row.endswith("✔") for row in rows] == [True, False]

    # the history checks: 2024 is compared with version 1's 3,792, not version 2's 3,800
    write_xlsx(settings.inbox / "mk_2024.xlsx", report_2024_rolling_forward_from(V1_MEMBERS))
    night(settings, "night-3")
    assert "lich_su.chuyen_so_du" not in findings_of(settings, "night-3")
    write_xlsx(settings.inbox / "mk_2024_v2.xlsx", report_2024_rolling_forward_from(V2_MEMBERS))
    night(settings, "night-4")
    assert "lich_su.chuyen_so_du" in findings_of(settings, "night-4")


def test_old_scale_grades_reach_the_province_facts_and_the_restated_view(settings: Settings):
    grades = {"TSVM": 20, "HTTNV": 15, "HTNV": 5, "YEU_KEM": 2}
    spec = replace(MUONG_KHUONG_2023, year=2016, org_grades=grades, seed=2016)
    write_xlsx(settings.inbox / "mk_2016.xlsx", synthesise_report(spec))
    assert set(night(settings, "night").values()) == {"accepted"}
    columns = "orgs_tsvm, orgs_httnv, orgs_htnv, orgs_yeu_kem, orgs_htxsnv, orgs_khtnv, orgs_total"
    with connect(settings.warehouse, read_only=True) as connection:
        [reported] = connection.execute(f"select {columns} from marts.fct_province_year").fetchall()
        [restated] = connection.execute(f"select {columns} from marts.fct_province_year_restated").fetchall()
        harmonised = dict(
            connection.execute(
                "select org_grade_harmonised, count(*) from marts.fct_evaluations group by 1"
            ).fetchall()
        )
        inexact = connection.execute(
            "select distinct org_grade from marts.fct_evaluations where not org_grade_harmonisation_exact"
        ).fetchall()
    # all four grades of the 2008–2017 scale, and no grade the scale does not have
    assert reported == restated == (20, 15, 5, 2, None, None, 42)
    # the harmonised grade stays as documented (TSVM → HTXSNV, Yếu kém → KHTNV, both inexact)
    assert harmonised == {"HTXSNV": 20, "HTTNV": 15, "HTNV": 5, "KHTNV": 2}
    assert sorted(inexact) == [("TSVM",), ("YEU_KEM",)]


def test_the_2025_htxsnv_cap_reaches_fct_evaluations(settings: Settings):
    [generated] = list(history_reports(["Điện Biên"], [2025], seed=7, detail_years=[2025]))[:1]
    report = copy.deepcopy(generated.report)
    organisation = report["to_chuc_co_so"][0]
    rule = load_contract().grading_rule(2025)
    assert rule is not None and rule.htxsnv_cap is not None
    # one more HTXSNV member than the cap allows, taken from HTTNV so the grades still add up
    httnv = organisation["members_httnv"] + organisation["members_htxsnv"]
    over = int(rule.htxsnv_cap.ratio * httnv) + 1
    organisation["members_htxsnv"], organisation["members_httnv"] = over, httnv - over
    write_xlsx(settings.inbox / "xa_2025.xlsx", report)
    assert set(night(settings, "night").values()) == {"accepted"}  # the cap is a warning
    with connect(settings.warehouse, read_only=True) as connection:
        capped = dict(
            connection.execute(
                "select org_code, members_htxsnv_over_cap from marts.fct_evaluations where report_year = 2025"
            ).fetchall()
        )
        [(ratio, denominator)] = connection.execute(
            "select member_htxsnv_cap_ratio, member_htxsnv_cap_denominator from marts.dim_year "
            "where report_year = 2025"
        ).fetchall()
    assert capped[organisation["org_code"]] is True
    assert None not in capped.values()  # every 2025 organisation is judged against the cap
    assert (float(ratio), denominator) == (rule.htxsnv_cap.ratio, rule.htxsnv_cap.denominator)
