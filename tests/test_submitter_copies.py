"""With ``copy_submitter``, each submitter gets a message of their own with only their report, and a contact cell
becomes a recipient only when it is exactly one plain address: composing, then a real night (intake, GX validation,
DuckDB) sent through a real SMTP server and recorded like the digests."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from alerts.digest import Problem, ReportItem, compose_alerts, single_address
from alerts.nightly import digests_to_send, send_digests
from chibo.config import Settings, load_settings
from chibo.smtp_sink import CollectingHandler
from contract.workbook import write_xlsx
from demo.samples import bao_thang_2024
from ingestion.intake import ingest_inbox
from tests.nights import validate_tonight
from tests.test_smtp_failures import smtp
from warehouse.raw import connect

HOSTILE_CELLS = [
    "a@x.vn, b@y.vn",
    "a@x.vn;b@y.vn",
    "a@x.vn b@y.vn",
    "Ban Tổ chức <a@x.vn>",
    "<a@x.vn>",
    '"b@y.vn" <a@x.vn>',
    "a@x.vn (b@y.vn)",
    "a@x.vn\r\nBcc: c@z.vn",
    "a@x.vn\nb@y.vn",
    "undisclosed:a@x.vn,b@y.vn;",
    "a@@x.vn",
    "a@x",
    "a..b@x.vn",
    "đảng@x.vn",
    "a@-x.vn",
    "",
    "   ",
]


@pytest.mark.parametrize("cell", HOSTILE_CELLS)
def test_a_hostile_contact_cell_is_no_recipient(cell: str):
    assert single_address(cell) is None


def test_one_plain_address_is_a_recipient():
    assert single_address("  huyenuy.baothang@example.org ") == "huyenuy.baothang@example.org"
    assert single_address("to-chuc+2024@lao-cai.dcs.vn") == "to-chuc+2024@lao-cai.dcs.vn"


def report(submission_id: str, committee: str, contact: str | None, outcome: str = "accepted") -> ReportItem:
    problem = Problem("chi_bo", 5, f"Chi bộ của {committee} chỉ có 2 đảng viên chính thức, chưa đủ 3.", "2", "warning")
    return ReportItem(
        submission_id, f"{submission_id}.xlsx", "Lào Cai", committee, 2024, 1, contact, outcome, [problem]
    )


def test_each_submitter_gets_only_their_own_report_and_hostile_cells_nobody():
    settings = replace(load_settings(), copy_submitter=True)
    reports = [report("bt", "Đảng bộ huyện Bảo Thắng", "bt@example.org")]
    reports += [report(f"h{n}", f"Đảng bộ số {n}", cell) for n, cell in enumerate(HOSTILE_CELLS)]
    alerts = compose_alerts(settings, reports, "16/01/2026")

    province, submitter = alerts  # one province digest, one submitter message: no hostile cell made another
    assert province.cc == () and province.message("chibo@example.org")["Cc"] is None
    assert province.recipients == settings.recipients["Lào Cai"]
    every_recipient = {address for alert in alerts for address in alert.recipients + alert.cc}
    assert every_recipient == set(settings.recipients["Lào Cai"]) | {"bt@example.org"}

    assert submitter.recipients == ("bt@example.org",) and submitter.cc == ()
    assert submitter.submission_ids == ("bt",) and submitter.kinds == ("submitter:outcome",)
    assert "Đảng bộ huyện Bảo Thắng" in submitter.subject and "cần kiểm tra" in submitter.subject
    assert submitter.text.startswith("Kính gửi đồng chí lập báo cáo,")
    assert "đã được tiếp nhận nhưng cần kiểm tra lại" in submitter.text
    for other in reports[1:]:  # nothing of the rest of the province
        assert other.committee_name not in submitter.text + submitter.html + submitter.subject
    assert "Đảng bộ số 1" in province.text  # the province still sees every report


def test_a_submitter_message_escapes_every_submitted_value():
    settings = replace(load_settings(), copy_submitter=True)
    hostile = report("x1", "<img src=x onerror=alert(1)>", "a@x.vn", "rejected")
    hostile.problems[0] = replace(hostile.problems[0], value="<b>2</b>", severity="error")
    [_, submitter] = compose_alerts(settings, [hostile], "16/01/2026")
    assert "<img" not in submitter.html and "&lt;img src=x onerror=alert(1)&gt;" in submitter.html
    assert "<b>2</b>" not in submitter.html and "bị từ chối" in submitter.subject


def test_a_night_sends_each_submitter_their_copy_once_and_records_it(
    settings: Settings, smtp_server: tuple[int, CollectingHandler]
):
    port, mailbox = smtp_server
    settings = replace(settings, copy_submitter=True)
    warned = bao_thang_2024()
    warned["chi_bo"][3]["members_official"] = 2  # chi_bo.it_nhat_3: a warning, still accepted
    warned["thong_tin"]["contact_email"] = "huyenuy.baothang@example.org"
    write_xlsx(settings.inbox / "bao-thang.xlsx", warned)
    hostile = bao_thang_2024()
    hostile["chi_bo"][3]["members_official"] = 1
    hostile["thong_tin"].update(committee_name="Huyện Mường Khương", committee_code="083")
    hostile["thong_tin"]["contact_email"] = "mk@example.org, ke-la@example.org"
    write_xlsx(settings.inbox / "muong-khuong.xlsx", hostile)
    with connect(settings.warehouse) as connection:
        ingest_inbox(connection, settings, "night-1")
    validate_tonight(settings, "night-1", today=date(2026, 11, 30))

    digests = digests_to_send(settings, date(2026, 11, 30), "30/11/2026")
    send_digests(settings, digests, smtp(port), "night-1")
    assert digests_to_send(settings, date(2026, 11, 30), "30/11/2026") == []  # recorded: never sent twice
    assert digests_to_send(settings, date(2026, 12, 1), "01/12/2026") == []

    recipients = [tuple(received.envelope_to) for received in mailbox.received]
    assert ("huyenuy.baothang@example.org",) in recipients
    assert not any("mk@example.org" in r or "ke-la@example.org" in r for r in recipients)
    [copy] = [r for r in mailbox.received if r.envelope_to == ["huyenuy.baothang@example.org"]]
    text = copy.message.get_body(("plain",)).get_content()
    assert "bao-thang.xlsx" in text and "muong-khuong.xlsx" not in text
    [told] = [r for r in mailbox.received if "muong-khuong.xlsx" in r.message.get_body(("plain",)).get_content()]
    assert told.envelope_to == list(settings.recipients["Lào Cai"])  # its report had something to say: province only
    with connect(settings.warehouse, read_only=True) as connection:
        kinds = [kind for (kind,) in connection.execute("select kind from raw.alerts_sent").fetchall()]
    assert kinds.count("submitter:outcome") == 1
