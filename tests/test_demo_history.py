"""The demo history (Lào Cai, Yên Bái, Điện Biên, Sơn La, 2016–2025, crossing the reform) loads in one
night through the real DAG, and the marts answer across the eras. (The 2026 round is not over while this
runs: the night would rightly reject it, thong_tin.report_year.chua_ket_thuc.)"""

from __future__ import annotations

from pathlib import Path

from chibo.config import Settings
from chibo.local_airflow import run_night
from chibo.smtp_sink import airflow_smtp_connection
from demo.history_generator import generate_history
from warehouse.raw import connect

PROVINCES = ["Lào Cai", "Yên Bái", "Điện Biên", "Sơn La"]
YEARS = list(range(2016, 2026))  # the night judges the year by the clock: 2026 is not over yet


def test_demo_history_loads_in_one_night(settings: Settings, smtp_server, airflow_home: Path, monkeypatch):
    port, _ = smtp_server
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", airflow_smtp_connection(port))
    written = generate_history(PROVINCES, YEARS, seed=7, out=settings.inbox, file_format="zip")
    assert run_night(airflow_home) == "success"

    with connect(settings.warehouse, read_only=True) as connection:
        outcomes = dict(
            connection.execute("select outcome, count(*) from raw.submission_outcomes group by 1").fetchall()
        )
        assert outcomes == {"accepted": len(written)}

        # as reported: two provinces before the reform; restated: one Lào Cai = old Lào Cai + old Yên Bái
        for year in range(2016, 2025):
            as_reported = dict(
                connection.execute(
                    "select province, members_total from marts.fct_province_year "
                    "where report_year = ? and province in ('Lào Cai', 'Yên Bái')",
                    [year],
                ).fetchall()
            )
            [(restated, sources)] = connection.execute(
                "select members_total, restated_from from marts.fct_province_year_restated "
                "where report_year = ? and province = 'Lào Cai'",
                [year],
            ).fetchall()
            assert set(as_reported) == {"Lào Cai", "Yên Bái"}
            assert restated == as_reported["Lào Cai"] + as_reported["Yên Bái"], year
            assert sources == "Lào Cai + Yên Bái"
        [(after_reform,)] = connection.execute(
            "select count(*) from marts.fct_province_year where province = 'Yên Bái' and report_year >= 2025"
        ).fetchall()
        assert after_reform == 0  # Yên Bái no longer exists: its communes report in new Lào Cai

        # Sơn La 2019, as published: 608 TCCSĐ = 356 + 252, 4,429 branches, 85,651 members
        [son_la] = connection.execute(
            "select orgs_total, orgs_party_committee, orgs_grassroots_branch, branches_total, members_total "
            "from marts.fct_province_year where province = 'Sơn La' and report_year = 2019"
        ).fetchall()
        assert son_la == (608, 356, 252, 4429, 85651)

        # every fact row has lineage: submission version, file hash, sheet and row
        for fact in ("fct_members", "fct_branches", "fct_evaluations"):
            [(rows, without)] = connection.execute(
                f"select count(*), count(*) filter (where submission_id is null or version is null "
                f"or file_sha256 is null or source_sheet is null or sheet_row is null) from marts.{fact}"
            ).fetchall()
            assert rows > 0 and without == 0, fact
        for fact in ("fct_province_year", "fct_province_year_restated"):
            [(rows, unresolved)] = connection.execute(
                f"select count(distinct f.report_year || f.province), count(*) filter (where s.submission_id is null) "
                f"from marts.{fact} f, unnest(f.submission_ids) as u(id) "
                f"left join raw.submissions s on s.submission_id = u.id"
            ).fetchall()
            assert rows > 0 and unresolved == 0, fact
        [(orphans,)] = connection.execute(
            "select count(*) from marts.fct_members m left join raw.submissions s "
            "on s.submission_id = m.submission_id and s.sha256 = m.file_sha256 where s.submission_id is null"
        ).fetchall()
        assert orphans == 0
