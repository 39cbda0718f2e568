"""Committees and provinces resolved against the catalogue of their era (before / from 1 July 2025)."""

from __future__ import annotations

import time

import pytest

from units.admin_units import (
    POST_REFORM,
    PRE_REFORM,
    Resolution,
    Unit,
    era_for_year,
    folded_key,
    resolve_committee,
    resolve_province,
    warm_up,
)


def resolved(resolution: Resolution) -> Unit:
    assert resolution.status == "resolved", resolution.message_vi
    assert resolution.unit is not None
    assert resolution.candidates == ()
    assert resolution.message_vi is None
    return resolution.unit


@pytest.mark.parametrize(
    ("year", "era"),
    [(2008, PRE_REFORM), (2016, PRE_REFORM), (2024, PRE_REFORM), (2025, POST_REFORM), (2031, POST_REFORM)],
)
def test_era_for_year(year: int, era: str) -> None:
    assert era_for_year(year) == era


def test_folded_key_ignores_case_spacing_punctuation_and_diacritics() -> None:
    assert folded_key("  Mường   KHƯƠNG ") == folded_key("muong khuong") == "muongkhuong"
    assert folded_key("Đảng bộ") == "dangbo"
    assert folded_key("Si-Ma-Cai") == folded_key("Simacai")


@pytest.mark.parametrize(
    ("province", "name", "year", "code", "full_name", "short_name"),
    [
        ("Lào Cai", "Đảng bộ huyện Mường Khương", 2023, "083", "Huyện Mường Khương", "Mường Khương"),
        ("Lào Cai", "Huyện Bảo Thắng", 2024, "086", "Huyện Bảo Thắng", "Bảo Thắng"),
        ("Lào Cai", "H. Si Ma Cai", 2024, "084", "Huyện Si Ma Cai", "Si Ma Cai"),
        ("Điện Biên", "Đảng bộ huyện Mường Nhé", 2016, "096", "Huyện Mường Nhé", "Mường Nhé"),
        ("Sơn La", "TP. Sơn La", 2019, "116", "Thành phố Sơn La", "Sơn La"),
    ],
)
def test_district_committees_up_to_2024(
    province: str, name: str, year: int, code: str, full_name: str, short_name: str
) -> None:
    unit = resolved(resolve_committee(province, name, None, year))
    assert (unit.era, unit.level, unit.code) == (PRE_REFORM, "district", code)
    assert (unit.name, unit.short_name) == (full_name, short_name)
    assert unit.province_name == province
    assert unit.key == f"pre-2025:district:{code}"


@pytest.mark.parametrize(
    "spelling",
    [
        "Huyện ủy Mường Khương",
        "huyen Muong Khuong",
        "HUYỆN MƯỜNG KHƯƠNG",
        "Đảng bộ  Huyện   Mường Khương",
        "Mường Khương",
        "muongkhuong",
    ],
)
def test_prefixes_case_spacing_and_diacritics_do_not_matter(spelling: str) -> None:
    assert resolved(resolve_committee("Lào Cai", spelling, None, 2022)).code == "083"


@pytest.mark.parametrize("province", ["Lào Cai", "Tỉnh Lào Cai", "LAO CAI", "tinh lao cai", "10"])
def test_province_spellings_narrow_the_search(province: str) -> None:
    assert resolved(resolve_committee(province, "Bảo Thắng", None, 2024)).province_code == "10"


def test_commune_level_committee_of_new_lao_cai_from_2025() -> None:
    unit = resolved(resolve_committee("Lào Cai", "Đảng ủy xã Mường Khương", None, 2025))
    assert (unit.era, unit.level, unit.code, unit.name) == (POST_REFORM, "commune", "02761", "Xã Mường Khương")
    assert (unit.province_code, unit.province_name) == ("15", "Lào Cai")
    assert unit.key == "2025+:commune:02761"


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Đảng ủy phường Sa Pa", "03006"),
        ("dang uy phuong sa pa", "03006"),
        ("Đảng ủy phường Yên Bái", "04252"),  # old Yên Bái province is part of the new Lào Cai
        ("Xã Văn Chấn", "04672"),
    ],
)
def test_more_communes_of_new_lao_cai(name: str, code: str) -> None:
    assert resolved(resolve_committee("Lào Cai", name, None, 2025)).code == code


def test_a_district_committee_in_a_2025_report_is_not_silently_mapped_to_a_commune() -> None:
    resolution = resolve_committee("Lào Cai", "Đảng bộ huyện Mường Khương", None, 2025)
    assert resolution.status == "unknown"
    assert resolution.candidates[0].name == "Xã Mường Khương"
    assert resolution.message_vi is not None
    assert "cấp huyện đã giải thể" in resolution.message_vi


def test_same_name_different_code_in_each_era() -> None:
    before = resolved(resolve_committee("Lào Cai", "Mường Khương", None, 2024))
    after = resolved(resolve_committee("Lào Cai", "Mường Khương", None, 2025))
    assert (before.key, after.key) == ("pre-2025:district:083", "2025+:commune:02761")
    assert before.province_code != after.province_code


def test_province_lookups_follow_the_era() -> None:
    old = resolve_province("Lào Cai", 2020)
    new = resolve_province("Lào Cai", 2025)
    assert old is not None and new is not None
    assert (old.code, old.key, old.name, old.level) == ("10", "pre-2025:province:10", "Tỉnh Lào Cai", "province")
    assert (new.code, new.key) == ("15", "2025+:province:15")
    assert resolve_province("Yên Bái", 2025) is None
    yen_bai = resolve_province("Yên Bái", 2024)
    assert yen_bai is not None and yen_bai.code == "15"  # the code the new Lào Cai reuses
    assert yen_bai.key != new.key


@pytest.mark.parametrize(
    ("text", "year", "code"),
    [
        ("Tỉnh Lào Cai", 2024, "10"),
        ("LAO CAI", 2025, "15"),
        ("10", 2024, "10"),
        ("15", 2025, "15"),
        ("Điện Biên", 2016, "11"),
        ("Sơn La", 2025, "14"),
        ("TP HCM", 2025, "79"),
        ("Thừa Thiên Huế", 2019, "46"),
    ],
)
def test_province_spellings_and_codes(text: str, year: int, code: str) -> None:
    unit = resolve_province(text, year)
    assert unit is not None and unit.code == code


@pytest.mark.parametrize(("text", "year"), [("10", 2025), ("Không Có", 2020), ("Hà Giang", 2025)])
def test_provinces_that_do_not_exist_in_the_era(text: str, year: int) -> None:
    assert resolve_province(text, year) is None


def test_abolished_province_in_a_2025_report_points_to_its_successor() -> None:
    resolution = resolve_committee("Yên Bái", "Xã Văn Chấn", None, 2025)
    assert resolution.status == "unknown"
    assert [unit.key for unit in resolution.candidates] == ["2025+:province:15"]
    assert resolution.message_vi is not None and "tỉnh Lào Cai" in resolution.message_vi


def test_unknown_name_gives_closest_candidates_in_vietnamese() -> None:
    resolution = resolve_committee("Lào Cai", "Huyện Không Có", None, 2024)
    assert resolution.status == "unknown"
    assert resolution.unit is None
    assert 1 <= len(resolution.candidates) <= 5
    assert all(unit.province_code == "10" and unit.level == "district" for unit in resolution.candidates)
    assert resolution.message_vi is not None
    assert "Không tìm thấy 'Huyện Không Có'" in resolution.message_vi
    assert f"{resolution.candidates[0].name} (tỉnh Lào Cai)" in resolution.message_vi


def test_misspelt_name_lists_the_right_unit_first() -> None:
    resolution = resolve_committee("Lào Cai", "Huyện Mường Khươn", None, 2024)
    assert resolution.status == "unknown"
    assert resolution.candidates[0].code == "083"


def test_unknown_name_without_province_still_gets_candidates() -> None:
    resolution = resolve_committee(None, "Huyện Muong Khuongg", None, 2024)
    assert resolution.status == "unknown"
    assert resolution.candidates[0].code == "083"


@pytest.mark.parametrize(("name", "year"), [("Huyện Châu Thành", 2020), ("Xã Tân An", 2025)])
def test_name_in_several_provinces_without_province_is_ambiguous(name: str, year: int) -> None:
    resolution = resolve_committee(None, name, None, year)
    assert resolution.status == "ambiguous"
    assert resolution.unit is None
    assert 2 <= len(resolution.candidates) <= 5
    assert len({unit.province_code for unit in resolution.candidates}) == len(resolution.candidates)
    assert resolution.message_vi is not None
    assert all(f"{unit.name} (" in resolution.message_vi for unit in resolution.candidates)
    assert "đơn vị khác" in resolution.message_vi


def test_the_province_settles_a_name_shared_by_several_provinces() -> None:
    unit = resolved(resolve_committee("Long An", "Huyện Châu Thành", None, 2020))
    assert unit.province_name == "Long An"


def test_exact_diacritics_win_when_names_fold_alike() -> None:
    assert resolved(resolve_committee("Tây Ninh", "Xã Tân Thạnh", None, 2025)).name == "Xã Tân Thạnh"
    assert resolved(resolve_committee("Tây Ninh", "Đảng ủy xã Tân Thành", None, 2025)).name == "Xã Tân Thành"
    folded = resolve_committee("Tây Ninh", "Xa Tan Thanh", None, 2025)
    assert folded.status == "ambiguous"
    assert {unit.name for unit in folded.candidates} == {"Xã Tân Thạnh", "Xã Tân Thành"}


def test_old_style_tone_marks_match_new_style_names() -> None:
    assert resolved(resolve_committee("Lào Cai", "Xã Xuân Hoà", None, 2025)).name == "Xã Xuân Hòa"


def test_the_announced_type_separates_a_town_from_a_district_of_the_same_name() -> None:
    assert resolved(resolve_committee("Hà Tĩnh", "TX Kỳ Anh", None, 2020)).code == "449"
    assert resolved(resolve_committee("Hà Tĩnh", "Huyện Kỳ Anh", None, 2020)).code == "447"
    assert resolve_committee("Hà Tĩnh", "Kỳ Anh", None, 2020).status == "ambiguous"


def test_a_name_that_begins_with_a_prefix_word_is_kept() -> None:
    assert resolved(resolve_committee("Thanh Hóa", "Xã Quan Sơn", None, 2025)).name == "Xã Quan Sơn"


def test_package_prefix_capitalisation_is_normalised() -> None:
    unit = resolved(resolve_committee("Điện Biên", "Thị xã Mường Lay", None, 2020))
    assert (unit.name, unit.short_name) == ("Thị xã Mường Lay", "Mường Lay")
    numbered = resolved(resolve_committee("Hồ Chí Minh", "Quận 1", None, 2020))
    assert (numbered.name, numbered.short_name) == ("Quận 1", "Quận 1")


@pytest.mark.parametrize("code", ["086", "86", "86.0"])
def test_code_alone_resolves(code: str) -> None:
    assert resolved(resolve_committee("Lào Cai", None, code, 2024)).name == "Huyện Bảo Thắng"


def test_code_is_read_in_the_era_of_the_report() -> None:
    assert resolved(resolve_committee(None, None, "02761", 2025)).name == "Xã Mường Khương"
    assert resolve_committee(None, None, "02761", 2024).status == "unknown"  # a commune code is no district


def test_code_of_another_province_falls_back_to_the_name() -> None:
    assert resolved(resolve_committee("Lào Cai", "Huyện Bảo Thắng", "096", 2024)).code == "086"
    alone = resolve_committee("Lào Cai", None, "096", 2024)
    assert alone.status == "unknown"
    assert [unit.name for unit in alone.candidates] == ["Huyện Mường Nhé"]


def test_code_and_name_that_disagree_are_reported() -> None:
    resolution = resolve_committee("Lào Cai", "Huyện Bảo Thắng", "083", 2024)
    assert resolution.status == "ambiguous"
    assert [unit.code for unit in resolution.candidates] == ["083", "086"]
    assert resolution.message_vi is not None and "Mã '083'" in resolution.message_vi


def test_code_wins_over_a_misspelt_name() -> None:
    assert resolved(resolve_committee("Lào Cai", "Huyện Bảo Thắngg", "086", 2024)).code == "086"


def test_nothing_to_resolve() -> None:
    resolution = resolve_committee("Lào Cai", "  ", None, 2024)
    assert resolution.status == "unknown"
    assert resolution.message_vi


def test_every_unit_of_the_three_seed_provinces_resolves_by_its_own_name() -> None:
    for year in (2024, 2025):
        for province in ("Lào Cai", "Điện Biên", "Sơn La"):
            province_unit = resolve_province(province, year)
            assert province_unit is not None
            for code in _codes_of(province_unit):
                unit = resolved(resolve_committee(None, None, code, year))
                assert resolved(resolve_committee(province, unit.name, None, year)) == unit


def _codes_of(province: Unit) -> list[str]:
    from units.admin_units import _unit_index

    return [unit.code for unit in _unit_index(province.era).by_province[province.code]]


def test_catalogue_sizes() -> None:
    from units.admin_units import _province_index, _unit_index

    assert len(_province_index(PRE_REFORM).by_code) == 63
    assert len(_province_index(POST_REFORM).by_code) == 34
    assert len(_unit_index(PRE_REFORM).units) == 696
    assert len(_unit_index(POST_REFORM).units) == 3321


def test_resolving_takes_under_a_millisecond_after_warm_up() -> None:
    warm_up()
    calls = [
        ("Lào Cai", "Đảng bộ huyện Mường Khương", None, 2023),
        ("Sơn La", "TP. Sơn La", None, 2019),
        ("Lào Cai", "Đảng ủy xã Mường Khương", None, 2025),
        ("Lào Cai", None, "086", 2024),
    ]
    rounds = 200
    start = time.perf_counter()
    for _ in range(rounds):
        for call in calls:
            resolve_committee(*call)
    per_call = (time.perf_counter() - start) / (rounds * len(calls))
    assert per_call < 0.001


def test_candidates_also_consider_a_prefix_word_that_belongs_to_the_name() -> None:
    resolution = resolve_committee("Thanh Hóa", "Xã Quan Sơnn", None, 2025)
    assert resolution.status == "unknown"
    assert resolution.candidates[0].name == "Xã Quan Sơn"


def test_catalogue_needs_no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    from units import admin_units

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("administrative units must not touch the network")

    caches = (admin_units._query, admin_units._province_index, admin_units._unit_index)
    for cached in (*caches, admin_units._successor_province):
        cached.cache_clear()
    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    warm_up()
    assert resolved(resolve_committee("Lào Cai", "Đảng ủy xã Mường Khương", None, 2025)).code == "02761"
    assert resolve_committee("Yên Bái", "Xã Văn Chấn", None, 2025).candidates[0].code == "15"
