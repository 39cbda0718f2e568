"""Validation fails closed. A Great Expectations check that cannot run, in a real night (the DAG through
``dag.test()``, real GX, DuckDB, dbt and a real SMTP server), holds the report: outcome ``held``, the rule
``errored`` in ``raw.rule_results``, nothing in the marts, the province told it is held (not rejected),
and the operators told which rule could not run and why. The next night validates it again. A file that
intake failed on is held the same way, once, under ``tep.loi_tiep_nhan``."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

import expectations.runner as runner
from alerts.digest import OPERATORS
from alerts.nightly import digests_to_send, mark_sent
from chibo.config import Settings
from chibo.local_airflow import run_night
from chibo.smtp_sink import CollectingHandler, airflow_smtp_connection
from contract.workbook import write_xlsx
from demo.samples import muong_khuong_2023
from expectations.rules import Rule
from pipeline import nightly
from pipeline.check import recorded_outcome
from warehouse.raw import connect

BROKEN_RULE = "chi_bo.it_nhat_3"
MISSING_COLUMN = "cot_khong_ton_tai"
LAO_CAI = ("to-chuc@laocai.example.org", "thong-ke@laocai.example.org")


def break_one_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    """Our rule builds its expectation for a column the frame does not have: real GX raises when it runs."""
    build = runner.build_expectation

    def build_broken(rule: Rule):
        if rule.rule_id == BROKEN_RULE:
            rule = replace(rule, params={**rule.params, "column": MISSING_COLUMN})
        return build(rule)

    monkeypatch.setattr(runner, "build_expectation", build_broken)


def lao_cai_2023_in_marts(settings: Settings) -> int:
    with connect(settings.warehouse, read_only=True) as connection:
        [(count,)] = connection.execute(
            "select count(*) from marts.fct_province_year where province = 'Lào Cai' and report_year = 2023"
        ).fetchall()
    return count


def test_a_check_that_cannot_run_holds_the_report_and_reaches_the_operators(
    settings: Settings,
    smtp_server: tuple[int, CollectingHandler],
    airflow_home: Path,
    monkeypatch: pytest.MonkeyPatch,
):
    port, mailbox = smtp_server
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", airflow_smtp_connection(port))
    write_xlsx(settings.inbox / "lao-cai_muong-khuong_2023.xlsx", muong_khuong_2023())
    with pytest.MonkeyPatch.context() as patch:  # only this night has the broken rule
        break_one_rule(patch)
        assert run_night(airflow_home) == "failed"  # a held report is not a success: the night's conclude fails it

    with connect(settings.warehouse, read_only=True) as connection:
        [(submission_id, outcome, errors)] = connection.execute(
            "select submission_id, outcome, errors from raw.submission_outcomes"
        ).fetchall()
        statuses = dict(
            connection.execute(
                "select rule_id, status from raw.rule_results where submission_id = ?", [submission_id]
            ).fetchall()
        )
        [(rule_id, message, detail)] = connection.execute(
            "select rule_id, message, detail from raw.validation_failures"
        ).fetchall()
    assert outcome == "held" and errors == 1
    assert statuses[BROKEN_RULE] == "errored"
    assert {status for rule, status in statuses.items() if rule != BROKEN_RULE} == {"pass"}
    assert rule_id == BROKEN_RULE
    assert message == (
        f"Không thực hiện được kiểm tra «{BROKEN_RULE}» (trang chi_bo); "
        "báo cáo được giữ lại chờ bộ phận kỹ thuật xử lý."
    )
    assert MISSING_COLUMN in detail
    assert lao_cai_2023_in_marts(settings) == 0  # held: never in the marts

    # the night ends failed at its last step (conclude): the operators also get the failed-night notice
    [notice] = [r.message for r in mailbox.received if "bị lỗi" in r.message["Subject"]]
    assert "Tác vụ lỗi: conclude." in notice.get_body(("plain",)).get_content()
    by_recipients = {
        tuple(received.envelope_to): received.message for received in mailbox.received if received.message != notice
    }
    operators = by_recipients[settings.operators]
    assert "báo cáo bị giữ lại do lỗi hệ thống" in operators["Subject"]
    text = operators.get_body(("plain",)).get_content()
    assert f"Quy tắc «{BROKEN_RULE}»" in text
    assert f"Chi tiết kỹ thuật: {BROKEN_RULE} on frame chi_bo: the expectation raised" in text
    assert MISSING_COLUMN in text
    assert "kiểm tra lại tự động" in text  # what to do: fix the cause; it is validated again each night
    province = by_recipients[LAO_CAI]
    assert "1 báo cáo đang được giữ lại" in province["Subject"]
    province_text = province.get_body(("plain",)).get_content()
    assert "D. 1 BÁO CÁO ĐANG ĐƯỢC GIỮ LẠI — không phải do lỗi của đơn vị" in province_text
    assert "BỊ TỪ CHỐI" not in province_text and MISSING_COLUMN not in province_text  # no technical detail

    # Each held decision is alerted once: the alert task again finds nothing to say.
    today = datetime.now(UTC).date()
    assert digests_to_send(settings, today, "lần sau") == []

    # Fixed: the next night validates the held report again, accepts it, and it reaches the marts.
    received = len(mailbox.received)
    assert run_night(airflow_home) == "success"
    with connect(settings.warehouse, read_only=True) as connection:
        outcomes = connection.execute(
            "select outcome from raw.submission_outcomes where submission_id = ? order by decided_at", [submission_id]
        ).fetchall()
    assert outcomes == [("held",), ("accepted",)]
    assert lao_cai_2023_in_marts(settings) == 1
    assert len(mailbox.received) == received  # accepted without findings: nothing more to say


def test_a_file_intake_failed_on_is_held_once_and_reaches_the_operators(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
):
    import ingestion.intake as intake

    def read_report_raising(*args, **kwargs):
        raise KeyError("sheet")  # a bug on one file: intake registers it as intake_failed

    write_xlsx(settings.inbox / "lao-cai_bat-xat_2024.xlsx", muong_khuong_2023())
    monkeypatch.setattr(intake, "read_report", read_report_raising)
    [result] = nightly.ingest(settings, "night-1")
    submission_id = result["submission_id"]
    assert nightly.validate(settings, "night-1", today=date(2026, 11, 29)) == {submission_id: "held"}
    nightly.ingest(settings, "night-2")  # already registered under its hash: not read again
    assert nightly.validate(settings, "night-2") == {}  # held once: not retried silently
    outcome = recorded_outcome(settings, submission_id)
    with connect(settings.warehouse, read_only=True) as connection:
        statuses = dict(
            connection.execute(
                "select rule_id, status from raw.rule_results where submission_id = ?", [submission_id]
            ).fetchall()
        )
    assert outcome is not None and outcome.outcome == "held"
    [finding] = outcome.findings
    assert (finding.rule_id, finding.errored) == ("tep.loi_tiep_nhan", True)
    assert finding.message == intake.INTAKE_FAILED_MESSAGE
    assert finding.detail is not None and "KeyError" in finding.detail
    assert statuses["tep.loi_tiep_nhan"] == "errored"

    digests = digests_to_send(settings, date(2026, 11, 30), "30/11/2026")
    [operators] = [d for d in digests if d.province == OPERATORS]
    assert operators.recipients == settings.operators
    assert "Quy tắc «tep.loi_tiep_nhan»" in operators.text
    assert "KeyError" in operators.text
    assert "sẽ không được đọc lại tự động" in operators.text and "mã băm mới" in operators.text
    [province] = [d for d in digests if d.province != OPERATORS]  # no province read: the operators' address too
    assert "KeyError" not in province.text and "ĐANG ĐƯỢC GIỮ LẠI" in province.text
    mark_sent(settings, digests, "night-1")
    assert digests_to_send(settings, date(2026, 11, 30), "30/11/2026") == []  # alerted once


def test_a_rule_that_cannot_even_be_built_is_errored_and_the_others_of_its_suite_still_run():
    import pandas as pd

    from expectations.rules import all_rules

    [small_branch] = [rule for rule in all_rules() if rule.rule_id == BROKEN_RULE]
    unbuildable = replace(small_branch, rule_id="chi_bo.khong_dung_duoc", kind="no_such_kind")  # type: ignore[arg-type]
    frame = pd.DataFrame({"submission_id": ["a", "b"], "sheet_row": [2, 3], "branch_3_official": [True, False]})
    run = runner.run_suites(runner.with_row_keys({"chi_bo": frame}), [small_branch, unbuildable])
    assert run.failed == {"chi_bo": {BROKEN_RULE: [1]}}  # real GX ran the rule that could be built
    assert run.errored["chi_bo"]["chi_bo.khong_dung_duoc"].startswith("building the expectation failed: ValueError")
