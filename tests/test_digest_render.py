"""The digest as a staff member reads it on a phone: two real nights of Lào Cai's 2023 reports (intake, GX
validation, dbt marts, DuckDB), sent through a real SMTP server (aiosmtpd), each message parsed from the bytes the
server received with Python's e-mail parser and its HTML opened in Debian's Chromium at a phone's width.

Night 1 (08/01/2024, a reminder day 7 days before the deadline): Bảo Thắng's report is rejected (two organisations
whose members do not add up: one fix, said once), Mường Khương's is accepted with a warning. Night 2 (14/01/2024):
Bảo Thắng sends a corrected report, accepted; the digest says so. Both digests start with the province's progress
and its chart (an inline PNG), and carry the reminder of the committees still missing.

The HTML's ``cid:`` picture is shown as a mail client shows it: the image part the Content-ID names, in place.
With CHIBO_UPDATE_SCREENSHOTS=1 the pictures go to docs/digest/.
"""

from __future__ import annotations

import base64
import email.utils
import os
import re
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By

from alerts.completeness import ACCEPTED_COLOUR, NOT_ACCEPTED_COLOUR
from alerts.nightly import digests_to_send, send_digests
from chibo.config import REPO_ROOT, Settings, load_settings
from chibo.smtp_sink import smtp_sink
from contract.model import load_contract
from contract.workbook import write_xlsx
from demo.samples import muong_khuong_2023
from expectations.rules import all_rules
from pipeline import nightly
from tests.browser import driven_chromium, page_png
from tests.deployments import deployment_variables
from tests.test_smtp_failures import smtp
from warehouse.raw import connect

PHONE_WIDTH = 390
NIGHT_1, NIGHT_2 = date(2024, 1, 8), date(2024, 1, 14)  # 7 days and 1 day before the 2023 deadline (15/01/2024)
REPORT_YEAR = 2023
BAO_THANG, MUONG_KHUONG = "086", "083"
LAO_CAI = "Lào Cai"
SCREENSHOTS = REPO_ROOT / "docs" / "digest"


def report_of(committee_name: str, committee_code: str) -> dict[str, Any]:
    report = muong_khuong_2023()
    report["thong_tin"].update(province=LAO_CAI, committee_name=committee_name, committee_code=committee_code)
    report["thong_tin"]["prepared_on"] = "2024-01-05"  # before either night
    return report


def rejected_bao_thang() -> dict[str, Any]:
    report = report_of("Đảng bộ huyện Bảo Thắng", BAO_THANG)
    for org in report["to_chuc_co_so"][1:3]:  # to_chuc_co_so.members_split twice: the same fix
        org["members_probationary"] -= 2
    return report


def warned_muong_khuong() -> dict[str, Any]:
    report = report_of("Đảng bộ huyện Mường Khương", MUONG_KHUONG)
    report["chi_bo"][3]["members_official"] = 2  # chi_bo.it_nhat_3: a warning, still accepted
    return report


@dataclass(frozen=True)
class Night:
    today: date
    raw: dict[str, bytes]  # each received message's bytes, by the province whose staff it went to
    rates: dict[str, tuple[int, int, int]]  # each province's expected, received, accepted after the night


def night(settings: Settings, run_id: str, today: date, outbox: Path, port: int) -> Night:
    """Tonight's intake, validation and marts, as the DAG runs them, with the reports received the day before; then
    the digests composed and sent through the SMTP server, whose .eml files are returned by recipient province."""
    nightly.ingest(settings, run_id, today)
    with connect(settings.warehouse) as connection:
        connection.execute(
            "UPDATE raw.submissions SET received_at = ? WHERE run_id = ?",
            [datetime(today.year, today.month, today.day - 1, 3, 0), run_id],
        )
    nightly.validate(settings, run_id, today)
    nightly.build_marts(settings, run_id)
    before = set(outbox.glob("*.eml"))
    digests = digests_to_send(settings, today, f"{today:%d/%m/%Y}")
    send_digests(settings, digests, smtp(port), run_id)
    raw: dict[str, bytes] = {}
    for path in sorted(set(outbox.glob("*.eml")) - before):
        message = BytesParser(policy=default).parsebytes(path.read_bytes())
        [province] = [p for p, to in settings.recipients.items() if message["To"] == ", ".join(to)]
        raw[province] = path.read_bytes()
    return Night(today, raw, {province: rate(settings, province) for province in settings.recipients})


@dataclass(frozen=True)
class Nights:
    settings: Settings
    first: Night
    second: Night
    shots: Path


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nights]:
    base = tmp_path_factory.mktemp("digest-render")
    settings = load_settings(deployment_variables(base))
    settings.inbox.mkdir(parents=True)
    outbox = base / "outbox"
    update = os.environ.get("CHIBO_UPDATE_SCREENSHOTS") == "1"
    shots = SCREENSHOTS if update else tmp_path_factory.mktemp("screenshots")
    with smtp_sink(outbox) as (port, _):
        write_xlsx(settings.inbox / "lao-cai_bao-thang_2023.xlsx", rejected_bao_thang())
        write_xlsx(settings.inbox / "lao-cai_muong-khuong_2023.xlsx", warned_muong_khuong())
        first = night(settings, "night-1", NIGHT_1, outbox, port)
        write_xlsx(settings.inbox / "lao-cai_bao-thang_2023_sua.xlsx", report_of("Đảng bộ huyện Bảo Thắng", BAO_THANG))
        second = night(settings, "night-2", NIGHT_2, outbox, port)
    yield Nights(settings, first, second, shots)


@pytest.fixture(scope="module")
def phone() -> Iterator[WebDriver]:
    with driven_chromium(width=500, height=844) as driver:  # headless Chromium's narrowest window is 500 px
        driver.execute_cdp_cmd(  # a phone: its width, and the viewport meta honoured as a phone's browser does
            "Emulation.setDeviceMetricsOverride",
            {"width": PHONE_WIDTH, "height": 844, "deviceScaleFactor": 1, "mobile": True},
        )
        yield driver


# ------------------------------------------------------------------ reading a message as a mail client does


def parsed(raw: bytes) -> EmailMessage:
    message = BytesParser(policy=default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    return message


def images_of(message: EmailMessage) -> dict[str, EmailMessage]:
    """The message's inline pictures by Content-ID (without the angle brackets)."""
    return {
        str(part["Content-ID"]).strip("<>"): part
        for part in message.walk()
        if part.get_content_maintype() == "image" and part["Content-ID"]
    }


def as_shown(message: EmailMessage) -> str:
    """The HTML part with each cid: picture in place, as a mail client shows it."""
    html = message.get_body(("html",)).get_content()
    for content_id, part in images_of(message).items():
        data = base64.b64encode(part.get_payload(decode=True)).decode("ascii")
        html = html.replace(f"cid:{content_id}", f"data:{part.get_content_type()};base64,{data}")
    return html


@dataclass(frozen=True)
class Seen:
    lines: list[str]
    scroll_width: int
    client_width: int
    images: list[dict[str, Any]]


def open_on_phone(driver: WebDriver, message: EmailMessage, page: Path, png: Path) -> Seen:
    page.write_text(as_shown(message), encoding="utf-8")
    driver.get(page.resolve().as_uri())
    images = driver.execute_script(
        "return Array.from(document.images).map(i => ({complete: i.complete, natural: i.naturalWidth, "
        "shown: i.getBoundingClientRect().width, src: i.currentSrc.slice(0, 22)}))"
    )
    scroll_width, client_width = driver.execute_script(
        "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    page_png(driver, png)
    text = driver.find_element(By.TAG_NAME, "body").text
    return Seen([line.strip() for line in text.splitlines() if line.strip()], scroll_width, client_width, images)


def png_first_line(png: bytes) -> list[tuple[int, int, int]]:
    """The colours of a truecolour, unfiltered PNG's first line (what alerts/chart.py writes)."""
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, _, depth, colour_type = struct.unpack(">IIBB", png[16:26])
    assert (depth, colour_type) == (8, 2)
    data, offset = b"", 8
    while offset < len(png):
        (length,) = struct.unpack(">I", png[offset : offset + 4])
        kind = png[offset + 4 : offset + 8]
        if kind == b"IDAT":
            data += png[offset + 8 : offset + 8 + length]
        offset += 12 + length
    line = zlib.decompress(data)[: 1 + width * 3]
    assert line[0] == 0
    return [tuple(line[1 + 3 * x : 4 + 3 * x]) for x in range(width)]  # type: ignore[misc]


def rate(settings: Settings, province: str) -> tuple[int, int, int]:
    """Expected, received and accepted committees for the year, from the mart analysts read (fct_reporting_rate)."""
    with connect(settings.warehouse, read_only=True) as connection:
        [row] = connection.execute(
            "SELECT expected, received, accepted FROM marts.fct_reporting_rate WHERE province = ? AND report_year = ?",
            [province, REPORT_YEAR],
        ).fetchall()
    return int(row[0]), int(row[1]), int(row[2])


def headers_are_readable(raw: bytes, settings: Settings, today: date) -> None:
    """From with the configured display name (RFC 2047, the raw header plain ASCII), a Date and a Message-ID."""
    head = raw.split(b"\r\n\r\n", 1)[0] if b"\r\n\r\n" in raw else raw.split(b"\n\n", 1)[0]
    head.decode("ascii")  # no raw UTF-8 in any header
    message = parsed(raw)
    name, address = email.utils.parseaddr(settings.mail_from)
    [sender] = message["From"].addresses
    assert (sender.display_name, sender.addr_spec) == (name, address)
    assert b"=?utf-8?" in re.search(rb"^From: (.*)$", head, re.MULTILINE)[1]  # type: ignore[index]
    sent = message["Date"].datetime
    assert sent.tzinfo is not None and abs((datetime.now(sent.tzinfo) - sent).total_seconds()) < 3600
    assert re.fullmatch(r"<[^<>@\s]+@" + re.escape(address.rpartition("@")[2]) + ">", str(message["Message-ID"]))


# ------------------------------------------------------------------ the tests


def test_headers_of_every_digest_are_read_by_the_e_mail_parser(nights: Nights):
    every = [*nights.first.raw.values(), *nights.second.raw.values()]
    assert len(every) >= 4
    for raw in every:
        headers_are_readable(raw, nights.settings, nights.first.today)
    ids = [str(parsed(raw)["Message-ID"]) for raw in every]
    assert len(set(ids)) == len(ids)


def test_a_rejection_and_a_warning_on_a_phone(nights: Nights, phone: WebDriver, tmp_path: Path):
    first = nights.first
    message = parsed(first.raw[LAO_CAI])
    text = message.get_body(("plain",)).get_content()
    seen = open_on_phone(phone, message, tmp_path / "night-1.html", nights.shots / "digest-phone.png")

    # what a person sees: one column, nothing wider than the phone, the progress first, the chart loaded
    assert seen.scroll_width <= seen.client_width == PHONE_WIDTH
    expected, received, accepted = first.rates[LAO_CAI]
    progress = f"{received}/{expected} đơn vị đã nộp, {accepted} đã được tiếp nhận"
    assert seen.lines[0].startswith("Tiến độ nộp báo cáo.") and progress in seen.lines[0]
    assert text.splitlines()[0].startswith("Tiến độ nộp báo cáo.") and progress in text.splitlines()[0]
    [chart] = seen.images
    assert chart["complete"] and chart["natural"] > 0 and 0 < chart["shown"] <= PHONE_WIDTH
    assert chart["src"].startswith("data:image/png")

    # the chart's bar is as long as the figures say
    [part] = images_of(message).values()
    line = png_first_line(part.get_payload(decode=True))
    assert abs(line.count(ACCEPTED_COLOUR) - accepted * len(line) / expected) < 1  # to the pixel
    assert abs(line.count(NOT_ACCEPTED_COLOUR) - (received - accepted) * len(line) / expected) < 1

    # the day, not the run; sheets by their titles; the fix of two identical errors said once
    day = f"tổng hợp ngày {first.today:%d/%m/%Y}"
    assert day in message["Subject"] and day in text and any(day in line for line in seen.lines)
    assert "night-1" not in text + "\n".join(seen.lines)
    title = {sheet.name: sheet.title for sheet in load_contract().sheets}["to_chuc_co_so"]
    [split] = [rule for rule in all_rules() if rule.rule_id == "to_chuc_co_so.members_split"]
    said = split.message.split("(")[0]  # "Tổng số đảng viên "
    findings = [line for line in seen.lines if line.startswith(f"trang «{title}», dòng") and said in line]
    assert len(findings) == 2, seen.lines  # two organisations, two findings
    assert "to_chuc_co_so" not in "\n".join(seen.lines) + text
    assert [line for line in seen.lines if split.fix in line] == [f"Cách sửa: {split.fix}"]  # their fix, once
    lines = text.splitlines()
    [at] = [index for index, line in enumerate(lines) if split.fix in line]
    assert lines[at].strip() == f"Cách sửa: {split.fix}"
    assert all(line.startswith(f"   - trang «{title}», dòng") and said in line for line in lines[at - 2 : at])
    assert any(line.startswith("A. 1 báo cáo bị từ chối") for line in seen.lines)
    assert any(line.startswith("B. 1 báo cáo đã tiếp nhận nhưng cần kiểm tra lại") for line in seen.lines)

    # the reminder of the committees still missing
    assert "C. Tình hình gửi báo cáo" in seen.lines
    assert any(line.startswith(f"Còn {expected - received}/{expected} đảng bộ chưa gửi") for line in seen.lines)


def test_the_corrected_report_is_said_accepted_the_next_night(nights: Nights, phone: WebDriver, tmp_path: Path):
    settings, second = nights.settings, nights.second
    message = parsed(second.raw[LAO_CAI])
    text = message.get_body(("plain",)).get_content()
    seen = open_on_phone(phone, message, tmp_path / "night-2.html", nights.shots / "digest-correction-phone.png")
    assert seen.scroll_width <= seen.client_width == PHONE_WIDTH
    expected, received, accepted = second.rates[LAO_CAI]
    assert received == accepted  # Bảo Thắng's corrected report made the rejected one count as accepted
    assert f"{received}/{expected} đơn vị đã nộp, tất cả đã được tiếp nhận" in seen.lines[0]
    assert all(image["complete"] and image["natural"] > 0 for image in seen.images) and seen.images

    heading = "Đ. 1 báo cáo đã sửa và được tiếp nhận"
    assert heading in seen.lines and "Đ. 1 BÁO CÁO ĐÃ SỬA VÀ ĐƯỢC TIẾP NHẬN." in text
    title = next(line for line in seen.lines if line.startswith("Đảng bộ huyện Bảo Thắng"))
    assert "lần gửi thứ 2" in title and "lao-cai_bao-thang_2023_sua.xlsx" in title
    said = "Báo cáo này sửa lại lần gửi thứ 1 (đã bị từ chối) và đã được tiếp nhận"
    assert any(line.startswith(said) for line in seen.lines) and said in text
    assert "báo cáo đã sửa được tiếp nhận" in str(message["Subject"])
    assert "bị từ chối — cần sửa" not in text  # nothing rejected tonight
    assert "Mường Khương" not in text.split("C. TÌNH HÌNH GỬI BÁO CÁO")[0]  # its warning was said last night

    # said once: a third digest composed now has nothing about it
    later = digests_to_send(settings, second.today, f"{second.today:%d/%m/%Y}")
    assert not any("Bảo Thắng" in digest.text for digest in later)


def test_every_province_digest_starts_with_its_progress(nights: Nights, phone: WebDriver, tmp_path: Path):
    for province, raw in nights.first.raw.items():
        message = parsed(raw)
        expected, received, _ = nights.first.rates[province]
        seen = open_on_phone(phone, message, tmp_path / "p.html", tmp_path / "p.png")
        assert seen.lines[0].startswith("Tiến độ nộp báo cáo."), (province, seen.lines[:3])
        assert f"{received}/{expected} đơn vị đã nộp" in seen.lines[0]
        assert seen.scroll_width <= seen.client_width
