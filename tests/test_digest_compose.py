"""Composing digests: one per province whatever the spelling in chibo.yaml; nothing when nothing to say."""

from __future__ import annotations

from dataclasses import replace

from alerts.digest import Problem, ReportItem, Section, compose_alerts
from chibo.config import load_settings


def warned_report() -> ReportItem:
    problem = Problem(
        "chi_bo",
        5,
        "Chi bộ «Thôn 1» chỉ có 2 đảng viên chính thức, chưa đủ 3.",
        "2",
        "warning",
        "Đề nghị kiểm tra số liệu.",
    )
    return ReportItem(
        "abc", "bt.xlsx", "Lào Cai", "Đảng bộ huyện Bảo Thắng", 2024, 1, "bt@example.org", "accepted", [problem]
    )


def test_reports_and_reminders_of_one_province_make_one_digest_whatever_the_spelling():
    settings = replace(load_settings(), recipients={"Tỉnh Lào Cai": ("to-chuc@laocai.example.org",)})
    reminder = Section(
        "Còn 7/9 đảng bộ chưa gửi báo cáo năm 2024.",
        "<p>Còn 7/9</p>",
        "reminder:2024:2026-01-16",
        "7 đơn vị chưa có báo cáo năm 2024 được tiếp nhận",
    )
    [digest] = compose_alerts(settings, [warned_report()], "16/01/2026", {"Tỉnh Lào Cai": [reminder]})
    assert digest.recipients == ("to-chuc@laocai.example.org",)
    assert digest.subject == (
        "[chibo] Tỉnh Lào Cai: 1 báo cáo cần kiểm tra, 7 đơn vị chưa có báo cáo năm 2024 được tiếp nhận "
        "— tổng hợp ngày 16/01/2026"
    )
    assert "Gợi ý: Đề nghị kiểm tra số liệu." in digest.text and "C. TÌNH HÌNH GỬI BÁO CÁO" in digest.text
    assert digest.section_keys == ("reminder:2024:2026-01-16",)


def test_nothing_to_say_sends_nothing_unless_configured():
    settings = load_settings()
    assert compose_alerts(settings, [], "16/01/2026") == []
    everyone = compose_alerts(replace(settings, send_when_empty=True), [], "16/01/2026")
    assert {d.province for d in everyone} == set(settings.recipients)
    assert all("Không có báo cáo nào bị từ chối hay cần kiểm tra" in d.text for d in everyone)


def test_the_submitter_gets_a_copy_of_their_own_report_not_the_province_digest():
    digest, copy = compose_alerts(replace(load_settings(), copy_submitter=True), [warned_report()], "16/01/2026")
    assert digest.cc == () and digest.message("chibo@example.org")["Cc"] is None
    assert copy.recipients == ("bt@example.org",) and copy.submission_ids == ("abc",)
    assert copy.message("chibo@example.org")["To"] == "bt@example.org"


def held_report(province: str | None = "Lào Cai") -> ReportItem:
    problem = Problem(
        "chi_bo",
        None,
        "Không thực hiện được kiểm tra «chi_bo.it_nhat_3» (trang chi_bo); báo cáo được giữ lại chờ bộ phận kỹ thuật "
        "xử lý.",
        None,
        "error",
        "Đơn vị không cần làm gì: đây là lỗi kỹ thuật của hệ thống.",
        None,
        "chi_bo.it_nhat_3",
        "chi_bo.it_nhat_3 on frame chi_bo: the expectation raised: KeyError 'x'",
    )
    return ReportItem(
        "held1", "mk.xlsx", province, "Đảng bộ huyện Mường Khương", 2023, 1, None, "held", [problem], "night-7"
    )


def test_a_held_report_tells_the_province_it_is_held_and_the_operators_why():
    settings = load_settings()
    report = held_report()
    province, operators = compose_alerts(settings, [report], "16/01/2026", held=[report])
    assert province.recipients == settings.recipients["Lào Cai"]
    assert "1 báo cáo đang được giữ lại" in province.subject
    assert "D. 1 BÁO CÁO ĐANG ĐƯỢC GIỮ LẠI — không phải do lỗi của đơn vị" in province.text
    assert "BỊ TỪ CHỐI" not in province.text and "KeyError" not in province.text + province.html
    assert province.kinds == ("held",)  # the province is told once that it is held
    assert operators.recipients == settings.operators
    assert operators.subject.startswith("[chibo] Vận hành: 1 báo cáo bị giữ lại do lỗi hệ thống")
    assert "Quy tắc «chi_bo.it_nhat_3»" in operators.text and "KeyError 'x'" in operators.text
    assert "KeyError &#x27;x&#x27;" in operators.html
    assert "Cần làm: Khắc phục nguyên nhân" in operators.text
    assert operators.kinds == ("held:night-7",)  # each held decision once
