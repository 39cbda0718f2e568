"""The history generator: deterministic, consistent with the published figures, and quiet under the rules."""

from __future__ import annotations

import shutil
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest

from chibo.config import Settings
from contract.model import load_contract
from contract.workbook import write_xlsx
from demo.history_generator import (
    SON_LA_2019,
    GeneratedReport,
    draw_grades,
    generate_history,
    history_reports,
    parse_years,
)
from demo.samples import muong_khuong_2023, totals_from_details
from pipeline import nightly
from pipeline.check import check_file, check_files
from reading.reader import read_report
from units.admin_units import units_of_province
from warehouse.raw import connect

DEMO_PROVINCES = ("Lào Cai", "Yên Bái", "Điện Biên", "Sơn La")
DEMO_YEARS = list(range(2016, 2027))
SEED = 7


@pytest.fixture(scope="module")
def demo() -> list[GeneratedReport]:
    """The demo history in memory (no files): 4 provinces × 2016–2026."""
    return list(history_reports(DEMO_PROVINCES, DEMO_YEARS, SEED))


AFTER_THE_2026_ROUND = date(2027, 2, 1)  # the 2026 round is prepared and sent in January 2027


def info(generated: GeneratedReport) -> dict:
    return generated.report["thong_tin"]


def by_committee(reports: list[GeneratedReport]) -> dict[str, dict[int, dict]]:
    committees: dict[str, dict[int, dict]] = defaultdict(dict)
    for generated in reports:
        thong_tin = info(generated)
        if thong_tin["committee_level"] in {"huyen", "xa"}:
            key = f"{thong_tin['committee_level']}:{thong_tin['committee_code']}"
            committees[key][thong_tin["report_year"]] = generated.report
    return committees


# ------------------------------------------------------------------ shape of the history


def test_one_report_per_expected_committee_and_year_across_the_reform(demo: list[GeneratedReport]):
    expected: set[tuple[int, str, str]] = set()
    for year in DEMO_YEARS:
        provinces = DEMO_PROVINCES if year <= 2024 else ("Lào Cai", "Điện Biên", "Sơn La")  # Yên Bái is in Lào Cai
        expected |= {(year, p, u.code) for p in provinces for u in units_of_province(p, year)}
    found = [(info(g)["report_year"], info(g)["province"], info(g).get("committee_code")) for g in demo]
    committees = [f for f in found if f[2] is not None]
    assert len(committees) == len(set(committees)) and set(committees) == expected
    assert len(demo) == len(expected) + 1  # and Sơn La's own 2019 report
    assert len({g.file_stem for g in demo}) == len(demo)
    levels = {(info(g)["report_year"] >= 2025, info(g)["committee_level"]) for g in demo}
    assert levels == {(False, "huyen"), (True, "xa"), (False, "Tỉnh")}


def test_older_years_are_aggregate_only_and_recent_years_detailed(demo: list[GeneratedReport]):
    for generated in demo:
        year = info(generated)["report_year"]
        assert generated.detailed is (year >= 2023)
        assert set(generated.report) == (
            {"thong_tin", "to_chuc_co_so", "chi_bo", "thon_ban", "tong_hop"} if generated.detailed
            else {"thong_tin", "tong_hop"}
        )  # fmt: skip


def test_committees_are_named_and_coded_officially(demo: list[GeneratedReport]):
    names = {(info(g)["report_year"], info(g).get("committee_code")): info(g)["committee_name"] for g in demo}
    assert names[(2023, "083")] == "Đảng bộ huyện Mường Khương"
    assert names[(2019, "116")] == "Đảng bộ thành phố Sơn La"
    assert names[(2020, "123")] == "Đảng bộ thị xã Mộc Châu"
    assert names[(2025, "02647")] == "Đảng ủy phường Lào Cai"
    assert names[(2026, "02680")] == "Đảng ủy xã Hợp Thành"


def test_yen_bai_from_2025_is_the_new_lao_cai_written_once():
    def stems(provinces: list[str]) -> list[str]:
        return [g.file_stem for g in history_reports(provinces, [2025], SEED)]

    assert stems(["Yên Bái"]) == stems(["Lào Cai"]) == stems(["Lào Cai", "Yên Bái"])
    assert len(stems(["Yên Bái"])) == len(units_of_province("Lào Cai", 2025)) == 99


def test_commune_level_reports_are_small(demo: list[GeneratedReport]):
    communes = [g.report for g in demo if info(g)["committee_level"] == "xa"]
    assert all(1 <= r["tong_hop"]["orgs_total"] <= 4 and r["tong_hop"]["orgs_party_committee"] == 1 for r in communes)
    assert all(len(r["to_chuc_co_so"]) == r["tong_hop"]["orgs_total"] for r in communes)


# ------------------------------------------------------------------ determinism


def test_same_seed_same_reports_other_seed_other_reports():
    first = list(history_reports(["Điện Biên"], [2022, 2023, 2024, 2025], 11))
    again = list(history_reports(["Điện Biên"], [2022, 2023, 2024, 2025], 11))
    other = list(history_reports(["Điện Biên"], [2022, 2023, 2024, 2025], 12))
    assert first == again
    assert [g.report["tong_hop"] for g in first] != [g.report["tong_hop"] for g in other]


def test_a_committee_does_not_depend_on_what_else_is_asked_for(demo: list[GeneratedReport]):
    alone = {g.file_stem: g.report for g in history_reports(["Sơn La"], [2019, 2024], SEED, detail_years=[2024])}
    in_demo = {g.file_stem: g.report for g in demo}
    assert alone == {stem: in_demo[stem] for stem in alone}


def test_files_are_byte_identical_for_the_same_seed(tmp_path: Path):
    def contents(out: Path) -> dict[str, bytes]:
        paths = generate_history(["Điện Biên"], [2023, 2024], 3, out=out, file_format="zip")
        return {p.name: p.read_bytes() for p in paths}

    assert contents(tmp_path / "a") == contents(tmp_path / "b")


# ------------------------------------------------------------------ published figures


def test_son_la_2019_adds_up_to_the_published_totals(demo: list[GeneratedReport]):
    districts = [
        g.report["tong_hop"]
        for g in demo
        if info(g)["province"] == "Sơn La" and info(g)["report_year"] == 2019 and info(g)["committee_level"] == "huyen"
    ]
    assert len(districts) == 12
    assert {name: sum(d[name] for d in districts) for name in SON_LA_2019} == {
        "orgs_total": 608,
        "orgs_party_committee": 356,
        "orgs_grassroots_branch": 252,
        "branches_total": 4429,
        "members_total": 85651,
    }
    [province] = [g.report for g in demo if info(g)["committee_level"] == "Tỉnh"]
    assert province["thong_tin"]["committee_name"] == "Đảng bộ tỉnh Sơn La"
    assert province["thong_tin"]["province"] == "Sơn La" and province["thong_tin"]["report_year"] == 2019
    assert province["tong_hop"] == dict(SON_LA_2019)


def test_son_la_2019_totals_hold_for_any_seed():
    for seed in (1, 2, 3):
        reports = [
            g.report["tong_hop"]
            for g in history_reports(["Sơn La"], [2019], seed)
            if g.report["thong_tin"]["committee_level"] == "huyen"
        ]
        assert sum(r["members_total"] for r in reports) == 85651
        assert sum(r["branches_total"] for r in reports) == 4429
        assert sum(r["orgs_total"] for r in reports) == 608


def test_son_la_districts_are_detailed_once_their_structure_fits():
    """Until 2022 they carry the organisations of the committees directly under the province."""
    reports = {
        info(g)["report_year"]: g.detailed
        for g in history_reports(["Sơn La"], [2019, 2022, 2024], SEED, detail_years={2019, 2022, 2024})
        if info(g).get("committee_code") == "116"
    }
    assert reports == {2019: False, 2022: True, 2024: True}


def test_muong_khuong_2023_is_the_sample(demo: list[GeneratedReport]):
    [generated] = [g for g in demo if g.file_stem == "2023_lao-cai_083_muong-khuong"]
    assert generated.report == muong_khuong_2023()
    [aggregate] = [g for g in history_reports(["Lào Cai"], [2023], SEED, detail_years=()) if "_083_" in g.file_stem]
    assert aggregate.report["tong_hop"] == muong_khuong_2023()["tong_hop"]


def test_muong_khuong_published_grades_are_kept(demo: list[GeneratedReport]):
    summary = {info(g)["report_year"]: g.report["tong_hop"] for g in demo if "_083_" in g.file_stem}
    assert (summary[2021]["orgs_htxsnv"], summary[2021]["orgs_htnv"], summary[2021]["orgs_httnv"]) == (7, 10, 25)
    assert summary[2022]["orgs_htxsnv"] == 8


def test_muong_nhe_2016_has_the_published_figures(demo: list[GeneratedReport]):
    [summary] = [g.report["tong_hop"] for g in demo if g.file_stem == "2016_dien-bien_096_muong-nhe"]
    assert (summary["orgs_total"], summary["branches_total"], summary["members_total"]) == (42, 141, 1724)
    assert (summary["orgs_tsvm"], summary["orgs_httnv"], summary["orgs_htnv"], summary["villages_without_members"]) == (
        21,
        16,
        5,
        8,
    )


# ------------------------------------------------------------------ the rules a history must pass


def test_grades_use_the_scale_of_the_year_and_cover_every_organisation(demo: list[GeneratedReport]):
    contract = load_contract()
    for generated in demo:
        summary, year = generated.report["tong_hop"], info(generated)["report_year"]
        if info(generated)["committee_level"] == "Tỉnh":
            continue
        rule = contract.grading_rule(year)
        assert rule is not None
        given = {name: value for name, value in summary.items() if name.startswith("orgs_") and value}
        allowed = {f"orgs_{g.lower()}" for g in rule.org_grades} | {"orgs_total", "orgs_party_committee",
                                                                     "orgs_grassroots_branch"}  # fmt: skip
        assert set(given) <= allowed, (generated.file_stem, given)
        assert sum(summary.get(f"orgs_{g.lower()}") or 0 for g in rule.org_grades) == summary["orgs_total"]


@pytest.mark.parametrize("orgs", [1, 3, 42, 608])
@pytest.mark.parametrize("year", [2016, 2018, 2025])
def test_draw_grades_covers_every_organisation(orgs: int, year: int):
    import random

    grades = draw_grades(orgs, year, random.Random(orgs))
    assert sum(grades.values()) == orgs and min(grades.values()) >= 0


def test_aggregate_and_detailed_years_agree_on_the_stock():
    """The same committee year has the same totals whichever way it is written."""
    aggregate = {g.file_stem: g.report["tong_hop"] for g in history_reports(["Yên Bái"], [2022, 2024], 5, ())}
    detailed = {g.file_stem: g.report for g in history_reports(["Yên Bái"], [2022, 2024], 5, (2022, 2024))}
    for stem, summary in aggregate.items():
        found = totals_from_details(detailed[stem])  # as the contract's detail declarations recompute them
        assert (found["members_total"], found["admitted"], found["branches_total"]) == (
            summary["members_total"],
            summary["admitted"],
            summary["branches_total"],
        )
        assert found["villages_with_branch"] == summary["villages_with_branch"]


def test_sampled_reports_are_accepted_by_the_validator(settings: Settings, tmp_path: Path):
    stems = {
        "2016_dien-bien_096_muong-nhe",  # old grading scale, aggregate
        "2017_yen-bai_137_mu-cang-chai",  # old grading scale, detailed
        "2019_son-la_116_son-la",  # carries part of the province's direct committees
        "2019_son-la_tinh",  # the province's own report
        "2024_son-la_123_moc-chau",  # streamlined after 2019, detailed
        "2024_lao-cai_086_bao-thang",  # the Bảo Thắng sample
        "2025_lao-cai_02647_lao-cai",  # a ward of the new Lào Cai
        "2026_lao-cai_04750_bao-ai",  # a commune of old Yên Bái in the new Lào Cai
    }
    reports = {
        g.file_stem: g
        for g in history_reports(DEMO_PROVINCES, [2016, 2017, 2019, 2024, 2025, 2026], SEED, {2017, 2024, 2025, 2026})
        if g.file_stem in stems
    }
    assert set(reports) == stems
    paths = {stem: write_xlsx(tmp_path / f"{stem}.xlsx", generated.report) for stem, generated in reports.items()}
    for stem, path in paths.items():
        assert read_report(path).report_kind == ("detailed" if reports[stem].detailed else "aggregate_only")
    # the night's own code, as `chibo validate`, on a day after the 2026 round has ended
    outcomes = check_files(list(paths.values()), settings, today=AFTER_THE_2026_ROUND)
    for stem, outcome in zip(paths, outcomes, strict=True):
        assert (stem, outcome.outcome, [f.rule_id for f in outcome.findings]) == (stem, "accepted", [])


def test_a_small_history_loaded_night_by_night_has_no_history_warnings(settings: Settings, tmp_path: Path):
    """Lào Cai 2019–2024, one night per year so that every year is checked against the earlier ones."""
    years = list(range(2019, 2025))
    out = tmp_path / "history"
    paths = generate_history(["Lào Cai"], years, SEED, detail_years={2023, 2024}, out=out)
    for year in years:
        for path in paths:
            if path.name.startswith(f"{year}_"):
                shutil.copy(path, settings.inbox / path.name)
        nightly.ingest(settings, f"night-{year}")
        outcomes = nightly.validate(settings, f"night-{year}")
        assert set(outcomes.values()) == {"accepted"}, year
    with connect(settings.warehouse, read_only=True) as connection:
        findings = connection.execute("SELECT rule_id, message FROM raw.validation_failures").fetchall()
    assert findings == []

    # the history was there to check against: one admission less in 2024 breaks the roll-forward
    [generated] = [g for g in history_reports(["Lào Cai"], [2024], SEED, {2024}) if "_089_" in g.file_stem]
    report = generated.report
    report["to_chuc_co_so"][0]["admitted"] -= 1
    report["tong_hop"]["admitted"] -= 1
    outcome = check_file(write_xlsx(tmp_path / "sua.xlsx", report), settings, warehouse=settings.warehouse)
    assert [f.rule_id for f in outcome.findings] == ["lich_su.chuyen_so_du"]


def test_parse_years():
    assert parse_years("2016-2018,2023") == [2016, 2017, 2018, 2023]


@pytest.mark.parametrize("province", ["Thành phố Hồ Chí Minh", "Thành phố Hà Nội"])
def test_the_largest_cities_generate_every_year_from_2008(province: str):
    """The national benchmark's workload: every committee of every province for every year from 2008, detailed from
    2023. Hồ Chí Minh's numbered quận (wards only, read as "huyện" by their name) once failed to place villages."""
    years = range(2008, 2027)
    reports = list(history_reports([province], years, 7, detail_years=range(2023, 2027)))
    assert {int(report.file_stem[:4]) for report in reports} == set(years)
    districts_2024 = [r for r in reports if r.file_stem.startswith("2024_")]
    assert len(districts_2024) >= 12 and all(r.detailed for r in districts_2024)
