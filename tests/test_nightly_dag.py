"""End to end: the real DAG with dag.test() (SQLite metadata after `airflow db migrate`), real GX,
real dbt build into DuckDB, and a real SMTP server on localhost receiving the alerts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from chibo.config import Settings
from chibo.local_airflow import run_night
from chibo.smtp_sink import airflow_smtp_connection
from contract.model import load_contract
from demo.samples import UNREADABLE_FILE_NAME, write_sample_inbox
from warehouse.raw import connect

TONG_HOP_TITLE = next(sheet.title for sheet in load_contract().sheets if sheet.name == "tong_hop")

MARTS = [
    "dim_committee",
    "dim_year",
    "dim_grade",
    "fct_members",
    "fct_branches",
    "fct_evaluations",
    "fct_province_year",
]


def mart_contents(settings: Settings) -> dict[str, list[tuple]]:
    with connect(settings.warehouse, read_only=True) as connection:
        return {m: connection.execute(f"select * from marts.{m} order by all").fetchall() for m in MARTS}


def province_year(settings: Settings, province: str, year: int) -> dict[str, object]:
    with connect(settings.warehouse, read_only=True) as connection:
        cursor = connection.execute(
            "select * from marts.fct_province_year where province = ? and report_year = ?", [province, year]
        )
        columns = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
    assert len(rows) == 1
    return dict(zip(columns, rows[0], strict=True))


def html_text(message) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", message.get_body(("html", "plain")).get_content()))


@pytest.fixture
def night(settings: Settings, smtp_server, airflow_home: Path, monkeypatch: pytest.MonkeyPatch):
    port, handler = smtp_server
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", airflow_smtp_connection(port))
    write_sample_inbox(settings.inbox)
    return lambda: run_night(airflow_home), handler


def test_nightly_consolidation_end_to_end(settings: Settings, night):
    run, mailbox = night
    assert run() == "success"

    muong_khuong = province_year(settings, "Lào Cai", 2023)
    assert muong_khuong["committees_reporting"] == 1
    assert (
        muong_khuong["orgs_total"],
        muong_khuong["orgs_party_committee"],
        muong_khuong["orgs_grassroots_branch"],
    ) == (
        42,
        20,
        22,
    )
    assert muong_khuong["branches_total"] == 243
    assert muong_khuong["members_total"] == 3792
    assert (muong_khuong["orgs_htxsnv"], muong_khuong["orgs_httnv"]) == (8, 34)
    assert (muong_khuong["villages_with_branch"], muong_khuong["villages_total"]) == (157, 157)
    assert muong_khuong["pct_village_branches_with_committee"] == pytest.approx(73.2)

    lao_cai_2024 = province_year(settings, "Lào Cai", 2024)  # Bảo Thắng + Si Ma Cai
    assert lao_cai_2024["committees_reporting"] == 2
    assert lao_cai_2024["orgs_total"] == 32 + 40
    assert lao_cai_2024["members_total"] == 5512 + 2469
    assert lao_cai_2024["branches_total"] == 342 + province_year_branches_si_ma_cai(settings)

    with connect(settings.warehouse, read_only=True) as connection:
        provinces = connection.execute("select distinct province from marts.fct_province_year").fetchall()
        [(members_rows,)] = connection.execute(
            "select count(*) from marts.fct_members where committee_key = 'pre-2025:district:083'"
        ).fetchall()
    assert provinces == [("Lào Cai",)]  # the rejected Điện Biên report never reaches the marts
    with connect(settings.publish / "chibo.duckdb", read_only=True) as snapshot:  # the analysts' copy
        [(published_members,)] = snapshot.execute(
            "select members_total from fct_province_year where province = 'Lào Cai' and report_year = 2023"
        ).fetchall()
    assert published_members == 3792
    assert members_rows == 42

    by_recipient = {tuple(r.envelope_to): r.message for r in mailbox.received}
    assert set(by_recipient) == {("to-chuc@dienbien.example.org",), ("van-hanh@chibo.example.org",)}
    dien_bien = by_recipient[("to-chuc@dienbien.example.org",)]
    assert "Điện Biên" in dien_bien["Subject"] and "1 báo cáo bị từ chối" in dien_bien["Subject"]
    body = html_text(dien_bien)
    assert "Đảng bộ huyện Mường Nhé — năm 2016" in body
    assert "dien-bien_muong-nhe_2016.xlsx" in body
    # sheets are named by their titles in the contract, never by their ids
    assert f"trang «{TONG_HOP_TITLE}», dòng 5" in body
    assert "trong trang tổng hợp là 141, nhưng cộng từ các trang chi tiết được 140" in body
    assert "khác số chính thức + dự bị" in body
    operators = html_text(by_recipient[("van-hanh@chibo.example.org",)])
    assert UNREADABLE_FILE_NAME in operators and "không phải bảng tính" in operators


def province_year_branches_si_ma_cai(settings: Settings) -> int:
    with connect(settings.warehouse, read_only=True) as connection:
        [(count,)] = connection.execute(
            "select count(*) from raw.chi_bo b join raw.submissions s using (submission_id) "
            "where s.committee_key = 'pre-2025:district:084'"
        ).fetchall()
    return int(count)


def test_running_twice_on_the_same_inbox_changes_nothing(settings: Settings, night):
    run, mailbox = night
    assert run() == "success"
    first = mart_contents(settings)
    sent_first = len(mailbox.received)
    assert run() == "success"
    assert mart_contents(settings) == first
    assert len(mailbox.received) == sent_first  # nothing new was rejected, nothing is sent
