"""The provincial staff's dashboard and the page per report (portal/dashboard.py, portal/charts.py, the templates),
on a real published snapshot: two real nights (intake, validation, dbt build) on reports of old Lào Cai, old Yên
Bái (merged into today's Lào Cai '15', a code old Yên Bái had) and Sơn La, then published. Every figure expected
here is read from the marts, never written down."""

from __future__ import annotations

import copy
import os
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest
from jinja2 import Environment

from chibo.config import load_settings
from chibo.deployment import prepare
from contract.workbook import write_xlsx
from demo.samples import bao_thang_2024, muong_khuong_2023, si_ma_cai_2024
from pipeline import nightly
from pipeline.publish import publish_snapshot
from portal import charts
from portal.dashboard import (
    FIGURE_COLUMNS,
    ProvinceDashboard,
    committee_submissions,
    current_province_of_committee,
    current_province_of_submission,
    current_provinces,
    grade_columns,
    history_rule_ids,
    open_snapshot,
    province_dashboard,
    report_detail,
)
from portal.web import page_templates
from tests.deployments import deployment_variables
from warehouse.expected import default_deadline, write_expected
from warehouse.raw import connect

LUC_YEN = "pre-2025:district:135"  # old Yên Bái: today in Lào Cai '15'
BAO_THANG = "pre-2025:district:086"
MUONG_KHUONG = "pre-2025:district:083"
SI_MA_CAI = "pre-2025:district:084"
SON_LA_CITY = "pre-2025:district:116"
NEW_LAO_CAI, SON_LA = "15", "14"
SVG = "{http://www.w3.org/2000/svg}"


@dataclass(frozen=True)
class Person:
    full_name: str | None
    email: str | None
    phone: str | None
    committee_name: str | None


@dataclass(frozen=True)
class Published:
    publish: Path
    warehouse: Path


def renamed(report: dict, province: str, name: str, code: str, year: int | None = None) -> dict:
    report = copy.deepcopy(report)
    report["thong_tin"].update(province=province, committee_name=name, committee_code=code)
    if year is not None:
        report["thong_tin"].update(report_year=year, prepared_on=f"{year + 1}-01-17")
    return report


def off_by_one_branch(report: dict) -> dict:
    """tong_hop.matches_detail: the declared branches are one more than the chi_bo sheet lists."""
    report = copy.deepcopy(report)
    report["tong_hop"]["branches_total"] += 1
    return report


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Published:
    base = tmp_path_factory.mktemp("dashboard")
    settings = load_settings({**os.environ, **deployment_variables(base)})
    prepare(settings)
    inbox = settings.inbox
    # night 1: Mường Khương's 2023 (its history), Bảo Thắng's first 2024 version (rejected), Si Ma Cai (rejected)
    write_xlsx(inbox / "muong-khuong_2023.xlsx", muong_khuong_2023())
    write_xlsx(inbox / "bao-thang_2024_v1.xlsx", off_by_one_branch(bao_thang_2024()))
    write_xlsx(inbox / "si-ma-cai_2024.xlsx", off_by_one_branch(si_ma_cai_2024()))
    nightly.ingest(settings, "night-1")
    nightly.validate(settings, "night-1")
    for path in list(inbox.iterdir()):
        path.unlink()
    # night 2: Bảo Thắng corrected, Mường Khương's 2024 (history checks against 2023), Lục Yên (old Yên Bái), Sơn La
    write_xlsx(inbox / "bao-thang_2024_v2.xlsx", bao_thang_2024())
    write_xlsx(inbox / "muong-khuong_2024.xlsx", renamed(muong_khuong_2023(), "Lào Cai", "Mường Khương", "083", 2024))
    write_xlsx(inbox / "luc-yen_2024.xlsx", renamed(bao_thang_2024(), "Yên Bái", "Đảng bộ huyện Lục Yên", "135"))
    write_xlsx(inbox / "son-la_2024.xlsx", renamed(bao_thang_2024(), "Sơn La", "Thành ủy Sơn La", "116"))
    nightly.ingest(settings, "night-2")
    with connect(settings.warehouse) as connection:  # old Yên Bái expected too; 2023's deadline not yet passed
        write_expected(
            connection,
            ["Lào Cai", "Yên Bái", "Sơn La"],
            [2023, 2024],
            lambda year: date(2100, 1, 15) if year == 2023 else default_deadline(year),
        )
    nightly.validate(settings, "night-2")
    nightly.build_marts(settings)
    publish_snapshot(settings, "night-2", docs=False)
    return Published(settings.publish, settings.warehouse)


@pytest.fixture(scope="module")
def snapshot(published: Published) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = open_snapshot(published.publish)
    assert connection is not None
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def lao_cai_2024(snapshot: duckdb.DuckDBPyConnection) -> ProvinceDashboard:
    contacts = {LUC_YEN: Person("Nguyễn <Văn> A", "a@lucyen.example.org", "0912 345 678", "Đảng bộ huyện Lục Yên")}
    return province_dashboard(snapshot, NEW_LAO_CAI, 2024, contacts)


def rows(connection: duckdb.DuckDBPyConnection, sql: str, parameters: list[Any] | None = None) -> list[dict]:
    cursor = connection.execute(sql, parameters or [])
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def number(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


def test_nothing_published_is_no_connection(tmp_path: Path):
    assert open_snapshot(tmp_path) is None


def test_the_submission_marts_hold_every_submission_and_its_latest_findings(
    published: Published, snapshot: duckdb.DuckDBPyConnection
):
    with connect(published.warehouse, read_only=True) as warehouse:
        registered = warehouse.execute("select count(*) from raw.submissions").fetchone()[0]
        counted = {
            s
            for (s,) in warehouse.execute("select submission_id from intermediate.int_submissions__counted").fetchall()
        }
        latest_findings = warehouse.execute(
            "select count(*) from raw.validation_failures f join intermediate.int_submission_outcomes__latest o "
            "using (submission_id, run_id)"
        ).fetchone()[0]
        all_findings = warehouse.execute("select count(*) from raw.validation_failures").fetchone()[0]
    submissions = rows(snapshot, "select submission_id, is_counted from fct_submissions")
    assert len(submissions) == registered == 7
    assert {s["submission_id"] for s in submissions if s["is_counted"]} == counted
    assert snapshot.execute("select count(*) from fct_submission_findings").fetchone()[0] == latest_findings > 0
    assert all_findings >= latest_findings


def test_current_provinces_are_those_of_today(snapshot: duckdb.DuckDBPyConnection):
    provinces = dict(current_provinces(snapshot))
    assert len(provinces) == 34
    assert provinces[NEW_LAO_CAI] == "Lào Cai" and provinces[SON_LA] == "Sơn La"


def test_the_figures_are_the_marts_as_reported_and_restated(
    snapshot: duckdb.DuckDBPyConnection, lao_cai_2024: ProvinceDashboard
):
    restated = {
        r["report_year"]: r
        for r in rows(snapshot, "select * from fct_province_year_restated where province_code = ?", [NEW_LAO_CAI])
    }
    assert restated[2024]["restated_from"] == "Lào Cai + Yên Bái"
    table = lao_cai_2024.figures_restated
    assert table is not None and table.this_year_found and table.last_year_found
    assert [f.column for f in table.figures] == list(FIGURE_COLUMNS)
    for figure in table.figures:
        assert figure.this_year == number(restated[2024][figure.column]), figure.column
        assert figure.last_year == number(restated[2023][figure.column]), figure.column
        if figure.this_year is not None and figure.last_year is not None:
            assert figure.difference == round(figure.this_year - figure.last_year, 1)

    as_reported = {
        (r["province"], r["report_year"]): r
        for r in rows(snapshot, "select * from fct_province_year where province in ('Lào Cai', 'Yên Bái', 'Sơn La')")
    }
    tables = {t.title: t for t in lao_cai_2024.figures_as_reported}
    assert sorted(tables) == ["Lào Cai", "Yên Bái"]  # Sơn La's figures are not Lào Cai's
    for title, reported in tables.items():
        for figure in reported.figures:
            assert figure.this_year == number(as_reported[(title, 2024)][figure.column]), (title, figure.column)
            last = as_reported.get((title, 2023))
            assert figure.last_year == (number(last[figure.column]) if last else None), (title, figure.column)
    assert tables["Lào Cai"].last_year_found and not tables["Yên Bái"].last_year_found


def test_the_late_list_is_exactly_the_missing_late_and_not_accepted_committees(
    snapshot: duckdb.DuckDBPyConnection, lao_cai_2024: ProvinceDashboard
):
    statuses = rows(
        snapshot,
        "select unit_key, unit_name, status, days_late from fct_reporting_status "
        "where province in ('Lào Cai', 'Yên Bái') and report_year = 2024",
    )
    expected = {(s["unit_key"], s["status"], s["days_late"]) for s in statuses if s["status"] != "on_time"}
    assert {(row.unit_key, row.status, row.days_late) for row in lao_cai_2024.late} == expected
    by_key = {row.unit_key: row for row in lao_cai_2024.late}
    assert by_key[LUC_YEN].status == "late" and by_key[LUC_YEN].days_late > 0
    assert by_key[SI_MA_CAI].status == "received_not_accepted"
    assert by_key[LUC_YEN].contact is not None and by_key[LUC_YEN].contact.email == "a@lucyen.example.org"
    assert by_key[SI_MA_CAI].contact is None
    assert {"missing", "late", "received_not_accepted"} == {row.status for row in lao_cai_2024.late}

    # 2023: Mường Khương reported on time (its deadline is far away), so it is not in the list
    lao_cai_2023 = province_dashboard(snapshot, NEW_LAO_CAI, 2023, {})
    on_time = {
        s["unit_key"] for s in rows(snapshot, "select unit_key from fct_reporting_status where status = 'on_time'")
    }
    assert on_time == {MUONG_KHUONG}
    assert MUONG_KHUONG not in {row.unit_key for row in lao_cai_2023.late}
    assert (
        len(lao_cai_2023.late)
        == snapshot.execute(
            "select count(*) from fct_reporting_status where province in ('Lào Cai', 'Yên Bái') and report_year = 2023 "
            "and status <> 'on_time'"
        ).fetchone()[0]
    )


def test_a_yen_bai_2024_committee_belongs_to_the_new_lao_cai_not_to_son_la(
    snapshot: duckdb.DuckDBPyConnection, lao_cai_2024: ProvinceDashboard
):
    son_la = province_dashboard(snapshot, SON_LA, 2024, {})
    [luc_yen] = [s for s in lao_cai_2024.submissions if s.committee_key == LUC_YEN]
    assert luc_yen.province == "Yên Bái" and luc_yen.province_code == "15" and luc_yen.current_province_code == "15"
    assert LUC_YEN not in {s.committee_key for s in son_la.submissions}
    assert LUC_YEN not in {row.unit_key for row in son_la.late}
    assert LUC_YEN in {row.unit_key for row in lao_cai_2024.late}
    assert {s.committee_key for s in son_la.submissions} == {SON_LA_CITY}
    assert current_province_of_submission(snapshot, luc_yen.submission_id) == NEW_LAO_CAI
    assert current_province_of_committee(snapshot, LUC_YEN) == NEW_LAO_CAI
    assert current_province_of_committee(snapshot, SON_LA_CITY) == SON_LA
    assert current_province_of_submission(snapshot, "0000000000000000") is None
    assert [t.title for t in son_la.figures_as_reported] == ["Sơn La"]


def test_reporting_rates_are_the_marts_rows_and_at_most_100(
    snapshot: duckdb.DuckDBPyConnection, lao_cai_2024: ProvinceDashboard
):
    marts = rows(
        snapshot,
        "select province, province_code, expected, received, accepted, received_rate, accepted_rate, on_time_rate "
        "from fct_reporting_rate where province in ('Lào Cai', 'Yên Bái') and report_year = 2024 "
        "order by province_code",
    )
    shown = [
        {
            "province": r.province,
            "province_code": r.province_code,
            "expected": r.expected,
            "received": r.received,
            "accepted": r.accepted,
            "received_rate": r.received_rate,
            "accepted_rate": r.accepted_rate,
            "on_time_rate": r.on_time_rate,
        }
        for r in lao_cai_2024.reporting_rates
    ]
    assert shown == marts and len(shown) == 2  # old Lào Cai '10' and old Yên Bái '15'
    for rate in lao_cai_2024.reporting_rates:
        for value in (rate.received_rate, rate.accepted_rate, rate.on_time_rate):
            assert value is not None and 0 <= value <= 100


def test_grades_trends_years_and_the_latest_year(snapshot: duckdb.DuckDBPyConnection, lao_cai_2024: ProvinceDashboard):
    restated = rows(
        snapshot, "select * from fct_province_year_restated where province_code = ? order by report_year", [NEW_LAO_CAI]
    )
    this_year = next(r for r in restated if r["report_year"] == 2024)
    codes = {code: column for column, code in grade_columns().items()}
    assert lao_cai_2024.grades, "the 2024 grades"
    for grade in lao_cai_2024.grades:
        assert grade.count == this_year[codes[grade.grade_code]]
    assert {g.grade_code for g in lao_cai_2024.grades} == {
        code for code, column in codes.items() if this_year[column] is not None
    }
    members = next(series for series in lao_cai_2024.trends if series.column == "members_total")
    assert members.points == [(r["report_year"], number(r["members_total"])) for r in restated]
    assert lao_cai_2024.years == sorted(lao_cai_2024.years, reverse=True) and {2023, 2024} <= set(lao_cai_2024.years)
    latest = province_dashboard(snapshot, NEW_LAO_CAI, None, {})
    assert latest.report_year == lao_cai_2024.years[0]
    empty = province_dashboard(snapshot, "01", None, {})  # Hà Nội: nothing in this snapshot
    assert empty.report_year is None and empty.years == [] and empty.late == []


def test_the_page_per_report_lists_its_findings_by_sheet_and_row_and_every_version(
    snapshot: duckdb.DuckDBPyConnection,
):
    versions = committee_submissions(snapshot, BAO_THANG)
    assert sorted(s.outcome or "" for s in versions) == ["accepted", "rejected"]
    rejected = next(s for s in versions if s.outcome == "rejected")
    detail = report_detail(snapshot, rejected.submission_id)
    assert detail is not None
    findings = rows(
        snapshot,
        "select rule_id, sheet, sheet_row, field from fct_submission_findings where submission_id = ? "
        "order by finding_number",
        [rejected.submission_id],
    )
    assert [(f.rule_id, f.sheet, f.sheet_row, f.field) for f in detail.findings] == [
        (f["rule_id"], f["sheet"], f["sheet_row"], f["field"]) for f in findings
    ]
    [mismatch] = [f for f in detail.findings if f.rule_id == "tong_hop.matches_detail"]
    assert mismatch.sheet == "tong_hop" and mismatch.sheet_row is not None and mismatch.field == "branches_total"
    assert mismatch.sheet_title and mismatch.field_header and mismatch.message and mismatch.fix
    assert not mismatch.is_history_check
    assert [v.submission_id for v in detail.versions] == [
        s.submission_id for s in sorted(versions, key=lambda s: s.version or 0)
    ]
    assert [v.is_counted for v in detail.versions].count(True) == 1
    assert next(v for v in detail.versions if v.is_counted).outcome == "accepted"
    assert report_detail(snapshot, "0000000000000000") is None


def test_history_checks_are_marked(snapshot: duckdb.DuckDBPyConnection):
    [muong_khuong_2024] = [s for s in committee_submissions(snapshot, MUONG_KHUONG) if s.report_year == 2024]
    detail = report_detail(snapshot, muong_khuong_2024.submission_id)
    assert detail is not None
    history = [f for f in detail.findings if f.is_history_check]
    assert history, [f.rule_id for f in detail.findings]
    assert {f.rule_id for f in history} <= history_rule_ids()
    assert "lich_su.chuyen_so_du" in {f.rule_id for f in history}  # its 2024 does not roll forward from 2023
    assert all(f.rule_id not in history_rule_ids() for f in detail.findings if not f.is_history_check)


# --------------------------------------------------------------------------- charts


def test_charts_are_valid_svg_with_every_value_as_text_and_labels_escaped():
    hostile = 'Xếp loại <script>alert("x")</script> & “khác”'
    bars = charts.bar_chart(
        "grades", "Xếp loại <b>2024</b>", [(hostile, 12), ("Hoàn thành nhiệm vụ", 3791.5)], "tổ chức"
    )
    line = charts.series_chart("members", "Đảng viên & năm", [(2022, 3792), (2023, None), (2024, 7981)], "người")
    columns = charts.series_chart("admitted", "Kết nạp", [(2023, 132), (2024, 374)], kind="column")
    empty = charts.series_chart("none", "Trống", [])
    for chart in (bars, line, columns, empty):
        root = ET.fromstring(str(chart))
        assert root.tag == f"{SVG}svg" and root.get("role") == "img"
        title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
        assert title is not None and desc is not None and title.text and desc.text
        assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert "<script>" not in str(bars) and "<b>" not in str(bars)
    texts = [t.text for t in ET.fromstring(str(bars)).iter(f"{SVG}text")]
    assert hostile in texts and "12" in texts and "3.791,5" in texts
    assert ET.fromstring(str(bars)).find(f"{SVG}title").text == "Xếp loại <b>2024</b>"  # type: ignore[union-attr]
    line_texts = [t.text for t in ET.fromstring(str(line)).iter(f"{SVG}text")]
    assert {"3.792", "7.981", "2022", "2023", "2024", "—"} <= set(line_texts)
    assert "năm 2023: không có số liệu" in ET.fromstring(str(line)).find(f"{SVG}desc").text  # type: ignore[union-attr]
    assert len(ET.fromstring(str(columns)).findall(f"{SVG}rect")) == 2
    assert len(ET.fromstring(str(line)).findall(f"{SVG}polyline")) == 1


def test_numbers_are_written_the_vietnamese_way():
    assert charts.format_number(7981) == "7.981"
    assert charts.format_number(93.3) == "93,3"
    assert charts.format_number(1234567.25, 2) == "1.234.567,25"
    assert charts.format_number(None) == "—"


# --------------------------------------------------------------------------- templates


@dataclass(frozen=True)
class Viewer:
    role: str
    label: str


def environment() -> Environment:
    env = page_templates().env  # the application's own: its loader, autoescape, labels and filters
    env.globals["url_for"] = lambda name, path="": f"/{name}/{path}"
    return env


def render_dashboard(board: ProvinceDashboard, lock: dict | None, can_lock: bool) -> str:
    return (
        environment()
        .get_template("dashboard.html")
        .render(
            viewer=Viewer("staff", "Cán bộ <Lào Cai>"),
            role_label="Cán bộ Ban Tổ chức tỉnh",
            csrf_token="tok-123",
            dashboard=board,
            lock=lock,
            can_lock=can_lock,
            province_code=board.province_code,
            report_year=board.report_year,
        )
    )


def test_the_dashboard_renders_every_part_with_its_ids(lao_cai_2024: ProvinceDashboard):
    html = render_dashboard(lao_cai_2024, None, True)
    for element in (
        'id="late-list"',
        'id="reporting-rate"',
        'id="figures"',
        'id="grades"',
        'id="trends"',
        'id="year-select"',
        'id="submissions"',
        'id="lock-form"',
    ):
        assert element in html, element
    assert 'href="/static/dashboard.css"' in html
    assert 'action="/tinh/15/2024/chot"' in html and 'value="tok-123"' in html and "Chốt số liệu" in html
    assert 'id="unlock-form"' not in html
    assert "Nguyễn &lt;Văn&gt; A" in html and "<Văn>" not in html  # a contact's name is escaped
    assert "Cán bộ &lt;Lào Cai&gt;" in html
    for row in lao_cai_2024.late:
        assert f'data-unit-key="{row.unit_key}"' in html and row.unit_name in html
    for submission in lao_cai_2024.submissions:
        assert f'href="/bao-cao/{submission.submission_id}"' in html
    for year in lao_cai_2024.years:
        assert f'href="?nam={year}"' in html or f'aria-current="page">{year}<' in html
    assert html.count("<svg") == 1 + len(lao_cai_2024.trends)
    restated = lao_cai_2024.figures_restated
    assert restated is not None
    [members] = [f for f in restated.figures if f.column == "members_total"]
    assert members.this_year is not None and members.this_year >= 1000
    assert f'<td class="num">{charts.format_number(members.this_year)}</td>' in html  # '.' between thousands

    locked = render_dashboard(lao_cai_2024, {"locked": True, "at": None, "username": "cb.laocai", "comment": "x"}, True)
    assert 'id="unlock-form"' in locked and 'action="/tinh/15/2024/mo-chot"' in locked and "Mở chốt" in locked
    assert 'id="lock-form"' not in locked
    assert 'id="lock-form"' not in render_dashboard(lao_cai_2024, None, False)


def test_the_report_page_renders_findings_versions_and_the_decision_forms(snapshot: duckdb.DuckDBPyConnection):
    rejected = next(s for s in committee_submissions(snapshot, BAO_THANG) if s.outcome == "rejected")
    detail = report_detail(snapshot, rejected.submission_id)
    assert detail is not None
    template = environment().get_template("report.html")
    context = {
        "viewer": Viewer("staff", "cb.laocai"),
        "role_label": "Cán bộ Ban Tổ chức tỉnh",
        "csrf_token": "tok-456",
        "report": detail,
        "approval": {"state": "returned", "comment": "Sửa <dòng 5>", "username": "cb", "decided_at": None},
        "approval_history": [],
        "can_decide": True,
        "locked": True,
        "receipt": None,
    }
    html = template.render(**context)
    for element in ('id="findings"', 'id="versions"', 'id="approval"', 'id="approve-form"', 'id="return-form"'):
        assert element in html, element
    assert f'action="/bao-cao/{rejected.submission_id}/duyet"' in html and "Phê duyệt" in html
    assert f'action="/bao-cao/{rejected.submission_id}/tra-lai"' in html and "Trả lại" in html
    assert html.count('value="tok-456"') == 3  # log-out, approve, return
    assert "Sửa &lt;dòng 5&gt;" in html
    assert html.count('class="finding ') == len(detail.findings)
    for version in detail.versions:
        assert f'href="/bao-cao/{version.submission_id}"' in html
    without = template.render(**{**context, "can_decide": False, "approval": None, "locked": False})
    assert 'id="approve-form"' not in without and 'id="return-form"' not in without and "Chờ phê duyệt" in without
