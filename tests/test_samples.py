"""The synthesised sample reports: published totals exact, validation rules hold, errors planted."""

from __future__ import annotations

import csv
import io
import zipfile
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from contract.model import load_contract
from contract.workbook import KEY_HEADER, VALUE_HEADER
from demo.samples import (
    BAO_THANG_2024,
    MUONG_KHUONG_2023,
    MUONG_NHE_2016,
    MUONG_NHE_2016_DROPPED_BRANCH,
    MUONG_NHE_2016_OFF_BY_TWO_ORG,
    MUONG_NHE_2016_PLANTED_ERRORS,
    SAMPLE_REPORTS,
    SI_MA_CAI_2024,
    UNREADABLE_FILE_NAME,
    apportion,
    bao_thang_2024,
    committee_ratio,
    grade_code,
    muong_khuong_2023,
    muong_nhe_2016,
    si_ma_cai_2024,
    synthesise_report,
    write_sample_inbox,
)

Finding = tuple[str, str, str]  # (sheet, org_code / branch_code / field, field)
VILLAGE_KINDS = ("thon", "to_dan_pho")
GOOD_REPORTS: dict[str, Callable[[], dict[str, Any]]] = {
    "muong_khuong_2023": muong_khuong_2023,
    "bao_thang_2024": bao_thang_2024,
    "si_ma_cai_2024": si_ma_cai_2024,
}


@pytest.fixture(scope="module")
def reports() -> dict[str, dict[str, Any]]:
    built = {name: build() for name, build in GOOD_REPORTS.items()}
    built["muong_nhe_2016"] = muong_nhe_2016()
    return built


# ---------------------------------------------------------------------------------------------
# A small reference validator: the rules every good report must satisfy
# ---------------------------------------------------------------------------------------------


def org_findings(org: Mapping[str, Any], branches: list[Mapping[str, Any]]) -> list[Finding]:
    code = org["org_code"]
    found: list[Finding] = []

    def check(ok: bool, field: str) -> None:
        if not ok:
            found.append(("to_chuc_co_so", code, field))

    total = org["members_total"]
    check(org["members_official"] + org["members_probationary"] == total, "members_probationary")
    grades = ("members_htxsnv", "members_httnv", "members_htnv", "members_khtnv", "members_not_rated")
    check(sum(org[g] for g in grades) == total, "members_not_rated")
    check(org["members_htxsnv"] <= 0.2 * org["members_httnv"], "members_htxsnv")
    check(org["members_female"] <= total, "members_female")
    check(org["members_ethnic_minority"] <= total, "members_ethnic_minority")
    if org["org_kind"] == "dang_bo_co_so":
        check(org["branches_declared"] == len(branches), "branches_declared")
        check(sum(b["members_total"] for b in branches) == total, "members_total")
    else:
        check(org["branches_declared"] in (None, 0) and not branches, "branches_declared")
        check(3 <= total <= 29 and org["members_official"] >= 3, "members_total")
    return found


def branch_findings(branch: Mapping[str, Any], parents: Mapping[str, Mapping[str, Any]]) -> list[Finding]:
    code = branch["branch_code"]
    found: list[Finding] = []
    if branch["members_official"] < 3:
        found.append(("chi_bo", code, "members_official"))
    if branch["members_official"] > branch["members_total"]:
        found.append(("chi_bo", code, "members_total"))
    parent = parents.get(branch["parent_org_code"])
    if parent is None or parent["org_kind"] != "dang_bo_co_so":
        found.append(("chi_bo", code, "parent_org_code"))
    elif branch["branch_kind"] in VILLAGE_KINDS and parent["sector"] != "xa_phuong_thi_tran":
        found.append(("chi_bo", code, "branch_kind"))
    if branch["has_branch_committee"] not in ("Có", "Không"):
        found.append(("chi_bo", code, "has_branch_committee"))
    return found


def village_findings(report: Mapping[str, Any]) -> list[Finding]:
    branches = {b["branch_code"]: b for b in report["chi_bo"]}
    found: list[Finding] = []
    referenced = Counter(v["branch_code"] for v in report["thon_ban"] if v["branch_code"])
    for village in report["thon_ban"]:
        key = f"{village['commune']} / {village['village_name']}"
        branch = branches.get(village["branch_code"]) if village["branch_code"] else None
        if village["branch_code"] and (branch is None or branch["branch_kind"] not in VILLAGE_KINDS):
            found.append(("thon_ban", key, "branch_code"))
        if village["members"] != (branch["members_total"] if branch else 0):
            found.append(("thon_ban", key, "members"))
        if village["joint_branch"] != "Không":
            found.append(("thon_ban", key, "joint_branch"))
    for code, branch in branches.items():
        if branch["branch_kind"] in VILLAGE_KINDS and referenced[code] != 1:
            found.append(("chi_bo", code, "branch_kind"))
    keys = [(v["commune"], v["village_name"]) for v in report["thon_ban"]]
    if len(set(keys)) != len(keys):
        found.append(("thon_ban", "*", "village_name"))
    return found


def expected_totals(report: Mapping[str, Any]) -> dict[str, int]:
    orgs, villages = report["to_chuc_co_so"], report["thon_ban"]
    grades = Counter(grade_code(o["org_grade"]) for o in orgs)
    return {
        "orgs_total": len(orgs),
        "orgs_party_committee": sum(o["org_kind"] == "dang_bo_co_so" for o in orgs),
        "orgs_grassroots_branch": sum(o["org_kind"] == "chi_bo_co_so" for o in orgs),
        "branches_total": len(report["chi_bo"]),
        "members_total": sum(o["members_total"] for o in orgs),
        "admitted": sum(o["admitted"] for o in orgs),
        "villages_total": len(villages),
        "villages_with_branch": sum(bool(v["branch_code"]) for v in villages),
        "villages_without_members": sum(v["members"] == 0 for v in villages),
        "orgs_htxsnv": grades["HTXSNV"],
        "orgs_httnv": grades["HTTNV"],
        "orgs_htnv": grades["HTNV"],
        "orgs_khtnv": grades["KHTNV"],
    }


def findings(report: Mapping[str, Any]) -> set[Finding]:
    orgs = report["to_chuc_co_so"]
    by_parent: dict[str, list[Mapping[str, Any]]] = {}
    for branch in report["chi_bo"]:
        by_parent.setdefault(branch["parent_org_code"], []).append(branch)
    found: list[Finding] = []
    for org in orgs:
        found += org_findings(org, by_parent.get(org["org_code"], []))
    parents = {o["org_code"]: o for o in orgs}
    for branch in report["chi_bo"]:
        found += branch_findings(branch, parents)
    found += village_findings(report)
    for field, value in expected_totals(report).items():
        written = report["tong_hop"][field]
        if written is not None and written != value:
            found.append(("tong_hop", field, field))
    for sheet, key in (("to_chuc_co_so", "org_code"), ("chi_bo", "branch_code")):
        codes = Counter(row[key] for row in report[sheet])
        found += [(sheet, code, key) for code, n in codes.items() if n > 1]
    return set(found)


# ---------------------------------------------------------------------------------------------
# Published figures
# ---------------------------------------------------------------------------------------------


def counts(report: Mapping[str, Any]) -> dict[str, Any]:
    summary = report["tong_hop"]
    return {
        key: summary[key]
        for key in (
            "orgs_total",
            "orgs_party_committee",
            "orgs_grassroots_branch",
            "branches_total",
            "members_total",
            "villages_total",
            "villages_with_branch",
        )
    }


def test_muong_khuong_2023_published_figures(reports: dict[str, dict[str, Any]]) -> None:
    report = reports["muong_khuong_2023"]
    assert counts(report) == {
        "orgs_total": 42,
        "orgs_party_committee": 20,
        "orgs_grassroots_branch": 22,
        "branches_total": 243,
        "members_total": 3792,
        "villages_total": 157,
        "villages_with_branch": 157,
    }
    village_branches = [b for b in report["chi_bo"] if b["branch_kind"] in VILLAGE_KINDS]
    assert len(village_branches) == 157
    assert sum(b["has_branch_committee"] == "Có" for b in village_branches) == 115
    assert round(committee_ratio(report), 1) == 73.2
    assert Counter(grade_code(o["org_grade"]) for o in report["to_chuc_co_so"]) == {"HTXSNV": 8, "HTTNV": 34}
    assert (report["tong_hop"]["orgs_htxsnv"], report["tong_hop"]["orgs_httnv"]) == (8, 34)
    communes = [o for o in report["to_chuc_co_so"] if o["sector"] == "xa_phuong_thi_tran"]
    assert len(communes) == 16
    assert sum(o["org_name"].startswith("Đảng bộ thị trấn") for o in communes) == 1
    assert len({v["commune"] for v in report["thon_ban"]}) == 16


def test_bao_thang_2024_published_figures(reports: dict[str, dict[str, Any]]) -> None:
    report = reports["bao_thang_2024"]
    summary = counts(report)
    assert summary["orgs_total"] == 32
    assert summary["branches_total"] == 342
    assert summary["members_total"] == 5512 > 5500
    grades = Counter(grade_code(o["org_grade"]) for o in report["to_chuc_co_so"])
    assert grades.most_common(1)[0][0] == "HTTNV" and grades["HTTNV"] > 32 / 2
    assert report["tong_hop"]["admitted"] >= 280  # the published yearly target
    son_ha = next(o for o in report["to_chuc_co_so"] if o["org_name"] == "Đảng bộ xã Sơn Hà")
    son_ha_branches = [b for b in report["chi_bo"] if b["parent_org_code"] == son_ha["org_code"]]
    assert son_ha["members_total"] == 276
    assert Counter(b["branch_kind"] == "thon" for b in son_ha_branches) == {True: 10, False: 6}
    khe_den = next(b for b in son_ha_branches if b["branch_name"] == "Chi bộ thôn Khe Đền")
    assert (khe_den["members_total"], khe_den["has_branch_committee"]) == (16, "Có")


def test_si_ma_cai_2024_published_figures(reports: dict[str, dict[str, Any]]) -> None:
    report = reports["si_ma_cai_2024"]
    assert counts(report)["orgs_total"] == 40
    assert counts(report)["members_total"] == 2469
    grades = Counter(grade_code(o["org_grade"]) for o in report["to_chuc_co_so"])
    assert (grades["HTXSNV"] + grades["HTTNV"]) / 40 > 0.8
    assert grades["KHTNV"] == 0 and report["tong_hop"]["orgs_khtnv"] == 0
    assert committee_ratio(report) > 95


def test_muong_nhe_2016_published_figures(reports: dict[str, dict[str, Any]]) -> None:
    report = reports["muong_nhe_2016"]
    assert report["tong_hop"]["orgs_total"] == len(report["to_chuc_co_so"]) == 42
    assert report["tong_hop"]["branches_total"] == 141
    members = sum(o["members_total"] for o in report["to_chuc_co_so"])
    assert report["tong_hop"]["members_total"] == members == 1724
    grades = Counter(o["org_grade"] for o in report["to_chuc_co_so"])
    assert grades == {"Trong sạch vững mạnh": 21, "Hoàn thành tốt nhiệm vụ": 16, "Hoàn thành nhiệm vụ": 5}
    assert report["tong_hop"]["villages_without_members"] == 8
    huoi_can = next(v for v in report["thon_ban"] if v["village_name"] == "Huổi Cắn")
    assert (huoi_can["commune"], huoi_can["members"], huoi_can["branch_code"]) == ("Xã Mường Toong", 0, None)
    muong_nhe = report["to_chuc_co_so"][0]
    assert (muong_nhe["org_name"], muong_nhe["members_total"], muong_nhe["branches_declared"]) == (
        "Đảng bộ xã Mường Nhé",
        242,
        19,
    )


# ---------------------------------------------------------------------------------------------
# Validation rules
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(GOOD_REPORTS))
def test_good_reports_pass_every_rule(reports: dict[str, dict[str, Any]], name: str) -> None:
    assert findings(reports[name]) == set()


@pytest.mark.parametrize("name", list(GOOD_REPORTS))
def test_good_reports_tong_hop_equals_details(reports: dict[str, dict[str, Any]], name: str) -> None:
    report = reports[name]
    for field, value in expected_totals(report).items():
        assert report["tong_hop"][field] == value, field
    assert report["tong_hop"]["awareness_classes"] >= 1
    assert report["tong_hop"]["awareness_attendees"] >= report["tong_hop"]["admitted"]


@pytest.mark.parametrize("name", list(GOOD_REPORTS))
def test_every_village_has_one_branch(reports: dict[str, dict[str, Any]], name: str) -> None:
    report = reports[name]
    village_branches = {b["branch_code"] for b in report["chi_bo"] if b["branch_kind"] in VILLAGE_KINDS}
    assert sorted(v["branch_code"] for v in report["thon_ban"]) == sorted(village_branches)
    assert all(v["members"] > 0 for v in report["thon_ban"])
    other_kinds = {b["branch_kind"] for b in report["chi_bo"]} - set(VILLAGE_KINDS)
    assert {"truong_hoc", "tram_y_te", "co_quan"} <= other_kinds


@pytest.mark.parametrize("name", [*GOOD_REPORTS, "muong_nhe_2016"])
def test_codes_and_values_follow_the_contract(reports: dict[str, dict[str, Any]], name: str) -> None:
    contract = load_contract()
    report = reports[name]
    for sheet in contract.sheets:
        if sheet.layout == "table":
            for row in report[sheet.name]:
                assert set(row) == set(sheet.field_names)
                for field in sheet.fields:
                    value = row[field.name]
                    if field.required:
                        assert value not in (None, ""), (sheet.name, field.name)
                    if field.type == "enum" and value is not None:
                        assert value in contract.allowed_codes(field), (field.name, value)
                    if field.type == "grade" and value is not None:
                        assert grade_code(value) is not None, value
                    if field.type == "boolean" and value is not None:
                        assert value in ("Có", "Không")
        else:
            assert set(report[sheet.name]) == set(sheet.field_names)


@pytest.mark.parametrize("name", [*GOOD_REPORTS, "muong_nhe_2016"])
def test_thong_tin(reports: dict[str, dict[str, Any]], name: str) -> None:
    info = reports[name]["thong_tin"]
    assert info["committee_level"] == "huyen"
    assert info["committee_name"].startswith("Đảng bộ huyện ")
    prepared = date.fromisoformat(info["prepared_on"])
    assert (prepared.year, prepared.month) == (info["report_year"] + 1, 1)
    assert info["contact_email"].endswith("@example.org")
    assert info["preparer"]


@pytest.mark.parametrize("name", [*GOOD_REPORTS, "muong_nhe_2016"])
def test_branch_committee_follows_the_statute(reports: dict[str, dict[str, Any]], name: str) -> None:
    for branch in reports[name]["chi_bo"]:
        assert (branch["has_branch_committee"] == "Có") == (branch["members_official"] >= 9)


def test_grades_written_as_an_office_would(reports: dict[str, dict[str, Any]]) -> None:
    assert {o["org_grade"] for o in reports["muong_khuong_2023"]["to_chuc_co_so"]} == {"HTXSNV", "HTTNV"}
    assert "Hoàn thành tốt nhiệm vụ" in {o["org_grade"] for o in reports["bao_thang_2024"]["to_chuc_co_so"]}


# ---------------------------------------------------------------------------------------------
# Mường Nhé 2016: the planted errors
# ---------------------------------------------------------------------------------------------


def test_muong_nhe_2016_has_exactly_the_planted_errors(reports: dict[str, dict[str, Any]]) -> None:
    planted = {(e.sheet, e.key, e.field) for e in MUONG_NHE_2016_PLANTED_ERRORS}
    assert findings(reports["muong_nhe_2016"]) == planted


def test_muong_nhe_2016_planted_errors_in_detail(reports: dict[str, dict[str, Any]]) -> None:
    report = reports["muong_nhe_2016"]
    orgs = {o["org_code"]: o for o in report["to_chuc_co_so"]}
    off = orgs[MUONG_NHE_2016_OFF_BY_TWO_ORG]
    assert off["org_name"] == "Đảng bộ xã Mường Toong"
    assert off["members_official"] + off["members_probationary"] == off["members_total"] - 2
    assert len(report["chi_bo"]) == 140 and report["tong_hop"]["branches_total"] == 141
    assert MUONG_NHE_2016_DROPPED_BRANCH not in {b["branch_code"] for b in report["chi_bo"]}
    parent = orgs[MUONG_NHE_2016_DROPPED_BRANCH.split(".")[0]]
    assert parent["org_name"] == "Đảng bộ Công an huyện Mường Nhé"
    kept = [b for b in report["chi_bo"] if b["parent_org_code"] == parent["org_code"]]
    assert parent["branches_declared"] == len(kept) + 1


def test_muong_nhe_2016_is_clean_before_planting() -> None:
    assert findings(synthesise_report(MUONG_NHE_2016)) == set()


# ---------------------------------------------------------------------------------------------
# Determinism, helpers, files
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sample", SAMPLE_REPORTS, ids=lambda s: s.file_name)
def test_synthesis_is_deterministic(sample: Any) -> None:
    assert sample.build() == sample.build()


def test_seed_changes_the_details_not_the_totals() -> None:
    from dataclasses import replace

    first, second = synthesise_report(SI_MA_CAI_2024), synthesise_report(replace(SI_MA_CAI_2024, seed=7))
    assert first["chi_bo"] != second["chi_bo"]
    assert counts(first) == counts(second)
    assert findings(second) == set()


def test_specs_are_the_published_ones() -> None:
    assert MUONG_KHUONG_2023.orgs_total == MUONG_NHE_2016.orgs_total == 42
    assert BAO_THANG_2024.orgs_total == 32 and SI_MA_CAI_2024.orgs_total == 40
    assert [s.valid for s in SAMPLE_REPORTS] == [True, True, True, False]


def test_apportion_respects_bounds_and_total() -> None:
    drawn = apportion(100, [10, 50, 5, 30], [3, 3, 3, 10], [20, 29, 60, 40])
    assert sum(drawn) == 100
    assert all(low <= n <= high for n, low, high in zip(drawn, [3, 3, 3, 10], [20, 29, 60, 40], strict=True))
    with pytest.raises(ValueError):
        apportion(5, [1, 1], [3, 3], [5, 5])


def test_write_sample_inbox(tmp_path: Path) -> None:
    contract = load_contract()
    paths = write_sample_inbox(tmp_path / "inbox")
    assert [p.name for p in paths] == [
        "lao-cai_muong-khuong_2023.xlsx",
        "lao-cai_bao-thang_2024.xlsx",
        "lao-cai_si-ma-cai_2024.zip",
        "dien-bien_muong-nhe_2016.xlsx",
        UNREADABLE_FILE_NAME,
    ]
    assert all(p.is_file() and p.name.isascii() for p in paths)

    workbook = load_workbook(paths[0], read_only=True)
    assert workbook.sheetnames == [s.name for s in contract.sheets]
    for sheet in contract.sheets:
        rows = list(workbook[sheet.name].iter_rows(values_only=True))
        if sheet.layout == "table":
            assert list(rows[0]) == [f.header for f in sheet.fields]
        else:
            assert list(rows[0]) == [KEY_HEADER, VALUE_HEADER]
            assert [r[0] for r in rows[1:]] == [f.header for f in sheet.fields]
    chi_bo = list(workbook["chi_bo"].iter_rows(values_only=True))
    assert len(chi_bo) == 1 + 243
    workbook.close()

    with zipfile.ZipFile(paths[2]) as archive:
        assert sorted(archive.namelist()) == sorted(f"{s.name}.csv" for s in contract.sheets)
        text = archive.read("to_chuc_co_so.csv").decode("utf-8")
    header = next(csv.reader(io.StringIO(text)))
    assert header == [f.header for f in contract.sheet("to_chuc_co_so").fields]

    assert not zipfile.is_zipfile(paths[4])
    with pytest.raises(zipfile.BadZipFile):
        load_workbook(paths[4])
