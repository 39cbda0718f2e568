"""One validation path: ``chibo validate FILE`` (``pipeline.check``) and a real night (the DAG through
``dag.test()``) give the same verdict and the same findings (rule and severity) for the same file: every
sample report, every format fixture, the hostile corpus, and reports of every configured province, with the
severities of chibo.yaml and with a settings object whose Sơn La override is another one."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import pytest
import yaml

from chibo.cli import EXIT_REJECTED, main
from chibo.config import DEFAULT_CONFIG_PATH, Settings, load_settings
from chibo.local_airflow import run_night
from chibo.smtp_sink import airflow_smtp_connection
from contract.workbook import write_xlsx
from demo.samples import bao_thang_2024, muong_khuong_2023, write_sample_inbox
from expectations.validate import Outcome
from pipeline.check import check_file, check_files
from tests.hostile_corpus import write_corpus
from tests.report_edits import too_many_excellent
from warehouse.raw import connect

FORMATS = Path(__file__).parent / "fixtures" / "formats"
SON_LA = "Sơn La"
OVER_CAP = "to_chuc_co_so.htxsnv_toi_da"  # a warning, an error in Sơn La (chibo.yaml)
SMALL_BRANCH = "chi_bo.it_nhat_3"  # a warning
Verdict = tuple[str, list[tuple[str, str]]]


def in_son_la(report: dict) -> dict:
    report = copy.deepcopy(report)
    report["thong_tin"].update(province=SON_LA, committee_name="Thành phố Sơn La", committee_code="116")
    return report


def province_reports(folder: Path) -> list[Path]:
    """A report with a warning in each configured province; in Sơn La, both warnings its override may change."""
    small_branch = bao_thang_2024()
    small_branch["chi_bo"][3]["members_official"] = 2
    over_cap = too_many_excellent(muong_khuong_2023())
    dien_bien = copy.deepcopy(over_cap)
    dien_bien["thong_tin"].update(province="Điện Biên", committee_name="Huyện Mường Nhé", committee_code=None)
    reports = {
        "lao-cai_over-cap.xlsx": over_cap,
        "lao-cai_small-branch.xlsx": small_branch,
        "dien-bien_over-cap.xlsx": dien_bien,
        "son-la_over-cap.xlsx": in_son_la(over_cap),
        "son-la_small-branch.xlsx": in_son_la(small_branch),
    }
    return [write_xlsx(folder / name, report) for name, report in reports.items()]


def every_file(folder: Path) -> list[Path]:
    """The samples, the format fixtures, the hostile corpus and the province reports, in one folder."""
    paths = write_sample_inbox(folder)
    for fixture in sorted(FORMATS.iterdir()):
        if fixture.suffix in {".xlsx", ".xls", ".ods", ".zip"}:
            paths.append(Path(shutil.copy2(fixture, folder / f"formats_{fixture.name}")))
    corpus = folder.parent / "corpus"
    corpus.mkdir()
    for name in write_corpus(corpus):
        source, target = corpus / name, folder / f"corpus_{name}"
        if source.is_symlink() or source.is_dir():
            source.rename(target)
        else:
            shutil.copy2(source, target)
        paths.append(target)
    return paths + province_reports(folder)


def night_verdicts(settings: Settings) -> dict[str, Verdict]:
    """Each submission's latest decision in the night's warehouse, with its findings."""
    with connect(settings.warehouse, read_only=True) as connection:
        rows = connection.execute(
            """
            with latest as (
                select submission_id, arg_max(outcome, decided_at) as outcome, arg_max(run_id, decided_at) as run_id
                from raw.submission_outcomes group by submission_id
            )
            select l.submission_id, l.outcome, f.rule_id, f.severity
            from latest l left join raw.validation_failures f using (submission_id, run_id)
            """
        ).fetchall()
    verdicts: dict[str, Verdict] = {}
    for submission_id, outcome, rule_id, severity in rows:
        _, findings = verdicts.setdefault(submission_id, (outcome, []))
        if rule_id is not None:
            findings.append((rule_id, severity))
    return {s: (o, sorted(f)) for s, (o, f) in verdicts.items()}


def verdict(outcome: Outcome) -> Verdict:
    return outcome.outcome, sorted((f.rule_id, f.severity) for f in outcome.findings)


def config_with_son_la_override(folder: Path, override: dict[str, str]) -> Path:
    document = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    document["quality"]["severity"] = {SON_LA: override}
    path = folder / "chibo.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def run_dag(settings: Settings, airflow_home: Path, monkeypatch: pytest.MonkeyPatch, smtp_server) -> None:
    port, _ = smtp_server
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", airflow_smtp_connection(port))
    assert run_night(airflow_home) == "success"


def test_chibo_validate_and_the_night_agree_on_every_file(
    settings: Settings, airflow_home: Path, monkeypatch: pytest.MonkeyPatch, smtp_server, tmp_path: Path
):
    paths = every_file(settings.inbox)
    checked = check_files(paths, settings)  # before the night, from an empty warehouse, as a committee would
    run_dag(settings, airflow_home, monkeypatch, smtp_server)
    night = night_verdicts(settings)

    by_name = dict(zip((p.name for p in paths), checked, strict=True))
    compared = 0
    for name, outcome in by_name.items():
        assert outcome.submission_id in night, name
        assert verdict(outcome) == night[outcome.submission_id], name
        compared += 1
    assert compared == len(paths) >= 60
    verdicts = {name: outcome.outcome for name, outcome in by_name.items()}
    assert verdicts["lao-cai_over-cap.xlsx"] == verdicts["dien-bien_over-cap.xlsx"] == "accepted"
    assert verdicts["son-la_over-cap.xlsx"] == "rejected"  # Sơn La's own severity, before the deadline too
    assert verdicts["son-la_small-branch.xlsx"] == "accepted"
    assert verdicts["bao_cao_hong.xlsx"] == "rejected" and {"accepted", "rejected"} <= set(verdicts.values())

    # One file on its own (check_file) and through the command line: the same as in the night's batch.
    son_la = settings.inbox / "son-la_over-cap.xlsx"
    alone = check_file(son_la, settings)
    assert verdict(alone) == night[alone.submission_id] == ("rejected", [(OVER_CAP, "error")])
    assert main(["validate", str(son_la)]) == EXIT_REJECTED
    # With the warehouse the night filled (the committee's history): still the night's verdict.
    with_history = check_file(settings.inbox / "lao-cai_muong-khuong_2023.xlsx", settings, warehouse=settings.warehouse)
    assert verdict(with_history) == night[with_history.submission_id]


def test_a_settings_object_with_another_son_la_override_gives_the_same_verdict_as_its_night(
    settings: Settings, airflow_home: Path, monkeypatch: pytest.MonkeyPatch, smtp_server, tmp_path: Path
):
    override = {OVER_CAP: "warning", SMALL_BRANCH: "error"}  # the other way round from chibo.yaml
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    monkeypatch.setenv("CHIBO_CONFIG", str(config_with_son_la_override(config_dir, override)))
    son_la_settings = load_settings()
    assert son_la_settings.severity_overrides == {SON_LA: override}
    paths = province_reports(son_la_settings.inbox)
    checked = dict(zip((p.name for p in paths), check_files(paths, son_la_settings), strict=True))
    alone = check_file(son_la_settings.inbox / "son-la_small-branch.xlsx", son_la_settings)
    run_dag(son_la_settings, airflow_home, monkeypatch, smtp_server)
    night = night_verdicts(son_la_settings)

    for name, outcome in checked.items():
        assert verdict(outcome) == night[outcome.submission_id], name
    assert verdict(alone) == night[alone.submission_id] == ("rejected", [(SMALL_BRANCH, "error")])
    assert checked["son-la_over-cap.xlsx"].outcome == "accepted"
    assert verdict(checked["lao-cai_small-branch.xlsx"]) == ("accepted", [(SMALL_BRANCH, "warning")])
