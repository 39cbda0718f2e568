"""Composing digests: one per province whatever the spelling in chibo.yaml; nothing when nothing to say; each fix
said once, sheets by their titles, a corrected report said accepted, readable headers and the chart inline."""

from __future__ import annotations

import struct
import zlib
from dataclasses import replace
from email.parser import BytesParser
from email.policy import default

from alerts.chart import TRACK, stacked_bars
from alerts.digest import Lead, Problem, ReportItem, Section, compose_alerts
from chibo.config import load_settings
from contract.model import load_contract


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


def test_findings_that_share_a_fix_say_it_once_and_sheets_go_by_their_titles():
    (first,) = warned_report().problems
    second = replace(first, sheet_row=9, message="Chi bộ «Thôn 2» chỉ có 1 đảng viên chính thức, chưa đủ 3.", value="1")
    other = replace(first, sheet="tong_hop", sheet_row=None, message="Khác.", fix="Sửa khác.")
    report = replace(warned_report(), problems=[first, other, second])
    [digest] = compose_alerts(load_settings(), [report], "16/01/2026")
    title = next(sheet.title for sheet in load_contract().sheets if sheet.name == "chi_bo")
    assert digest.text.count(f"Gợi ý: {first.fix}") == 1 and digest.html.count(first.fix or "") == 1
    lines = digest.text.splitlines()
    at = lines.index(f"     Gợi ý: {first.fix}")
    assert lines[at - 2 : at] == [
        f"   - trang «{title}», dòng 5: {first.message}",
        f"   - trang «{title}», dòng 9: {second.message}",
    ]
    assert "chi_bo" not in digest.text + digest.html and "Sửa khác." in digest.text
    assert "<table" not in digest.html and 'name="viewport"' in digest.html


def test_an_accepted_correction_of_a_rejected_report_is_said():
    clean = replace(warned_report(), problems=[], version=2, corrects=1)
    [digest] = compose_alerts(load_settings(), [clean], "16/01/2026")
    assert "1 báo cáo đã sửa được tiếp nhận" in digest.subject and "tổng hợp ngày 16/01/2026" in digest.subject
    assert "Đ. 1 BÁO CÁO ĐÃ SỬA VÀ ĐƯỢC TIẾP NHẬN" in digest.text
    assert "sửa lại lần gửi thứ 1 (đã bị từ chối) và đã được tiếp nhận" in digest.text
    assert digest.submission_ids == ("abc",) and digest.kinds == ("outcome",)  # recorded: said once
    assert compose_alerts(load_settings(), [replace(clean, corrects=None)], "16/01/2026")[0].text.count("Đ. ") == 0


def test_the_message_has_readable_headers_and_its_chart_inline():
    lead = Lead("Tiến độ nộp báo cáo. …", '<p>Tiến độ</p><img src="cid:tien-do@chibo">', (("tien-do@chibo", PNG),))
    [digest] = compose_alerts(load_settings(), [warned_report()], "16/01/2026", leads={"Lào Cai": lead})
    assert digest.text.startswith("Tiến độ nộp báo cáo.") and digest.html.index("Tiến độ") < digest.html.index("Kính")
    raw = digest.message("Ban Tổ chức Tỉnh ủy <chibo@example.org>").as_bytes()
    message = BytesParser(policy=default).parsebytes(raw)
    [sender] = message["From"].addresses
    assert (sender.display_name, sender.addr_spec) == ("Ban Tổ chức Tỉnh ủy", "chibo@example.org")
    assert message["Date"].datetime.tzinfo is not None and str(message["Message-ID"]).endswith("@example.org>")
    related = message.get_body(("related",))
    assert related is not None and message.get_body(("html",)).get_content_type() == "text/html"
    [image] = [part for part in message.walk() if part.get_content_type() == "image/png"]
    assert image["Content-ID"] == "<tien-do@chibo>" and image.get_payload(decode=True) == PNG


PNG = stacked_bars([([(3, (0, 128, 0)), (1, (255, 0, 0))], 8)], width=16, bar_height=2)


def test_the_chart_is_a_png_whose_bars_are_as_long_as_their_counts():
    assert PNG.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", PNG[16:24])
    assert (width, height) == (16, 2)
    pixels = zlib.decompress(PNG[PNG.index(b"IDAT") + 4 : PNG.index(b"IEND") - 8])
    first = [tuple(pixels[1 + 3 * x : 4 + 3 * x]) for x in range(width)]
    assert first.count((0, 128, 0)) == 6 and first.count((255, 0, 0)) == 2 and first[8:] == [TRACK] * 8
