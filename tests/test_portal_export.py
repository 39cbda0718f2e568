"""The portal's download of the province's consolidated report (the official form of ``chibo export``): ``chibo
serve`` on the sample deployment after its night (tests/portal_site.py), for the province's own staff only."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from chibo.config import Settings
from contract.model import load_contract
from portal.dashboard import SNAPSHOT_FILE
from reading.reader import read_report
from tests.portal_site import logged_in, running_portal, sample_deployment

LAO_CAI = "15"  # today's Lào Cai, the sample's province (account laocai)
YEAR = 2024
URL = f"/tinh/{LAO_CAI}/{YEAR}/bao-cao-tong-hop.xlsx"


@dataclass(frozen=True)
class Site:
    settings: Settings
    url: str


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    base = tmp_path_factory.mktemp("portal-export")
    settings, variables = sample_deployment(base)
    with running_portal(variables, base / "serve.log") as url:
        yield Site(settings, url)


def test_the_province_staff_download_the_consolidated_report_with_the_snapshot_figures(site: Site, tmp_path: Path):
    staff = logged_in(site.url, "laocai")
    page = staff.get(f"/tinh/{LAO_CAI}", params={"nam": YEAR})
    response = staff.get(URL)
    assert page.status_code == 200 and URL in page.text
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response.headers["content-disposition"]
    path = tmp_path / "bao-cao-tong-hop.xlsx"
    path.write_bytes(response.content)

    report = read_report(path)
    totals = {row.values["field"]: row.values["value"] for row in report.sheets["tong_hop"].rows}
    with duckdb.connect(str(site.settings.publish / SNAPSHOT_FILE), read_only=True) as connection:
        cursor = connection.execute(
            "select * from main.fct_province_year_restated where province_code = ? and report_year = ?", [LAO_CAI, YEAR]
        )
        columns = [d[0] for d in cursor.description]
        [row] = cursor.fetchall()
    mart = dict(zip(columns, row, strict=True))
    compared = [f.name for f in load_contract().sheet("tong_hop").fields if f.name in mart]
    assert compared and all(totals[name] == (None if mart[name] is None else str(mart[name])) for name in compared)
    assert int(totals["members_total"] or 0) > 0


@pytest.mark.parametrize("username", ["sonla", "baothang", "vanhanh"])
def test_anyone_but_the_province_staff_is_refused(site: Site, username: str):
    assert logged_in(site.url, username).get(URL).status_code == 403


def test_a_year_without_figures_is_said_and_an_anonymous_visitor_must_log_in(site: Site):
    staff = logged_in(site.url, "laocai")
    missing = staff.get(f"/tinh/{LAO_CAI}/2009/bao-cao-tong-hop.xlsx")
    assert missing.status_code == 404 and "Chưa có số liệu năm 2009" in missing.text
    staff.cookies.clear()
    assert staff.get(URL).status_code == 303
