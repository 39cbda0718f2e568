"""Severities per province and the stored outcome of every rule for every submission version."""

from __future__ import annotations

import copy
from pathlib import Path

from chibo.config import Settings
from contract.workbook import write_xlsx
from demo.samples import muong_khuong_2023
from expectations.rules import all_rules, system_rules
from pipeline import nightly
from pipeline.check import recorded_outcome
from tests.report_edits import too_many_excellent
from warehouse.raw import connect


def test_a_province_can_make_a_warning_an_error(settings: Settings):
    lao_cai = too_many_excellent(muong_khuong_2023())
    son_la = copy.deepcopy(lao_cai)
    son_la["thong_tin"].update(province="Sơn La", committee_name="Thành phố Sơn La", committee_code=None)
    write_xlsx(settings.inbox / "lao_cai.xlsx", lao_cai)
    write_xlsx(settings.inbox / "son_la.xlsx", son_la)
    results = {r["file_name"]: r["submission_id"] for r in nightly.ingest(settings, "night-1")}
    nightly.validate(settings, "night-1")
    lao_cai_outcome = recorded_outcome(settings, results["lao_cai.xlsx"])
    son_la_outcome = recorded_outcome(settings, results["son_la.xlsx"])
    assert lao_cai_outcome is not None and son_la_outcome is not None
    assert lao_cai_outcome.outcome == "accepted"
    assert {f.severity for f in lao_cai_outcome.findings} == {"warning"}
    assert son_la_outcome.outcome == "rejected"  # chibo.yaml: Sơn La treats the HTXSNV share as an error
    assert {(f.rule_id, f.severity) for f in son_la_outcome.findings} == {("to_chuc_co_so.htxsnv_toi_da", "error")}


def test_every_rule_outcome_is_kept_per_submission_version(settings: Settings):
    write_xlsx(settings.inbox / "v1.xlsx", too_many_excellent(muong_khuong_2023()))
    nightly.ingest(settings, "night-1")
    nightly.validate(settings, "night-1")
    with connect(settings.warehouse, read_only=True) as connection:
        rows = connection.execute(
            "select rule_id, severity, status, failed_rows from raw.rule_results order by rule_id"
        ).fetchall()
    assert len(rows) == len(all_rules()) + len(system_rules())  # the catalogue, the unreadable and intake-failed rules
    failed = [row for row in rows if row[2] == "fail"]
    assert failed == [("to_chuc_co_so.htxsnv_toi_da", "warning", "fail", 1)]


def test_each_finding_links_to_its_data_docs_page(settings: Settings):
    from urllib.parse import urlparse
    from urllib.request import url2pathname

    write_xlsx(settings.inbox / "v1.xlsx", too_many_excellent(muong_khuong_2023()))
    nightly.ingest(settings, "manual__2026-01-16T02:00:00+07:00")
    nightly.validate(settings, "manual__2026-01-16T02:00:00+07:00")
    with connect(settings.warehouse, read_only=True) as connection:
        [(url,)] = connection.execute("select docs_url from raw.validation_failures").fetchall()
    page = url2pathname(urlparse(url).path)
    assert page.startswith(str(settings.data_docs)) and page.endswith(".html")
    assert "members_htxsnv" in Path(page).read_text(encoding="utf-8")
    assert (settings.data_docs / "manual__2026-01-16T02_00_00_07_00" / "index.html").exists()


def test_fct_data_quality_shows_which_rules_fail_per_province_and_year(settings: Settings):
    from pipeline import nightly

    write_xlsx(settings.inbox / "warned.xlsx", too_many_excellent(muong_khuong_2023()))
    clean = muong_khuong_2023()
    clean["thong_tin"]["preparer"] = "Người khác"  # a second version, without the warning
    write_xlsx(settings.inbox / "clean.xlsx", clean)
    nightly.ingest(settings, "night-1")
    nightly.validate(settings, "night-1")
    nightly.build_marts(settings)
    with connect(settings.warehouse, read_only=True) as connection:
        rows = connection.execute(
            "select province, report_year, severity, submissions_checked, submissions_failing, failing_rate, "
            "rows_failing "
            "from marts.fct_data_quality where rule_id = 'to_chuc_co_so.htxsnv_toi_da'"
        ).fetchall()
        [(rules,)] = connection.execute("select count(distinct rule_id) from marts.fct_data_quality").fetchall()
    assert rows == [("Lào Cai", 2023, "warning", 2, 1, 50.0, 1)]
    assert rules == len(all_rules()) + len(system_rules())
