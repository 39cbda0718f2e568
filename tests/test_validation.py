"""Each rule of the catalogue on a passing and a failing report, through the night's own code: every
report below is written to a file, and all of them are taken in and validated together in one scratch
night (``pipeline.check.check_files``: real intake, real DuckDB, real GX), as ``chibo validate`` does."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from chibo.config import load_settings
from contract.workbook import write_csv_zip, write_xlsx
from demo.samples import SAMPLE_REPORTS, muong_khuong_2023
from expectations.rules import all_rules
from expectations.validate import Outcome
from pipeline.check import check_files

Report = dict[str, Any]
RULES = {rule.rule_id: rule for rule in all_rules()}

# Data rows start on row 2 (row 1 is the header); key/value sheets list fields from row 2 in contract order.
FIRST_DATA_ROW = 2
TODAY = date(2026, 11, 29)  # the day the batch is validated (Vietnam time)

# Every report of this module, by name: built before the batch runs, looked up by the tests.
BATCH: dict[str, Callable[[Path], Path]] = {}


def as_file(name: str, report: Report) -> None:
    BATCH[name] = lambda folder: write_xlsx(folder / f"{name}.xlsx", report)


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    folder = tmp_path_factory.mktemp("reports")
    paths = [build(folder) for build in BATCH.values()]
    return dict(zip(BATCH, check_files(paths, load_settings(), today=TODAY), strict=True))


_GOOD = muong_khuong_2023()


def good_report() -> Report:
    return copy.deepcopy(_GOOD)


for _sample in SAMPLE_REPORTS:
    if _sample.valid:
        BATCH[f"sample {_sample.file_name}"] = lambda folder, s=_sample: (
            write_csv_zip if s.file_name.endswith(".zip") else write_xlsx
        )(folder / s.file_name, s.build())


@pytest.mark.parametrize("sample", [s for s in SAMPLE_REPORTS if s.valid], ids=lambda s: s.file_name)
def test_good_samples_pass_every_rule(outcomes, sample):
    outcome = outcomes[f"sample {sample.file_name}"]
    assert outcome.findings == ()
    assert outcome.outcome == "accepted"


def org(report: Report, index: int = 0) -> dict[str, Any]:
    return report["to_chuc_co_so"][index]


def committee_index(report: Report) -> int:
    return next(i for i, row in enumerate(report["to_chuc_co_so"]) if row["org_kind"] == "dang_bo_co_so")


def break_split(report: Report) -> int:
    org(report)["members_official"] += 2
    return FIRST_DATA_ROW


def break_grades(report: Report) -> int:
    org(report)["members_not_rated"] = (org(report).get("members_not_rated") or 0) + 5
    return FIRST_DATA_ROW


def break_branch_rows(report: Report) -> int:
    index = committee_index(report)
    org(report, index)["branches_declared"] += 1
    return FIRST_DATA_ROW + index


def break_branch_members(report: Report) -> int:
    index = committee_index(report)
    code = org(report, index)["org_code"]
    branch = next(b for b in report["chi_bo"] if b["parent_org_code"] == code)
    branch["members_total"] += 1
    return FIRST_DATA_ROW + index


def break_parent(report: Report) -> int:
    report["chi_bo"][3]["parent_org_code"] = "KHONG-CO"
    return FIRST_DATA_ROW + 3


def break_unique(report: Report) -> int:
    report["to_chuc_co_so"][5]["org_code"] = report["to_chuc_co_so"][4]["org_code"]
    return FIRST_DATA_ROW + 4


def break_kinds(report: Report) -> int:
    report["tong_hop"]["orgs_party_committee"] += 1
    return FIRST_DATA_ROW  # orgs_total is the first field of tong_hop


def break_summary(report: Report) -> int:
    report["tong_hop"]["members_total"] = 3790
    return FIRST_DATA_ROW + 4  # members_total is the fifth field


def break_integer(report: Report) -> int:
    report["chi_bo"][0]["members_official"] = "mười"
    return FIRST_DATA_ROW


def break_required(report: Report) -> int:
    report["to_chuc_co_so"][1]["org_name"] = None
    return FIRST_DATA_ROW + 1


def break_allowed(report: Report) -> int:
    report["to_chuc_co_so"][2]["org_grade"] = "Xuất sắc lắm"
    return FIRST_DATA_ROW + 2


def break_year(report: Report) -> int:
    report["thong_tin"]["report_year"] = "năm nay"
    return FIRST_DATA_ROW + 4  # report_year is the fifth field of thong_tin


def break_committee(report: Report) -> int:
    report["thong_tin"]["committee_name"] = "Đảng bộ huyện Mường Khươngg"
    report["thong_tin"]["committee_code"] = None  # the code alone would identify the district
    return FIRST_DATA_ROW + 1  # committee_name is the second field of thong_tin


def first_index(report: Report, sheet: str, **where: object) -> int:
    return next(i for i, row in enumerate(report[sheet]) if all(row.get(k) == v for k, v in where.items()))


def old_grade_in_new_year(report: Report) -> int:
    org(report)["org_grade"] = "Trong sạch vững mạnh"  # TSVM is no grade of the 2018–2024 rule
    return FIRST_DATA_ROW


def old_branch_grade(report: Report) -> int:
    report["chi_bo"][0]["branch_grade"] = "Yếu kém"
    return FIRST_DATA_ROW


def too_many_excellent(report: Report) -> int:
    first = org(report)
    both = first["members_htxsnv"] + first["members_httnv"]
    first["members_htxsnv"], first["members_httnv"] = both // 2, both - both // 2
    return FIRST_DATA_ROW


def small_grassroots_branch(report: Report) -> int:
    index = first_index(report, "to_chuc_co_so", org_kind="chi_bo_co_so")
    row = org(report, index)
    row["members_official"], row["members_probationary"] = 2, row["members_total"] - 2
    return FIRST_DATA_ROW + index


def large_grassroots_branch(report: Report) -> int:
    index = first_index(report, "to_chuc_co_so", org_kind="chi_bo_co_so")
    row = org(report, index)
    extra = 40 - row["members_total"]
    row["members_total"] += extra
    row["members_official"] += extra
    row["members_not_rated"] = (row.get("members_not_rated") or 0) + extra
    return FIRST_DATA_ROW + index


def small_branch(report: Report) -> int:
    report["chi_bo"][3]["members_official"] = 2
    return FIRST_DATA_ROW + 3


def village_without_branch(report: Report) -> int:
    report["thon_ban"][0]["branch_code"] = None
    return FIRST_DATA_ROW


def incomplete_grade_breakdown(report: Report) -> int:
    report["tong_hop"]["orgs_httnv"] -= 10  # as Mường Khương 2021 was published: not every TCCSĐ graded
    return FIRST_DATA_ROW


def breakdown_not_adding_up(report: Report) -> int:
    admitted = report["tong_hop"]["admitted"]
    report["tong_hop"]["admitted_no_member_places"] = 10
    report["tong_hop"]["admitted_no_branch_places"] = admitted - 20
    return FIRST_DATA_ROW + 5  # admitted is the sixth field of tong_hop


def drop_sheet(report: Report) -> None:
    del report["tong_hop"]


CASES: list[tuple[str, Callable[[Report], int | None]]] = [
    ("to_chuc_co_so.members_split", break_split),
    ("to_chuc_co_so.grades_cover_members", break_grades),
    ("to_chuc_co_so.branch_rows", break_branch_rows),
    ("to_chuc_co_so.branch_members", break_branch_members),
    ("chi_bo.thuoc_tccsd", break_parent),
    ("to_chuc_co_so.khoa_trung", break_unique),
    ("tong_hop.orgs_by_kind", break_kinds),
    ("tong_hop.matches_detail", break_summary),
    ("chi_bo.members_official.so_nguyen", break_integer),
    ("to_chuc_co_so.org_name.bat_buoc", break_required),
    ("to_chuc_co_so.org_grade.danh_muc", break_allowed),
    ("thong_tin.report_year.so_nguyen", break_year),
    ("bao_cao.thieu_trang", drop_sheet),
    ("thong_tin.don_vi_hanh_chinh", break_committee),
    ("to_chuc_co_so.org_grade.theo_nam", old_grade_in_new_year),
    ("chi_bo.branch_grade.theo_nam", old_branch_grade),
    ("to_chuc_co_so.htxsnv_toi_da", too_many_excellent),
    ("to_chuc_co_so.chi_bo_co_so_3", small_grassroots_branch),
    ("to_chuc_co_so.chi_bo_co_so_30", large_grassroots_branch),
    ("chi_bo.it_nhat_3", small_branch),
    ("thon_ban.chua_co_chi_bo", village_without_branch),
    ("tong_hop.grades_cover_orgs", incomplete_grade_breakdown),
    ("tong_hop.parts_add_up", breakdown_not_adding_up),
]


EXPECTED_ROWS: dict[str, int | None] = {}
for _rule_id, _mutate in CASES:
    _report = good_report()
    EXPECTED_ROWS[_rule_id] = _mutate(_report)
    as_file(_rule_id, _report)


@pytest.mark.parametrize(("rule_id", "mutate"), CASES, ids=[c[0] for c in CASES])
def test_each_rule_catches_its_error_at_the_right_row(outcomes, rule_id, mutate):
    outcome = outcomes[rule_id]
    expected_row = EXPECTED_ROWS[rule_id]
    severity = RULES[rule_id].severity
    hits = [f for f in outcome.findings if f.rule_id == rule_id]
    assert hits, [f.rule_id for f in outcome.findings]
    assert {f.severity for f in hits} == {severity}
    if severity == "error":
        assert outcome.outcome == "rejected"
    elif all(f.severity == "warning" for f in outcome.findings):
        assert outcome.outcome == "accepted"  # warnings alone never reject
    if expected_row is not None:
        assert expected_row in {f.sheet_row for f in hits}
    assert all(f.message and f.fix for f in hits)


_report = good_report()
_report["tong_hop"]["members_total"] = 3790
as_file("members 3790", _report)


def test_messages_quote_the_values_in_vietnamese_number_format(outcomes):
    [finding] = [f for f in outcomes["members 3790"].findings if f.rule_id == "tong_hop.matches_detail"]
    assert finding.message == (
        "«Tổng số đảng viên» trong trang tổng hợp là 3.790, nhưng cộng từ các trang chi tiết được 3.792."
    )


def without_committee_column(folder: Path) -> Path:
    from openpyxl import load_workbook

    path = write_xlsx(folder / "thieu_cot.xlsx", good_report())
    workbook = load_workbook(path)
    branches = workbook["chi_bo"]
    column = [cell.value for cell in branches[1]].index("Có chi ủy") + 1
    branches.delete_cols(column)
    workbook.save(path)
    return path


BATCH["missing column"] = without_committee_column


def test_a_missing_required_column_is_named_once_not_on_every_row(outcomes):
    outcome = outcomes["missing column"]
    assert [(f.rule_id, f.sheet, f.value) for f in outcome.findings] == [("bao_cao.thieu_cot", "chi_bo", "Có chi ủy")]
    assert outcome.findings[0].message == "Trang «chi_bo» thiếu cột hoặc chỉ tiêu bắt buộc «Có chi ủy»."


_report = good_report()
small_branch(_report)
as_file("warning only", _report)


def test_a_warning_only_report_is_accepted_and_keeps_its_warnings(outcomes):
    outcome = outcomes["warning only"]
    assert outcome.outcome == "accepted"
    assert [(f.rule_id, f.severity) for f in outcome.findings] == [("chi_bo.it_nhat_3", "warning")]
    assert "chỉ có 2 đảng viên chính thức" in outcome.findings[0].message


def _muong_nhe_2016() -> Report:
    from demo.samples import muong_nhe_2016

    return muong_nhe_2016()


as_file("old scale", _muong_nhe_2016())


def test_an_old_scale_year_accepts_its_own_grades_only(outcomes):
    outcome = outcomes["old scale"]
    assert not [f for f in outcome.findings if f.rule_id.endswith(".theo_nam")]  # TSVM is right in 2016


def test_every_rule_in_the_catalogue_has_a_failing_case_here():
    from tests.test_new_rules import NEW_RULE_CASES

    field_rule_suffixes = (".bat_buoc", ".so_nguyen", ".danh_muc", ".dinh_dang", ".khoa_trung")
    tested = {rule_id for rule_id, _ in CASES} | {"bao_cao.thieu_cot"} | set(NEW_RULE_CASES)
    cross_rules = {
        r.rule_id
        for r in all_rules()
        if not r.rule_id.endswith(field_rule_suffixes) and not r.rule_id.startswith(("lich_su.", "tinh."))
    }  # history and province rules: tests/test_history_rules.py, tests/test_province_reconciliation.py
    assert cross_rules <= tested


_report = good_report()
_report["thong_tin"]["committee_name"] = "Huyện Mường Khươngg"
_report["thong_tin"]["committee_code"] = None
as_file("unknown committee", _report)


def test_an_unknown_committee_is_rejected_with_the_closest_official_units(outcomes):
    [finding] = [f for f in outcomes["unknown committee"].findings if f.rule_id == "thong_tin.don_vi_hanh_chinh"]
    assert "Mường Khương" in finding.message  # the closest candidate is named


SPELLINGS = [
    ("Tỉnh Lào Cai", "H. Mường Khương"),
    ("LAO CAI", "huyen muong khuong"),
    ("Lào Cai", "Huyện ủy Mường Khương"),
]
for _number, (_province, _committee) in enumerate(SPELLINGS):
    _report = good_report()
    _report["thong_tin"].update(province=_province, committee_name=_committee, committee_code=None)
    as_file(f"spelling {_number}", _report)


@pytest.mark.parametrize("number", range(len(SPELLINGS)), ids=[f"{p}|{c}" for p, c in SPELLINGS])
def test_the_committee_is_recognised_whatever_its_prefix_or_spelling(outcomes, number):
    assert outcomes[f"spelling {number}"].outcome == "accepted"
