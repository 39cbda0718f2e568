"""A province's own aggregate report is reconciled with the accepted reports of its committees
(Sơn La 2019: 608 TCCSĐ = 356 + 252, 4,429 branches, 85,651 members)."""

from __future__ import annotations

import pytest

from chibo.config import Settings
from contract.workbook import write_xlsx
from ingestion.intake import ingest_inbox
from tests.nights import validate_tonight
from units.admin_units import units_of_province
from warehouse.raw import connect

PUBLISHED = {"orgs_party_committee": 356, "orgs_grassroots_branch": 252, "branches_total": 4429, "members_total": 85651}


def shares(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def committee_reports() -> list[dict]:
    units = units_of_province("Sơn La", 2019)
    columns = {name: shares(value, len(units)) for name, value in PUBLISHED.items()}
    reports = []
    for index, unit in enumerate(units):
        figures = {name: values[index] for name, values in columns.items()}
        figures["orgs_total"] = figures["orgs_party_committee"] + figures["orgs_grassroots_branch"]
        reports.append(
            {
                "thong_tin": {
                    "province": "Sơn La",
                    "committee_name": unit.name,
                    "committee_code": unit.code,
                    "report_year": 2019,
                },
                "tong_hop": figures,
            }
        )
    return reports


def province_report(members: int) -> dict:
    return {
        "thong_tin": {
            "province": "Sơn La",
            "committee_name": "Đảng bộ tỉnh Sơn La",
            "committee_level": "Tỉnh",
            "report_year": 2019,
        },
        "tong_hop": {"orgs_total": 608, **PUBLISHED, "members_total": members},
    }


@pytest.mark.parametrize(("members", "flagged"), [(85651, False), (85600, True)])
def test_the_province_report_agrees_with_its_committees(settings: Settings, members: int, flagged: bool):
    for index, report in enumerate(committee_reports()):
        write_xlsx(settings.inbox / f"huyen_{index:02d}.xlsx", report)
    with connect(settings.warehouse) as connection:
        ingest_inbox(connection, settings, "committees")
    assert {o.outcome for o in validate_tonight(settings, "committees")} == {"accepted"}
    write_xlsx(settings.inbox / "tinh_son_la_2019.xlsx", province_report(members))
    with connect(settings.warehouse) as connection:
        ingest_inbox(connection, settings, "province")
    [outcome] = validate_tonight(settings, "province")
    found = [f for f in outcome.findings if f.rule_id == "tinh.doi_chieu"]
    assert outcome.outcome == "accepted"  # a warning: staff check which side is right
    if flagged:
        [finding] = found
        assert finding.message == (
            "«Tổng số đảng viên» trong báo cáo tổng hợp của tỉnh là 85.600, nhưng cộng 12 báo cáo đã tiếp nhận "
            "của các đảng bộ trực thuộc được 85.651."
        )
    else:
        assert found == []
