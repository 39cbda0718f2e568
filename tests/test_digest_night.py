"""End to end, issue 4's nightly digest: the real DAG (dag.test()), real GX, dbt and DuckDB, and a real SMTP
server on localhost. Three provinces report for 2024 on a reminder day after the deadline: Lào Cai one clean
and one warned report, Điện Biên one rejected report, Sơn La one clean report. Each province gets exactly one
digest (warned, rejected, missing and late committees); a second night with nothing new sends nothing. The
Lào Cai digest and the night's Data Docs index are opened in headless Chromium."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from email.message import EmailMessage
from pathlib import Path

import pendulum
import pytest
import yaml

from chibo.config import DEFAULT_CONFIG_PATH, Settings, load_settings
from chibo.local_airflow import run_night
from chibo.smtp_sink import CollectingHandler, airflow_smtp_connection
from contract.model import load_contract
from contract.workbook import write_xlsx
from demo.samples import BAO_THANG_2024, MUONG_KHUONG_2023, MUONG_NHE_2016, synthesise_report
from tests.browser import screenshot_text
from warehouse.raw import connect

REPORT_YEAR = 2024  # the last year of district-level committees: the samples are district reports
DEADLINE = date(REPORT_YEAR + 1, 1, 15)
WARNED_BRANCH = 3  # index of the Bảo Thắng branch given 2 official members
MUONG_NHE_ORG = 1  # index of the Mường Nhé organisation whose probationary count is lowered by 2
LAO_CAI = ("to-chuc@laocai.example.org", "thong-ke@laocai.example.org")
DIEN_BIEN = ("to-chuc@dienbien.example.org",)
SON_LA = ("to-chuc@sonla.example.org",)


def vietnam_today() -> date:
    """The day the DAG's alert task takes as today (pendulum, Vietnam time)."""
    return pendulum.now("Asia/Ho_Chi_Minh").date()


def reminder_config(folder: Path, today: date) -> Path:
    """chibo.yaml with a completeness section that makes ``today`` a reminder day after the 2024 deadline."""
    days_after = (today - DEADLINE).days
    assert days_after > 0, "this test needs the 2024 reports' deadline to be past"
    document = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    document["completeness"] = {
        "deadline": f"{DEADLINE:%m-%d}",
        "reminder_days_before": [],
        "reminder_days_after": [days_after],
        "years_back": today.year - REPORT_YEAR,  # 2024 is tracked
    }
    path = folder / "chibo.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def write_reports(inbox: Path) -> dict[str, str]:
    """The night's four reports; returns what the tests need to recognise them."""
    clean = synthesise_report(replace(MUONG_KHUONG_2023, year=REPORT_YEAR, seed=20244))
    write_xlsx(inbox / "lao-cai_muong-khuong_2024.xlsx", clean)

    warned = synthesise_report(BAO_THANG_2024)
    warned["chi_bo"][WARNED_BRANCH]["members_official"] = 2  # chi_bo.it_nhat_3: a warning, still accepted
    write_xlsx(inbox / "lao-cai_bao-thang_2024.xlsx", warned)

    grades_2024 = {"HTXSNV": 5, "HTTNV": 32, "HTNV": 5}  # TSVM no longer exists in 2024
    rejected = synthesise_report(replace(MUONG_NHE_2016, year=REPORT_YEAR, org_grades=grades_2024, seed=20245))
    org = rejected["to_chuc_co_so"][MUONG_NHE_ORG]
    org["members_probationary"] -= 2  # to_chuc_co_so.members_split: an error, rejected
    write_xlsx(inbox / "dien-bien_muong-nhe_2024.xlsx", rejected)

    son_la = synthesise_report(replace(MUONG_KHUONG_2023, year=REPORT_YEAR, seed=20246))
    son_la["thong_tin"].update(province="Sơn La", committee_name="Thành phố Sơn La", committee_code="116")
    write_xlsx(inbox / "son-la_thanh-pho_2024.xlsx", son_la)

    return {
        "warned_branch": warned["chi_bo"][WARNED_BRANCH]["branch_name"],
        "split_declared": str(org["members_total"]),
        "split_computed": str(org["members_official"] + org["members_probationary"]),
    }


@pytest.fixture
def night_settings(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The conftest settings (paths in tmp_path) read from a config whose reminder day is today."""
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    monkeypatch.setenv("CHIBO_CONFIG", str(reminder_config(config_dir, vietnam_today())))
    return load_settings()


def one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def parts_of(message: EmailMessage) -> tuple[str, str]:
    """Plain text, then the HTML with its pictures (multipart/related: the progress chart) or without."""
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] in (
        ["text/plain", "text/html"],
        ["text/plain", "multipart/related"],
    )
    return message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()


def sheet_title(sheet: str) -> str:
    return next(s.title for s in load_contract().sheets if s.name == sheet)


def without_progress(text: str) -> str:
    """The digest after the progress it starts with in the reporting season (tested in test_digest_render.py)."""
    lines = text.splitlines()
    while lines and lines[0].startswith("Tiến độ nộp báo cáo."):
        lines.pop(0)
    return "\n".join(lines).lstrip("\n")


def portal_links(html: str, settings: Settings) -> set[str]:
    """The submissions a digest links to, each link to its page on the portal (never a file:// Data Docs page)."""
    urls = re.findall(r'href="([^"]+)"', html)
    assert all(url.startswith(settings.portal.public_url) for url in urls), urls  # never file:// Data Docs
    assert settings.portal.link("/tinh") in urls  # the province's dashboard
    prefix = settings.portal.link("/bao-cao/")
    reports = {url.removeprefix(prefix) for url in urls if url.startswith(prefix)}
    assert reports, "no report links to the portal"
    return reports


def decided_submissions(settings: Settings, province: str) -> set[str]:
    with connect(settings.warehouse, read_only=True) as connection:
        rows = connection.execute("select submission_id from raw.submissions where province = ?", [province])
        return {submission_id for (submission_id,) in rows.fetchall()}


def test_a_night_sends_one_digest_per_province_and_a_quiet_night_none(
    night_settings: Settings,
    smtp_server: tuple[int, CollectingHandler],
    airflow_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
):
    port, mailbox = smtp_server
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", airflow_smtp_connection(port))
    planted = write_reports(night_settings.inbox)
    today = vietnam_today()
    night = today.strftime("%d/%m/%Y")
    overdue = f"hạn {DEADLINE:%d/%m/%Y}, đã quá hạn {(today - DEADLINE).days} ngày"

    assert run_night(airflow_home) == "success"
    assert vietnam_today() == today, "the night ran across midnight (Vietnam time): run the test again"

    # ---------------------------------------------------------------- exactly one digest per province
    by_recipients = {tuple(received.envelope_to): received for received in mailbox.received}
    assert len(mailbox.received) == 3
    assert set(by_recipients) == {LAO_CAI, DIEN_BIEN, SON_LA}
    for received in mailbox.received:
        assert received.message["To"] == ", ".join(received.envelope_to)
        assert "chibo@example.org" in received.envelope_from
        assert received.message["Cc"] is None  # copy_submitter is false in chibo.yaml

    # ---------------------------------------------------------------- Lào Cai: warned, missing, late
    lao_cai = by_recipients[LAO_CAI].message
    assert lao_cai["Subject"] == (
        f"[chibo] Lào Cai: 1 báo cáo cần kiểm tra, 7 đơn vị chưa có báo cáo năm {REPORT_YEAR} được tiếp nhận, "
        f"2 đơn vị gửi muộn — tổng hợp ngày {night}"
    )
    text, html = parts_of(lao_cai)
    assert text.startswith("Tiến độ nộp báo cáo.")  # 2024 and 2025 are in their reporting season (the config)
    assert without_progress(text).startswith("Kính gửi Ban Tổ chức Tỉnh ủy Lào Cai,")
    assert "BÁO CÁO BỊ TỪ CHỐI" not in text
    warning = f"Chi bộ «{planted['warned_branch']}» chỉ có 2 đảng viên chính thức, chưa đủ 3."
    assert "B. 1 BÁO CÁO ĐÃ TIẾP NHẬN NHƯNG CẦN KIỂM TRA LẠI" in text
    assert f"1. Đảng bộ huyện Bảo Thắng — năm {REPORT_YEAR}, lần gửi thứ 1 (tệp lao-cai_bao-thang_2024.xlsx)" in text
    assert f"   - trang «{sheet_title('chi_bo')}», dòng {WARNED_BRANCH + 2}: {warning}" in text
    assert "Liên hệ người lập báo cáo: huyenuy.baothang@example.org" in text
    assert "lao-cai_muong-khuong_2024.xlsx" not in text  # clean: not an item, only listed as late
    assert f"Còn 7/9 đảng bộ chưa gửi báo cáo năm {REPORT_YEAR} ({overdue}): " in text
    missing = (
        "Thành phố Lào Cai; Huyện Bát Xát; Huyện Si Ma Cai; Huyện Bắc Hà; Huyện Bảo Yên; Thị xã Sa Pa; Huyện Văn Bàn."
    )
    assert missing in text
    received_on = f"nhận ngày {today:%d/%m/%Y}, muộn {(today - DEADLINE).days} ngày"
    assert (
        f"2/9 đảng bộ gửi muộn báo cáo năm {REPORT_YEAR}: "
        f"Huyện Mường Khương ({received_on}); Huyện Bảo Thắng ({received_on})."
    ) in text
    assert portal_links(html, night_settings) <= decided_submissions(night_settings, "Lào Cai")

    # ---------------------------------------------------------------- Điện Biên: rejected, the rest missing
    dien_bien = by_recipients[DIEN_BIEN].message
    assert dien_bien["Subject"] == (  # 9 never sent + Mường Nhé, rejected; nobody late
        f"[chibo] Điện Biên: 1 báo cáo bị từ chối, 10 đơn vị chưa có báo cáo năm {REPORT_YEAR} được tiếp nhận "
        f"— tổng hợp ngày {night}"
    )
    text, html = parts_of(dien_bien)
    assert "A. 1 BÁO CÁO BỊ TỪ CHỐI — cần sửa và gửi lại." in text
    assert "BÁO CÁO ĐÃ TIẾP NHẬN" not in text
    assert f"1. Đảng bộ huyện Mường Nhé — năm {REPORT_YEAR}, lần gửi thứ 1 (tệp dien-bien_muong-nhe_2024.xlsx)" in text
    split = (
        f"trang «{sheet_title('to_chuc_co_so')}», dòng {MUONG_NHE_ORG + 2}: Tổng số đảng viên "
        f"({planted['split_declared']}) khác số chính thức + dự bị ({planted['split_computed']}).\n"
    )
    fix_after = r"(   - .*\n)*     Cách sửa: \w"  # said once after the findings that share it
    assert re.search(re.escape(split) + fix_after, text), "a rejected report's error says how to fix it"
    assert f"Còn 9/10 đảng bộ chưa gửi báo cáo năm {REPORT_YEAR} ({overdue}): " in text
    assert (
        f"1/10 đảng bộ đã gửi báo cáo năm {REPORT_YEAR} nhưng chưa được chấp nhận, cần sửa lỗi và gửi lại "
        f"({overdue}): Huyện Mường Nhé."
    ) in text
    assert "gửi muộn báo cáo" not in text
    assert "<b>Cách sửa:</b>" in html and 'class="error"' in html and "<table" not in html
    assert portal_links(html, night_settings) <= decided_submissions(night_settings, "Điện Biên")

    # ---------------------------------------------------------------- Sơn La: only the completeness section
    son_la = by_recipients[SON_LA].message
    assert son_la["Subject"] == (
        f"[chibo] Sơn La: 11 đơn vị chưa có báo cáo năm {REPORT_YEAR} được tiếp nhận, 1 đơn vị gửi muộn "
        f"— tổng hợp ngày {night}"
    )
    text, html = parts_of(son_la)
    assert "BÁO CÁO BỊ TỪ CHỐI" not in text and "BÁO CÁO ĐÃ TIẾP NHẬN" not in text
    assert f"Còn 11/12 đảng bộ chưa gửi báo cáo năm {REPORT_YEAR} ({overdue}): " in text
    assert f"1/12 đảng bộ gửi muộn báo cáo năm {REPORT_YEAR}: Thành phố Sơn La ({received_on})." in text
    assert "Data Docs" not in html

    # ---------------------------------------------------------------- what a staff member sees
    page = tmp_path / "lao-cai-digest.html"
    page.write_text(parts_of(lao_cai)[1], encoding="utf-8")
    seen = screenshot_text(page)
    lines = seen.splitlines()
    assert lines[0].startswith("Tiến độ nộp báo cáo.")
    assert "Kính gửi Ban Tổ chức Tỉnh ủy Lào Cai," in lines
    assert "B. 1 báo cáo đã tiếp nhận nhưng cần kiểm tra lại" in lines
    assert "báo cáo bị từ chối" not in seen
    assert f"Đảng bộ huyện Bảo Thắng — năm {REPORT_YEAR}, lần gửi thứ 1 (tệp lao-cai_bao-thang_2024.xlsx)" in lines
    assert "Xem báo cáo trên cổng báo cáo" in lines
    [row] = [line for line in lines if warning in line]
    assert row == f"trang «{sheet_title('chi_bo')}», dòng {WARNED_BRANCH + 2}: {warning}"
    assert f"Còn 7/9 đảng bộ chưa gửi báo cáo năm {REPORT_YEAR} ({overdue}):" in lines
    position = lines.index(f"Còn 7/9 đảng bộ chưa gửi báo cáo năm {REPORT_YEAR} ({overdue}):")
    assert lines[position + 1 : position + 8] == missing.rstrip(".").split("; ")
    assert f"Huyện Bảo Thắng ({received_on})" in lines

    [index] = list(night_settings.data_docs.glob("*/index.html"))
    docs = screenshot_text(index)
    assert "Kết quả kiểm tra dữ liệu" in docs
    assert any(line.startswith("Không đạt") for line in docs.splitlines())
    summary = re.search(r"(\d+) lượt kiểm tra, (\d+) không đạt\.", docs)
    assert summary is not None and int(summary[2]) >= 1

    # ---------------------------------------------------------------- a second night with no change
    sent = len(mailbox.received)
    assert run_night(airflow_home) == "success"
    assert len(mailbox.received) == sent, [one_line(r.message["Subject"]) for r in mailbox.received[sent:]]
