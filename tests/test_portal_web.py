"""The portal over HTTP, as a person's browser reaches it (issue 11): ``chibo serve`` in its own process on the sample
deployment (tests/portal_site.py), its SQLite database, a real SMTP server for the submitters' e-mails, and the real
nights in this process: the uploads' landing read back from the warehouse, the staff's approvals and lock read back
from the published snapshot's marts.

One server serves the whole module (its start-up, with the sample's night, is most of the time), so the tests run
in the order of the file and build on each other: uploads, then a night, then decisions and a lock, then a night.
The login rate limit counts failures per address too, and every request here comes from 127.0.0.1: the throttling
test is the last one. The browser's flows (a report with mistakes then its fix, approving and locking in a page,
the 403 pages, the anonymous redirect, a lock form without its token) are tests/test_portal_browser.py's.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import duckdb
import httpx
import pytest
import sqlalchemy as sa

from chibo.config import Settings
from chibo.smtp_sink import CollectingHandler, airflow_smtp_connection, smtp_sink
from contract.workbook import write_xlsx
from demo.samples import bao_thang_2024
from pipeline import nightly
from portal import accounts, security, store, web
from portal.dashboard import SNAPSHOT_FILE
from tests.hostile_corpus import CORPUS
from tests.portal_site import PASSWORDS, csrf_of, logged_in, night, running_portal, sample_deployment
from warehouse.raw import connect

BAO_THANG_FILE = "lao-cai_bao-thang_2024.xlsx"  # the sample inbox's, accepted by the sample's night
SI_MA_CAI_FILE = "lao-cai_si-ma-cai_2024.zip"
BAO_THANG_MAIL = "huyenuy.baothang@example.org"  # demo/portal_accounts.csv
BAO_THANG_WITH_ERRORS = "lao-cai_bao-thang_2024_lan-2.xlsx"  # dropped in the inbox by the committee: rejected
LAO_CAI = "15"  # today's Lào Cai: old Lào Cai (10) and Yên Bái (15) up to 2024
RETURN_COMMENT = "Số đảng viên nữ của Đảng bộ thị trấn Phố Lu chưa khớp với danh sách; đề nghị rà soát lại."
SCRIPT = "<script>alert(1)</script>"
SCRIPT_ACCOUNT = accounts.NewAccount(
    username="camduong",
    role="submitter",
    password="camduong-2025",
    full_name=SCRIPT,
    province="Lào Cai",
    committee_name="Đảng ủy phường Cam Đường",  # a 2025 committee the sample has no report from: on the late list
    report_year=2025,
    email="vanphong.camduong@example.org",
    phone="0214 3 <b>840</b>",
)


@dataclass(frozen=True)
class Site:
    settings: Settings
    url: str
    mail: CollectingHandler


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The sample deployment after its night, with the sample accounts, served by ``chibo serve`` whose SMTP
    connection (``smtp_default``) is a real SMTP server of this process."""
    base = tmp_path_factory.mktemp("portal-web")
    settings, variables = sample_deployment(base)
    with smtp_sink() as (port, handler):
        served = {**variables, "AIRFLOW_CONN_SMTP_DEFAULT": airflow_smtp_connection(port)}
        with running_portal(served, base / "serve.log") as url:
            yield Site(settings, url, handler)


# ------------------------------------------------------------------ helpers


def client(site: Site, from_address: str = "127.0.0.1") -> httpx.Client:
    """A visitor; ``from_address`` is the loopback address its connections come from."""
    transport = httpx.HTTPTransport(local_address=from_address)
    return httpx.Client(base_url=site.url, follow_redirects=False, timeout=120, transport=transport)


def visible_text(page: str) -> str:
    """A page's text as a person reads it: no tags, entities decoded, spaces collapsed."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def flash_of(response: httpx.Response) -> str:
    """The message a redirect carries to the next page (``?thong-bao=``)."""
    found = re.search(r"thong-bao=([^&]*)", response.headers["location"])
    assert found is not None, response.headers["location"]
    return unquote_plus(found[1])


def cookie_header(response: httpx.Response, name: str) -> str:
    [header] = [value for value in response.headers.get_list("set-cookie") if value.startswith(f"{name}=")]
    return header


def login_attempt(
    site: Site, username: str, password: str, next_page: str = "/", from_address: str = "127.0.0.1"
) -> httpx.Response:
    with client(site, from_address) as browser:
        form = browser.get("/dang-nhap")
        return browser.post(
            "/dang-nhap",
            data={"username": username, "password": password, "csrf_token": csrf_of(form.text), "next": next_page},
        )


def inbox_entries(settings: Settings) -> set[str]:
    return {entry.name for entry in settings.inbox.iterdir()}


def upload(browser: httpx.Client, file_name: str, content: bytes) -> tuple[int, str]:
    """Send a file from the upload form: its receipt id and the verdict page's text."""
    form = browser.get("/nop-bao-cao")
    assert form.status_code == 200, form.text[:300]
    sent = browser.post(
        "/nop-bao-cao",
        data={"csrf_token": csrf_of(form.text)},
        files={"file": (file_name, content, "application/octet-stream")},
    )
    assert sent.status_code == 303, (sent.status_code, sent.text[:500])
    location = sent.headers["location"]
    assert re.fullmatch(r"/ket-qua/\d+", location), location
    verdict = browser.get(location)
    assert verdict.status_code == 200
    return int(location.rsplit("/", 1)[1]), visible_text(verdict.text)


def receipt(settings: Settings, receipt_id: int) -> dict[str, Any]:
    with store.transaction(settings) as connection:
        row = store.receipt(connection, receipt_id)
    assert row is not None
    return row


def snapshot_rows(settings: Settings, sql: str, parameters: list[Any] | None = None) -> list[tuple[Any, ...]]:
    """Rows of the published snapshot (the marts analysts and the portal read)."""
    with duckdb.connect(str(settings.publish / SNAPSHOT_FILE), read_only=True) as connection:
        return connection.execute(sql, parameters or []).fetchall()


def submission_of(settings: Settings, file_name: str) -> tuple[str, str]:
    [(submission_id, outcome)] = snapshot_rows(
        settings, "select submission_id, outcome from fct_submissions where file_name = ?", [file_name]
    )
    return str(submission_id), str(outcome)


def decide(browser: httpx.Client, submission_id: str, action: str, comment: str) -> httpx.Response:
    """POST a decision from the report's page (``duyet`` approve, ``tra-lai`` return)."""
    page = browser.get(f"/bao-cao/{submission_id}")
    token = csrf_of(page.text) if page.status_code == 200 else "x"
    return browser.post(f"/bao-cao/{submission_id}/{action}", data={"csrf_token": token, "comment": comment})


def approvals_of(settings: Settings, submission_id: str) -> list[dict[str, Any]]:
    with store.transaction(settings) as connection:
        return store.approval_history(connection, [submission_id])


def audit_rows(settings: Settings, action: str) -> list[dict[str, Any]]:
    with store.transaction(settings) as connection:
        return [row for row in store.audit_trail(connection, limit=10_000) if row["action"] == action]


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ------------------------------------------------------------------ 1. login


def test_a_wrong_password_is_refused_with_401_in_vietnamese(site: Site) -> None:
    for username in ("laocai", "khongcotaikhoan"):  # a wrong password and an unknown name read the same
        refused = login_attempt(site, username, "mat-khau-sai-roi")
        assert refused.status_code == 401
        assert web.WRONG_LOGIN in visible_text(refused.text)
        assert security.SESSION_COOKIE not in refused.headers.get("set-cookie", "")
    failed = audit_rows(site.settings, "login_failed")
    assert {row["target"] for row in failed} >= {"laocai", "khongcotaikhoan"}
    assert all(row["address"] == "127.0.0.1" and row["username"] is None for row in failed)


def test_a_login_without_its_csrf_cookie_or_token_is_refused(site: Site) -> None:
    credentials = {"username": "laocai", "password": PASSWORDS["laocai"]}
    with client(site) as browser:  # no form opened: no cookie, no token
        assert browser.post("/dang-nhap", data=credentials).status_code == 403
    with client(site) as browser:  # the form's cookie, but the token left out
        browser.get("/dang-nhap")
        refused = browser.post("/dang-nhap", data=credentials)
        assert refused.status_code == 403
        assert "mã chống giả mạo" in visible_text(refused.text)
    with client(site) as elsewhere:  # a token from another visitor's form, without that visitor's cookie
        token = csrf_of(elsewhere.get("/dang-nhap").text)
    with client(site) as browser:
        browser.get("/dang-nhap")
        assert browser.post("/dang-nhap", data={**credentials, "csrf_token": token}).status_code == 403
        assert security.SESSION_COOKIE not in browser.cookies


def test_a_login_goes_only_to_pages_of_this_site(site: Site) -> None:
    for elsewhere in ("//evil.example", "//evil.example/tinh", "https://evil.example/", "/\\evil.example"):
        done = login_attempt(site, "laocai", PASSWORDS["laocai"], next_page=elsewhere)
        assert done.status_code == 303 and done.headers["location"] == "/", elsewhere
    done = login_attempt(site, "laocai", PASSWORDS["laocai"], next_page="/tinh/15?nam=2024")
    assert done.headers["location"] == "/tinh/15?nam=2024"


def test_the_session_cookie_is_httponly_and_samesite_strict(site: Site) -> None:
    done = login_attempt(site, "laocai", PASSWORDS["laocai"])
    assert done.status_code == 303
    attributes = [part.strip().lower() for part in cookie_header(done, security.SESSION_COOKIE).split(";")]
    assert "httponly" in attributes
    assert "samesite=strict" in attributes
    assert "path=/" in attributes
    assert "secure" not in attributes  # the sample's public_url is http://; https:// adds it
    with client(site) as browser:
        form = browser.get("/dang-nhap")
        login_cookie = [part.strip().lower() for part in cookie_header(form, security.LOGIN_CSRF_COOKIE).split(";")]
    assert "httponly" in login_cookie and "samesite=strict" in login_cookie


def test_logout_ends_the_session(site: Site) -> None:
    browser = logged_in(site.url, "laocai")
    token = browser.cookies[security.SESSION_COOKIE]
    page = browser.get("/tinh/15")
    assert page.status_code == 200
    assert browser.post("/dang-xuat", data={"csrf_token": "sai"}).status_code == 403  # a forged logout does nothing
    assert browser.get("/tinh/15").status_code == 200

    out = browser.post("/dang-xuat", data={"csrf_token": csrf_of(page.text)})
    assert out.status_code == 303 and out.headers["location"] == "/dang-nhap"

    with client(site) as replay:  # the old cookie, kept by someone: the session is gone
        replay.cookies.set(security.SESSION_COOKIE, token)
        again = replay.get("/tinh/15")
        assert again.status_code == 303
        assert again.headers["location"].startswith("/dang-nhap?next=")
        assert replay.get("/api/tinh/15").status_code == 401
    assert any(row["username"] == "laocai" for row in audit_rows(site.settings, "logout"))


# ------------------------------------------------------------------ 2. uploads


def test_a_file_over_the_size_limit_is_refused_and_nothing_lands(site: Site) -> None:
    limit = site.settings.limits.max_file_bytes
    before = inbox_entries(site.settings)
    browser = logged_in(site.url, "baothang")

    receipt_id, verdict = upload(browser, "bao-cao-qua-lon.xlsx", b"PK\x03\x04" + b"\0" * (limit - 3))

    assert "Không nhận" in verdict
    assert web.TOO_LARGE.format(mib=limit >> 20) in verdict
    row = receipt(site.settings, receipt_id)
    assert (row["outcome"], row["inbox_name"], row["sha256"]) == ("refused", None, "")
    assert inbox_entries(site.settings) == before


@pytest.mark.parametrize("case_name", ["bom_nen.zip", "pdf_doi_ten.xlsx", "van_ban_doi_ten.xlsx"])
def test_a_zip_bomb_or_a_file_that_is_no_spreadsheet_is_not_taken(
    site: Site, tmp_path: Path, case_name: str
) -> None:
    [case] = [case for case in CORPUS if case.name == case_name]
    path = tmp_path / case.name
    case.build(path)
    before = inbox_entries(site.settings)
    browser = logged_in(site.url, "baothang")

    receipt_id, verdict = upload(browser, case.name, path.read_bytes())

    row = receipt(site.settings, receipt_id)
    assert row["outcome"] in ("rejected", "refused") and row["inbox_name"] is None
    assert case.expected_vi in verdict  # the intake guard's own Vietnamese reason
    assert "Biên nhận số" not in verdict
    assert inbox_entries(site.settings) == before


def test_the_same_report_sent_twice_lands_once(site: Site) -> None:
    content = (site.settings.inbox / BAO_THANG_FILE).read_bytes()
    before = inbox_entries(site.settings)
    browser = logged_in(site.url, "baothang")

    first_id, first_page = upload(browser, BAO_THANG_FILE, content)
    landed = inbox_entries(site.settings) - before
    second_id, second_page = upload(browser, BAO_THANG_FILE, content)

    first, second = receipt(site.settings, first_id), receipt(site.settings, second_id)
    assert (first["outcome"], second["outcome"]) == ("accepted", "accepted")
    number = store.receipt_number(first_id, first["created_at"])
    assert landed == {f"{number}__{BAO_THANG_FILE}"}
    assert inbox_entries(site.settings) == before | landed  # the second landed nothing, left no temporary
    assert first["inbox_name"] == second["inbox_name"] == f"{number}__{BAO_THANG_FILE}"
    assert (site.settings.inbox / first["inbox_name"]).read_bytes() == content
    assert first["sha256"] == second["sha256"] == hashlib.sha256(content).hexdigest()
    for page in (first_page, second_page):
        assert "Đạt — đã nhận" in page and "Biên nhận số BN-" in page
    assert number in first_page
    told = [row["detail"] for row in audit_rows(site.settings, "upload") if "not landed twice" in (row["detail"] or "")]
    assert [detail.endswith(f"same bytes as receipt {first_id}, not landed twice") for detail in told] == [True]


def test_another_committee_s_report_is_refused_and_nothing_lands(site: Site) -> None:
    content = (site.settings.inbox / BAO_THANG_FILE).read_bytes()
    before = inbox_entries(site.settings)
    browser = logged_in(site.url, "muongkhuong")

    receipt_id, verdict = upload(browser, BAO_THANG_FILE, content)

    assert "Không nhận" in verdict
    assert "«Đảng bộ huyện Bảo Thắng», không phải đơn vị của tài khoản này" in verdict
    assert "Biên nhận số" not in verdict
    row = receipt(site.settings, receipt_id)
    assert (row["outcome"], row["inbox_name"]) == ("refused", None)
    assert inbox_entries(site.settings) == before
    # and Bảo Thắng's own account cannot open that verdict page, nor Mường Khương Bảo Thắng's receipts
    assert logged_in(site.url, "baothang").get(f"/ket-qua/{receipt_id}").status_code == 403


def test_every_upload_has_its_audit_row(site: Site) -> None:
    with store.transaction(site.settings) as connection:
        uploaded = connection.execute(
            sa.select(store.accounts.c.username, store.receipts.c.file_name).join_from(store.receipts, store.accounts)
        ).all()
    audited = audit_rows(site.settings, "upload") + audit_rows(site.settings, "upload_refused")
    assert len(uploaded) == 7  # too large, 3 hostile, Bảo Thắng twice, Mường Khương's
    assert sorted((row["username"], row["target"]) for row in audited) == sorted(map(tuple, uploaded))
    assert all(row["address"] == "127.0.0.1" for row in audited)


def test_the_night_registers_the_landed_report_once_and_leaves_nothing_behind(site: Site) -> None:
    settings = site.settings
    [landed] = [name for name in inbox_entries(settings) if name.startswith("BN-")]
    # the committee also drops a corrected-but-wrong version by hand (rejected: a rejected report to approve below)
    report = bao_thang_2024()
    report["to_chuc_co_so"][0]["members_total"] = -5
    write_xlsx(settings.inbox / BAO_THANG_WITH_ERRORS, report)

    night(settings, "night-2")

    assert nightly.not_taken_in(settings, "night-2") == []
    with connect(settings.warehouse, read_only=True) as connection:
        registered = dict(connection.execute("select sha256, count(*) from raw.submissions group by sha256").fetchall())
    assert registered[sha256_of(settings.inbox / landed)] == 1  # the upload's bytes: the night's first, not again
    assert {name: registered.get(sha256_of(settings.inbox / name), 0) for name in inbox_entries(settings)} == {
        name: 1 for name in inbox_entries(settings)
    }  # every file in the inbox registered exactly once; no hidden temporary left
    assert submission_of(settings, BAO_THANG_WITH_ERRORS)[1] == "rejected"  # published


# ------------------------------------------------------------------ 3. approvals and the lock


def test_a_return_without_a_comment_is_refused_and_nothing_recorded(site: Site) -> None:
    bao_thang, outcome = submission_of(site.settings, BAO_THANG_FILE)
    assert outcome == "accepted"
    staff = logged_in(site.url, "laocai")

    refused = decide(staff, bao_thang, "tra-lai", "   ")

    assert refused.status_code == 303
    assert flash_of(refused) == web.RETURN_NEEDS_REASON
    assert web.RETURN_NEEDS_REASON in visible_text(staff.get(refused.headers["location"]).text)
    assert approvals_of(site.settings, bao_thang) == []
    assert site.mail.received == []


def test_a_return_with_a_comment_is_recorded_and_the_submitter_is_mailed(site: Site) -> None:
    bao_thang, _ = submission_of(site.settings, BAO_THANG_FILE)
    staff = logged_in(site.url, "laocai")

    returned = decide(staff, bao_thang, "tra-lai", RETURN_COMMENT)

    assert returned.status_code == 303
    assert flash_of(returned) == f"{web.DECIDED['returned']} {web.MAILED.format(to=BAO_THANG_MAIL)}"
    [decision] = approvals_of(site.settings, bao_thang)
    assert (decision["state"], decision["comment"], decision["username"]) == ("returned", RETURN_COMMENT, "laocai")
    [sent] = site.mail.received
    assert sent.envelope_to == [BAO_THANG_MAIL]
    assert sent.message["Subject"] == "[chibo] Báo cáo năm 2024 của Đảng bộ huyện Bảo Thắng bị trả lại để sửa"
    body = sent.message.get_content()
    assert RETURN_COMMENT in body and "Kính gửi Đảng bộ huyện Bảo Thắng" in body
    assert f"http://127.0.0.1:8000/bao-cao/{bao_thang}" in body
    assert [row["target"] for row in audit_rows(site.settings, "returned")] == [bao_thang]
    assert [(row["target"], row["detail"]) for row in audit_rows(site.settings, "mail")] == [(BAO_THANG_MAIL, "sent")]
    page = visible_text(staff.get(f"/bao-cao/{bao_thang}").text)
    assert "Đã trả lại" in page and RETURN_COMMENT in page


def test_a_rejected_report_cannot_be_approved(site: Site) -> None:
    rejected, outcome = submission_of(site.settings, BAO_THANG_WITH_ERRORS)
    assert outcome == "rejected"
    for username in ("laocai", "vanhanh"):  # its province's staff, an operator: nobody approves a rejected report
        refused = decide(logged_in(site.url, username), rejected, "duyet", "")
        assert refused.status_code == 403, username
    assert approvals_of(site.settings, rejected) == []


def test_approving_and_locking_over_http_reach_the_marts_with_the_next_night(site: Site) -> None:
    settings = site.settings
    si_ma_cai, _ = submission_of(settings, SI_MA_CAI_FILE)
    staff = logged_in(site.url, "laocai")
    approved = decide(staff, si_ma_cai, "duyet", "")
    assert approved.status_code == 303 and flash_of(approved) == web.DECIDED["approved"]  # no account: no mail

    board = staff.get(f"/tinh/{LAO_CAI}?nam=2024")
    assert board.status_code == 200
    other = logged_in(site.url, "sonla")
    other_token = csrf_of(other.get("/nhat-ky").text)
    assert other.post(f"/tinh/{LAO_CAI}/2024/chot", data={"csrf_token": other_token}).status_code == 403
    locked = staff.post(f"/tinh/{LAO_CAI}/2024/chot", data={"csrf_token": csrf_of(board.text), "comment": ""})
    assert locked.status_code == 303 and flash_of(locked) == web.LOCKED.format(year=2024)
    again = staff.post(f"/tinh/{LAO_CAI}/2024/chot", data={"csrf_token": csrf_of(board.text)})
    assert flash_of(again) == web.ALREADY_LOCKED
    assert staff.get(f"/api/tinh/{LAO_CAI}?nam=2024").json()["lock"]["locked"] is True
    assert [row["target"] for row in audit_rows(settings, "lock")] == [f"{LAO_CAI}/2024"]

    night(settings, "night-3")

    bao_thang, _ = submission_of(settings, BAO_THANG_FILE)
    states = dict(
        snapshot_rows(
            settings,
            "select submission_id, list(distinct approval_state) from fct_members where report_year = 2024"
            " group by submission_id",
        )
    )
    assert states == {bao_thang: ["returned"], si_ma_cai: ["approved"]}  # returned before the lock: still counts
    assert snapshot_rows(
        settings,
        "select committees_reporting, committees_approved, province_locked from fct_province_year"
        " where province = 'Lào Cai' and report_year = ?",
        [2024],
    ) == [(2, 1, True)]
    assert snapshot_rows(
        settings,
        "select committees_reporting, committees_approved, province_locked from fct_province_year_restated"
        " where province = 'Lào Cai' and report_year = ?",
        [2024],
    ) == [(2, 1, True)]
    assert snapshot_rows(
        settings, "select province_locked from fct_province_year where province = 'Lào Cai' and report_year = 2023"
    ) == [(False,)]
    assert snapshot_rows(settings, "select count(*) from fct_awaiting_approval") == [(0,)]


# ------------------------------------------------------------------ 5. escaping and the browser's policy


def test_a_name_holding_markup_is_shown_as_text(site: Site) -> None:
    accounts.create(site.settings, SCRIPT_ACCOUNT)
    assert SCRIPT_ACCOUNT.password is not None
    submitter = logged_in(site.url, SCRIPT_ACCOUNT.username, SCRIPT_ACCOUNT.password)
    staff = logged_in(site.url, "laocai")

    pages = {
        "the submitter's header": submitter.get("/nop-bao-cao"),
        "the late list's contact": staff.get(f"/tinh/{LAO_CAI}?nam=2025"),
    }

    for where, page in pages.items():
        assert page.status_code == 200, where
        assert SCRIPT not in page.text and "<b>840</b>" not in page.text, where
        assert html.escape(SCRIPT, quote=False) in page.text, where
    late = pages["the late list's contact"].text
    assert 'data-unit-key="2025+:commune:02671"' in late  # Phường Cam Đường, with its contact
    assert "0214 3 &lt;b&gt;840&lt;/b&gt;" in late
    contact = [
        row["contact"]
        for row in staff.get(f"/api/tinh/{LAO_CAI}?nam=2025").json()["dashboard"]["late"]
        if row["unit_key"] == "2025+:commune:02671"
    ]
    assert contact == [{"full_name": SCRIPT, "email": SCRIPT_ACCOUNT.email, "phone": SCRIPT_ACCOUNT.phone}]


def test_every_response_carries_the_content_security_policy(site: Site) -> None:
    staff = logged_in(site.url, "laocai")
    bao_thang, _ = submission_of(site.settings, BAO_THANG_FILE)
    with client(site) as anonymous:
        responses = {
            "login page": anonymous.get("/dang-nhap"),
            "anonymous redirect": anonymous.get("/tinh/15"),
            "health": anonymous.get("/suc-khoe"),
            "stylesheet": anonymous.get("/static/portal.css"),
            "API without a session": anonymous.get("/api/tinh/15"),
            "dashboard": staff.get(f"/tinh/{LAO_CAI}"),
            "report page": staff.get(f"/bao-cao/{bao_thang}"),
            "report API": staff.get(f"/api/bao-cao/{bao_thang}"),
            "audit trail": staff.get("/nhat-ky"),
            "another province": staff.get("/tinh/14"),
            "no such report": staff.get("/bao-cao/0000000000000000"),
            "template": staff.get("/mau-bao-cao.xlsx"),
        }
    assert {where: response.status_code for where, response in responses.items()} == {
        "login page": 200,
        "anonymous redirect": 303,
        "health": 200,
        "stylesheet": 200,
        "API without a session": 401,
        "dashboard": 200,
        "report page": 200,
        "report API": 200,
        "audit trail": 200,
        "another province": 403,
        "no such report": 404,
        "template": 200,
    }
    for where, response in responses.items():
        policy = response.headers.get("content-security-policy", "")
        assert "default-src 'self'" in policy and "script-src 'none'" in policy, where
        assert response.headers.get("x-content-type-options") == "nosniff", where


# ------------------------------------------------------------------ 1. login: throttled by name and by address


def test_five_failed_logins_in_a_minute_refuse_even_the_right_password(site: Site) -> None:
    # From an address of its own: the other tests' failed logins from 127.0.0.1 may be under a minute old.
    visitor = "127.0.0.7"
    for _ in range(site.settings.portal.login_attempts_per_minute):
        assert login_attempt(site, "sonla", "mat-khau-sai-roi", from_address=visitor).status_code == 401

    throttled = login_attempt(site, "sonla", PASSWORDS["sonla"], from_address=visitor)

    assert throttled.status_code == 429
    assert web.THROTTLED in visible_text(throttled.text)
    assert security.SESSION_COOKIE not in throttled.headers.get("set-cookie", "")
    assert [row["target"] for row in audit_rows(site.settings, "login_throttled")] == ["sonla"]
