"""Reports built from the published articles whose own numbers do not add up (published-figures.md)
are caught, with the exact rules the issue names; and the rule catalogue document is current."""

from __future__ import annotations

from pathlib import Path

from chibo.config import load_settings
from contract.workbook import write_xlsx
from expectations.catalogue_docs import DOC_PATH, render
from pipeline.check import check_file


def validate(tmp_path: Path, report: dict):
    return check_file(write_xlsx(tmp_path / "bao_cao.xlsx", report), load_settings())


def test_muong_khuong_2021_grade_breakdown_covers_too_few_organisations(tmp_path: Path):
    """Published: 42 TCCSĐ; 2021 grades 7 HTXSNV and 10 'hoàn thành nhiệm vụ', the other 25 not given."""
    report = {
        "thong_tin": {"province": "Lào Cai", "committee_name": "Đảng bộ huyện Mường Khương", "report_year": 2021},
        "tong_hop": {
            "orgs_total": 42,
            "orgs_party_committee": 20,
            "orgs_grassroots_branch": 22,
            "branches_total": 243,
            "members_total": 3792,
            "orgs_htxsnv": 7,
            "orgs_htnv": 10,
        },
    }
    outcome = validate(tmp_path, report)
    assert outcome.outcome == "rejected"
    [finding] = [f for f in outcome.findings if f.rule_id == "tong_hop.grades_cover_orgs"]
    assert finding.message == "Kết quả xếp loại chỉ có 17 TCCSĐ trong khi tổng số TCCSĐ là 42."
    assert [f.rule_id for f in outcome.findings] == ["tong_hop.grades_cover_orgs"]  # nothing else is wrong


def test_son_la_2006_admissions_breakdown_does_not_add_up(tmp_path: Path):
    """Published: 413 admitted = 67 at places with no member + 346 at places with members but no branch;
    'of which' villages 292, schools 93, health stations 28 — which add to 413, not 346."""
    report = {
        "thong_tin": {"province": "Sơn La", "committee_name": "Thành phố Sơn La", "report_year": 2006},
        "tong_hop": {
            "orgs_total": 0,
            "orgs_party_committee": 0,
            "orgs_grassroots_branch": 0,
            "branches_total": 0,
            "members_total": 0,
            "admitted": 413,
            "admitted_no_member_places": 67,
            "admitted_no_branch_places": 346,
            "admitted_in_villages": 292,
            "admitted_in_schools": 93,
            "admitted_in_health_stations": 28,
        },
    }
    outcome = validate(tmp_path, report)
    found = [f for f in outcome.findings if f.rule_id == "tong_hop.parts_add_up"]
    assert [f.message for f in found] == [
        "«Kết nạp ở nơi có đảng viên nhưng chưa có chi bộ» là 346 nhưng các phần «Trong đó: kết nạp ở thôn, bản, "
        "Trong đó: kết nạp ở trường học, Trong đó: kết nạp ở trạm y tế» cộng lại được 413."
    ]  # 67 + 346 = 413 = admitted: that breakdown is right and not flagged
    assert outcome.outcome == "rejected"


def test_the_rule_catalogue_document_is_generated_from_the_code():
    assert DOC_PATH.read_text(encoding="utf-8") == render(), "run: python -m expectations.catalogue_docs"
