"""The rules derived from the contract's bounds (a part at most its whole, a percentage within 0–100) and the
calendar rules (a report year that has not ended, a report prepared in the future): each on a failing
report, at the right sheet row, through the night's own code (one scratch night, real intake, DuckDB and GX)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date
from typing import Any

import pandas as pd
import pytest

from chibo.config import load_settings
from contract.model import Field, Sheet, load_contract
from contract.workbook import write_xlsx
from demo.samples import muong_khuong_2023
from expectations.frames import calendar_checks
from expectations.rules import all_rules
from expectations.validate import Outcome
from pipeline.check import check_files

Report = dict[str, Any]
Mutate = Callable[[Report], int]
CONTRACT = load_contract()
RULES = {rule.rule_id: rule for rule in all_rules()}
FIRST_DATA_ROW = 2
TODAY = date(2026, 11, 29)  # the night: the 2026 report sent on 29 November 2026
_GOOD = muong_khuong_2023()


def good_report() -> Report:
    return copy.deepcopy(_GOOD)


def key_value_row(sheet: Sheet, field_name: str) -> int:
    """Key/value sheets list every field from row 2, in contract order."""
    return FIRST_DATA_ROW + sheet.field_names.index(field_name)


def part_over_whole(sheet: Sheet, field_: Field) -> Mutate:
    """The part one more than its whole (a whole the sample leaves empty is given as 5 first)."""

    def mutate(report: Report) -> int:
        row = report[sheet.name][0] if sheet.layout == "table" else report[sheet.name]
        whole = row.get(field_.whole)
        if not isinstance(whole, int):
            row[field_.whole] = whole = 5
        row[field_.name] = whole + 1
        return FIRST_DATA_ROW if sheet.layout == "table" else key_value_row(sheet, field_.name)

    return mutate


def percentage_over_100(sheet: Sheet, field_: Field) -> Mutate:
    def mutate(report: Report) -> int:
        report[sheet.name][field_.name] = 100.5
        return key_value_row(sheet, field_.name)

    return mutate


def year_not_ended(report: Report) -> int:
    report["thong_tin"]["report_year"] = TODAY.year
    return key_value_row(CONTRACT.sheet("thong_tin"), "report_year")


def prepared_in_the_future(report: Report) -> int:
    report["thong_tin"]["prepared_on"] = "2027-01-17"
    return key_value_row(CONTRACT.sheet("thong_tin"), "prepared_on")


def contract_cases() -> dict[str, Mutate]:
    cases: dict[str, Mutate] = {}
    for sheet in CONTRACT.sheets:
        for field_ in sheet.fields:
            if field_.whole:
                cases[f"{sheet.name}.{field_.name}.khong_vuot"] = part_over_whole(sheet, field_)
            if field_.unit == "%":
                cases[f"{sheet.name}.{field_.name}.phan_tram"] = percentage_over_100(sheet, field_)
    return cases


NEW_RULE_CASES: dict[str, Mutate] = contract_cases() | {
    "thong_tin.report_year.chua_ket_thuc": year_not_ended,
    "thong_tin.prepared_on.tuong_lai": prepared_in_the_future,
}

BATCH: dict[str, Report] = {"good": good_report()}
EXPECTED_ROWS: dict[str, int] = {}
for _rule_id, _mutate in NEW_RULE_CASES.items():
    BATCH[_rule_id] = good_report()
    EXPECTED_ROWS[_rule_id] = _mutate(BATCH[_rule_id])

# The examples: 12 women in a unit of 10 members; 160 villages with a branch out of 157.
_women = good_report()
_women["to_chuc_co_so"][0].update(members_total=10, members_official=10, members_probationary=0, members_female=12)
BATCH["12 women of 10"] = _women
_villages = good_report()
_villages["tong_hop"]["villages_with_branch"] = 160
BATCH["160 villages of 157"] = _villages
# The 2026 report on 29 November 2026, prepared "2027-01-17" (as of 31/12/2026, not yet ended).
_early = good_report()
_early["thong_tin"].update(report_year=2026, prepared_on="2027-01-17")
BATCH["2026 on 29/11/2026"] = _early


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    folder = tmp_path_factory.mktemp("reports")
    paths = [write_xlsx(folder / f"{number:02d}.xlsx", report) for number, report in enumerate(BATCH.values())]
    return dict(zip(BATCH, check_files(paths, load_settings(), today=TODAY), strict=True))


def test_the_good_sample_with_its_published_percentage_passes(outcomes):
    assert _GOOD["tong_hop"]["village_branches_with_committee_pct"] == 73.2
    assert outcomes["good"].outcome == "accepted"
    assert outcomes["good"].findings == ()


@pytest.mark.parametrize("rule_id", list(NEW_RULE_CASES))
def test_each_new_rule_catches_its_error_at_the_right_row(outcomes, rule_id):
    outcome = outcomes[rule_id]
    hits = [f for f in outcome.findings if f.rule_id == rule_id]
    assert hits, [f.rule_id for f in outcome.findings]
    assert RULES[rule_id].severity == "error"
    assert {f.severity for f in hits} == {"error"}
    assert outcome.outcome == "rejected"
    assert EXPECTED_ROWS[rule_id] in {f.sheet_row for f in hits}
    assert all(f.message and f.fix and "{" not in f.message for f in hits)


def test_every_part_of_a_whole_in_the_contract_has_its_rule():
    declared = {
        f"{sheet.name}.{field_.name}.khong_vuot": (sheet, field_)
        for sheet in CONTRACT.sheets
        for field_ in sheet.fields
        if field_.whole
    }
    assert declared.keys() == {r for r in RULES if r.endswith(".khong_vuot")}
    for sheet, field_ in declared.values():
        whole = sheet.field(field_.whole)  # the whole is a field of the same sheet …
        assert field_.type == whole.type == "integer"  # … and both are counts
    wanted = {  # the parts the issue names, among others
        "to_chuc_co_so.members_female",
        "to_chuc_co_so.members_ethnic_minority",
        "to_chuc_co_so.members_probationary",
        "to_chuc_co_so.members_official",
        "to_chuc_co_so.members_htxsnv",
        "chi_bo.members_official",
        "tong_hop.villages_with_branch",
        "tong_hop.villages_without_members",
        "tong_hop.orgs_party_committee",
        "tong_hop.orgs_grassroots_branch",
        "tong_hop.admitted_in_villages",  # a part_of breakdown is a part too
    }
    assert {f"{w}.khong_vuot" for w in wanted} <= declared.keys()
    percentages = {r for r in RULES if r.endswith(".phan_tram")}
    assert percentages == {"tong_hop.village_branches_with_committee_pct.phan_tram"}


def test_messages_name_the_part_and_its_whole(outcomes):
    [women] = [f for f in outcomes["12 women of 10"].findings if f.rule_id == "to_chuc_co_so.members_female.khong_vuot"]
    assert women.message == (
        "«Đảng viên nữ» (12) lớn hơn «Đảng viên - Tổng số» (10): một phần không thể lớn hơn tổng số."
    )
    assert women.sheet_row == FIRST_DATA_ROW
    [villages] = [
        f for f in outcomes["160 villages of 157"].findings if f.rule_id == "tong_hop.villages_with_branch.khong_vuot"
    ]
    assert villages.message == (
        "«Số thôn, tổ dân phố có chi bộ» (160) lớn hơn «Số thôn, bản, tổ dân phố» (157): "
        "một phần không thể lớn hơn tổng số."
    )
    [percent] = [
        f
        for f in outcomes["tong_hop.village_branches_with_committee_pct.phan_tram"].findings
        if f.rule_id.endswith(".phan_tram")
    ]
    assert percent.message == (
        "«Tỷ lệ chi bộ thôn, tổ dân phố có chi ủy» là 100,5%, nằm ngoài khoảng từ 0 đến 100%."
    )


def test_a_report_for_a_year_not_ended_and_prepared_in_the_future_is_rejected_with_both_reasons(outcomes):
    outcome = outcomes["2026 on 29/11/2026"]
    assert outcome.outcome == "rejected"
    by_rule = {f.rule_id: f for f in outcome.findings}
    assert by_rule["thong_tin.report_year.chua_ket_thuc"].message == (
        "Năm báo cáo 2026 chưa kết thúc (số liệu báo cáo năm tính đến ngày 31/12/2026; hôm nay là 29/11/2026)."
    )
    assert by_rule["thong_tin.prepared_on.tuong_lai"].message == (
        "«Ngày lập» 17/01/2027 là một ngày trong tương lai (hôm nay là 29/11/2026)."
    )


@pytest.mark.parametrize(
    ("today", "year_ended", "not_future"),
    [
        (date(2026, 12, 31), False, False),  # the year ends at the end of 31 December
        (date(2027, 1, 1), True, False),
        (date(2027, 1, 17), True, True),  # prepared today is fine
    ],
)
def test_today_is_a_parameter(today, year_ended, not_future):
    info = pd.DataFrame({"report_year": ["2026"], "prepared_on": ["2027-01-17"]})
    checked = calendar_checks(info, today)
    assert checked.loc[0, "report_year_ended"] is year_ended
    assert checked.loc[0, "prepared_on_not_future"] is not_future
