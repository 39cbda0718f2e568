"""The portal on a benchmark's deployment: upload-to-verdict for one district workbook, and a province's dashboard.

``chibo serve`` runs in its own process on the deployment that the benchmark's nights built and published (the
whole country's history for ``PROFILE=national``), with two accounts created for the measurement: the submitter of
the report's committee and the staff of its current province. Each figure is the median of ``REPEATS`` requests
after one unmeasured request (the checker is warm before the first: the server says so on ``/suc-khoe``), timed by
the client from sending the request to reading the whole response: for an upload, the POST and the verdict page
it redirects to.
"""

from __future__ import annotations

import os
import secrets
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from chibo.config import load_settings
from portal import accounts, store
from reading.reader import read_report
from tests.portal_site import csrf_of, logged_in, running_portal
from units.admin_units import resolve_province
from warehouse.admin_dimension import province_mapping

REPEATS = 5


@dataclass(frozen=True)
class PortalTimes:
    upload_seconds: float  # median, upload to verdict page
    outcome: str
    dashboard_seconds: float  # median, the province's dashboard for the report's year
    dashboard_latest_seconds: float  # median, the dashboard as it opens (the newest year)
    province: str
    report_year: int


def accounts_for(report: Path, environ: dict[str, str]) -> tuple[str, str, str, int]:
    """A submitter for the report's committee and a staff account for its current province: their names (with
    one password), the current province's code and the report year."""
    settings = load_settings(environ)
    store.migrate(settings)
    parsed = read_report(report)
    year = int(parsed.info("report_year") or 0)
    old_province = resolve_province(parsed.info("province") or "", year)
    assert old_province is not None, f"{report.name}: province not found"
    current_code = province_mapping().get(old_province.code, old_province.code) if year < 2025 else old_province.code
    password = secrets.token_urlsafe(12)
    suffix = secrets.token_hex(3)
    for new in (
        accounts.NewAccount(
            username=f"bench-submitter-{suffix}", role="submitter", password=password,
            province=parsed.info("province"), committee_name=parsed.info("committee_name"),
            committee_code=parsed.info("committee_code"), report_year=year,
        ),
        accounts.NewAccount(username=f"bench-staff-{suffix}", role="staff", password=password, province=current_code),
    ):  # fmt: skip
        accounts.create(settings, new)
    return suffix, password, current_code, year


def median_seconds(action: object, repeats: int = REPEATS) -> float:
    assert callable(action)
    action()  # unmeasured
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def portal_times(report: Path, environ: dict[str, str], log: Path) -> PortalTimes:
    environ = {**os.environ, **environ}
    suffix, password, province, year = accounts_for(report, environ)
    with running_portal(environ, log) as base:
        submitter = logged_in(base, f"bench-submitter-{suffix}", password)
        outcomes: list[str] = []

        def upload() -> None:
            form = submitter.get("/nop-bao-cao")
            with report.open("rb") as content:
                sent = submitter.post(
                    "/nop-bao-cao", data={"csrf_token": csrf_of(form.text)}, files={"file": (report.name, content)}
                )
            assert sent.status_code == 303, (sent.status_code, sent.text[:300])
            verdict = submitter.get(sent.headers["location"])
            outcomes.append("accepted" if 'class="badge accepted"' in verdict.text else "not accepted")

        staff = logged_in(base, f"bench-staff-{suffix}", password)

        def dashboard(path: str) -> None:
            page = staff.get(path)
            assert page.status_code == 200, (page.status_code, page.text[:300])

        return PortalTimes(
            upload_seconds=median_seconds(upload),
            outcome=outcomes[-1],
            dashboard_seconds=median_seconds(lambda: dashboard(f"/tinh/{province}?nam={year}")),
            dashboard_latest_seconds=median_seconds(lambda: dashboard(f"/tinh/{province}")),
            province=province,
            report_year=year,
        )
