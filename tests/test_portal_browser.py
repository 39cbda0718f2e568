"""The Board's portal used as a person uses it: Debian's Chromium, driven through its chromedriver, against
``chibo serve`` running in its own process on a sample deployment that has had its night and published
(tests/portal_site.py). Every step is asserted on what the page shows (read from the DOM by element ids), and
what the portal wrote (the inbox, its database) is checked behind it; what the page should list is read from the
published snapshot, never written down here.

Each page the flows visit is saved as a PNG: into a temporary folder, or into docs/portal/ (the screenshots of
docs/portal.md) when CHIBO_UPDATE_SCREENSHOTS=1.
"""

from __future__ import annotations

import copy
import hashlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait

from chibo.config import REPO_ROOT, Settings
from chibo.smtp_sink import CollectingHandler, airflow_smtp_connection, smtp_sink
from contract.model import load_contract
from contract.workbook import write_xlsx
from demo.samples import MUONG_NHE_2016, SAMPLE_REPORTS, bao_thang_2024
from pipeline.publish import SNAPSHOT_FILE
from portal import dashboard, security, store, uploads
from portal.web import APPROVAL_LABELS, OUTCOME_LABELS
from tests.browser import driven_chromium, page_png
from tests.portal_site import PASSWORDS, csrf_of, running_portal, sample_deployment

SCREENSHOTS = REPO_ROOT / "docs" / "portal"
NEW_LAO_CAI, SON_LA, YEAR = "15", "14", 2024
WAIT_SECONDS = 30
RECEIPT_NUMBER = re.compile(r"Biên nhận số (BN-\d{4}-\d{6})\b")


@dataclass(frozen=True)
class Site:
    settings: Settings
    base: str
    shots: Path
    mailbox: CollectingHandler  # the SMTP server the portal's connection points at


@dataclass(frozen=True)
class Planted:
    """A mistake planted in a good report: the cell the finding must name (sheet, row, column) is found in the
    uploaded workbook by ``locator`` (the row's key value: an organisation code, or a tong_hop header)."""

    sheet: str
    locator: str
    column: str


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    base = tmp_path_factory.mktemp("portal-site")
    settings, variables = sample_deployment(base)
    update = os.environ.get("CHIBO_UPDATE_SCREENSHOTS") == "1"
    shots = SCREENSHOTS if update else tmp_path_factory.mktemp("screenshots")
    with smtp_sink() as (port, mailbox):
        smtp = {f"AIRFLOW_CONN_{settings.smtp_conn_id.upper()}": airflow_smtp_connection(port)}
        with running_portal({**variables, **smtp}, base / "serve.log") as url:
            yield Site(settings, url, shots, mailbox)


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    with driven_chromium() as driver:
        yield driver


# ------------------------------------------------------------------ what a person does


def open_page(driver: WebDriver, site: Site, path: str) -> None:
    driver.get(site.base + path)


def press(driver: WebDriver, button: WebElement, then_id: str) -> None:
    """Click ``button`` and wait for the next page, which has an element ``then_id``."""
    before = driver.find_element(By.TAG_NAME, "html")
    button.click()
    wait = WebDriverWait(driver, WAIT_SECONDS)
    wait.until(expected_conditions.staleness_of(before))
    wait.until(expected_conditions.presence_of_element_located((By.ID, then_id)))


def log_in(driver: WebDriver, username: str, then_id: str) -> None:
    """Fill the login form the browser shows and send it."""
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(PASSWORDS[username])
    press(driver, driver.find_element(By.CSS_SELECTOR, "#login-form button[type=submit]"), then_id)


def upload(driver: WebDriver, path: Path) -> None:
    driver.find_element(By.ID, "file").send_keys(str(path))
    press(driver, driver.find_element(By.CSS_SELECTOR, "#upload-form button[type=submit]"), "outcome")


def classes_of(element: WebElement) -> list[str]:
    return (element.get_attribute("class") or "").split()


def text_of(driver: WebDriver, element_id: str) -> str:
    return driver.find_element(By.ID, element_id).text


def rows_of(driver: WebDriver, selector: str) -> list[list[str]]:
    return [
        [cell.text.strip() for cell in row.find_elements(By.TAG_NAME, "td")]
        for row in driver.find_elements(By.CSS_SELECTOR, selector)
    ]


def shoot(driver: WebDriver, site: Site, name: str) -> None:
    png = page_png(driver, site.shots / f"{name}.png")
    assert png.stat().st_size > 10_000, f"{png} is blank"


def session_client(driver: WebDriver, site: Site) -> httpx.Client:
    """An HTTP client holding the browser's own session cookie (what a forged page would ride on)."""
    cookie = driver.get_cookie(security.SESSION_COOKIE)
    assert cookie is not None, "the browser holds no session"
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict", cookie
    return httpx.Client(
        base_url=site.base, cookies={security.SESSION_COOKIE: cookie["value"]}, follow_redirects=False, timeout=60
    )


# ------------------------------------------------------------------ what the deployment holds


def snapshot_rows(settings: Settings, sql: str, parameters: list[Any] | None = None) -> list[tuple[Any, ...]]:
    connection = dashboard.open_snapshot(settings.publish)
    assert connection is not None and (settings.publish / SNAPSHOT_FILE).is_file(), "nothing published"
    try:
        return connection.execute(sql, parameters or []).fetchall()
    finally:
        connection.close()


def provinces_of_submissions(settings: Settings) -> list[tuple[str, str | None]]:
    """Every published submission of a known committee and the current province it belongs to."""
    connection = dashboard.open_snapshot(settings.publish)
    assert connection is not None, "nothing published"
    try:
        ids = connection.execute("select submission_id from main.fct_submissions where committee_key is not null")
        return [(id_, dashboard.current_province_of_submission(connection, id_)) for (id_,) in ids.fetchall()]
    finally:
        connection.close()


def committee_of(settings: Settings, username: str) -> store.Account:
    with store.transaction(settings) as connection:
        found = store.account_by_name(connection, username)
    assert found is not None, username
    return found[0]


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def inbox_files(settings: Settings) -> list[Path]:
    return sorted(path for path in settings.inbox.iterdir() if path.is_file())


# ------------------------------------------------------------------ the reports a submitter sends

MISTAKES = (
    Planted("to_chuc_co_so", "BT03", "members_total"),  # probationary − 2: to_chuc_co_so.members_split
    Planted("to_chuc_co_so", "BT01", "branches_declared"),  # one branch more than chi_bo lists: .branch_rows
    Planted("tong_hop", "branches_total", "branches_total"),  # a total one too high: tong_hop.matches_detail
)


def with_three_mistakes(report: dict[str, Any]) -> dict[str, Any]:
    """Bảo Thắng 2024 with three errors, each of a rule whose severity is ``error``, each found once."""
    report = copy.deepcopy(report)
    organisations = {org["org_code"]: org for org in report["to_chuc_co_so"]}
    organisations["BT03"]["members_probationary"] -= 2
    organisations["BT01"]["branches_declared"] += 1
    report["tong_hop"]["branches_total"] += 1
    return report


def fixed(report: dict[str, Any]) -> dict[str, Any]:
    """The same report without the mistakes, signed by another preparer: other bytes than the sample's."""
    report = copy.deepcopy(report)
    report["thong_tin"]["preparer"] = "Nguyễn Thị Lan"
    return report


def expected_cell(workbook: Path, planted: Planted) -> tuple[str, str, str]:
    """(sheet, row number, column) of a planted mistake as the page names them (the contract's titles and headers),
    the row found in the workbook as a person would find it."""
    sheet = load_contract().sheet(planted.sheet)
    locator = sheet.field(planted.locator).header if sheet.layout == "key_value" else planted.locator
    rows = load_workbook(workbook, read_only=True)[planted.sheet].iter_rows(values_only=True)
    [number] = [number for number, cells in enumerate(rows, start=1) if locator in cells]
    return sheet.title, str(number), sheet.field(planted.column).header


# ------------------------------------------------------------------ 1. a submitter


def test_submitter_reads_the_findings_then_gets_a_receipt(site: Site, browser: WebDriver, tmp_path: Path) -> None:
    sample = bao_thang_2024()
    wrong = write_xlsx(tmp_path / "Báo cáo Bảo Thắng 2024 (bản có lỗi).xlsx", with_three_mistakes(sample))
    right = write_xlsx(tmp_path / "Báo cáo Bảo Thắng 2024 (đã sửa).xlsx", fixed(sample))
    in_warehouse = {path.stem for path in site.settings.archive.iterdir()}  # archived by sha256
    assert in_warehouse and sha256_of(right) not in in_warehouse and sha256_of(wrong) not in in_warehouse
    inbox_before = inbox_files(site.settings)

    open_page(browser, site, "/")
    assert browser.find_element(By.ID, "login-form").is_displayed()
    shoot(browser, site, "login")
    log_in(browser, "baothang", then_id="upload-form")
    assert "Đảng bộ huyện Bảo Thắng" in browser.find_element(By.TAG_NAME, "h1").text
    shoot(browser, site, "upload-form")

    upload(browser, wrong)
    outcome = browser.find_element(By.ID, "outcome")
    assert outcome.text == OUTCOME_LABELS["rejected"] and "rejected" in classes_of(outcome)
    assert not browser.find_elements(By.ID, "receipt-number")
    findings = browser.find_elements(By.CSS_SELECTOR, "#findings tbody tr")
    assert [classes_of(row) for row in findings] == [["finding", "error"]] * 3
    shown = {tuple(cells[1:4]) for cells in rows_of(browser, "#findings tbody tr")}  # Trang, Dòng, Cột
    assert shown == {expected_cell(wrong, planted) for planted in MISTAKES}
    assert all(cells[0] == "Lỗi" and cells[5] for cells in rows_of(browser, "#findings tbody tr"))
    marked = browser.find_element(By.ID, "marked-workbook")
    assert re.search(r"/ket-qua/\d+/bao-cao-danh-dau\.xlsx$", marked.get_attribute("href") or "")
    shoot(browser, site, "rejected-verdict")

    open_page(browser, site, "/nop-bao-cao")
    upload(browser, right)
    assert text_of(browser, "outcome") == OUTCOME_LABELS["accepted"]
    found = RECEIPT_NUMBER.search(text_of(browser, "receipt-number"))
    assert found, text_of(browser, "receipt-number")
    number = found[1]
    assert not browser.find_elements(By.CSS_SELECTOR, "#findings tr.error")
    shoot(browser, site, "receipt")

    landed = [path for path in inbox_files(site.settings) if path not in inbox_before]
    assert [path.name for path in landed] == [uploads.inbox_name(number, right.name)]  # exactly once
    assert landed[0].read_bytes() == right.read_bytes()
    assert not [path for path in site.settings.inbox.iterdir() if path.name.startswith(".")]  # no half file
    assert sha256_of(wrong) not in {sha256_of(path) for path in inbox_files(site.settings)}

    open_page(browser, site, "/bao-cao-cua-toi")
    listed = {cells[2]: cells for cells in rows_of(browser, "#receipts tbody tr")}
    assert listed[right.name][0] == number and listed[right.name][4] == OUTCOME_LABELS["accepted"]
    assert listed[wrong.name][4] == OUTCOME_LABELS["rejected"] and "BN-" not in listed[wrong.name][0]
    shoot(browser, site, "my-reports")


# ------------------------------------------------------------------ 2. provincial staff


def test_staff_approves_a_report_and_locks_the_year(site: Site, browser: WebDriver) -> None:
    late_statuses = list(dashboard.LATE_STATUSES)
    era_codes = list(store.era_province_codes(NEW_LAO_CAI, YEAR))
    late_in_mart = {
        unit_key
        for (unit_key,) in snapshot_rows(
            site.settings,
            "select unit_key from main.fct_reporting_status "
            "where report_year = ? and list_contains(?, status) and list_contains(?, province_code)",
            [YEAR, late_statuses, era_codes],
        )
    }
    bao_thang = committee_of(site.settings, "baothang")
    [(submission_id,)] = snapshot_rows(
        site.settings,
        "select submission_id from main.fct_submissions "
        "where committee_key = ? and report_year = ? and outcome = 'accepted'",
        [bao_thang.committee_key, YEAR],
    )

    open_page(browser, site, f"/tinh/{NEW_LAO_CAI}?nam={YEAR}")
    log_in(browser, "laocai", then_id="late-list")  # back to the page asked for
    assert "Lào Cai" in browser.find_element(By.TAG_NAME, "h1").text
    assert browser.find_element(By.CSS_SELECTOR, "#year-select [aria-current=page]").text == str(YEAR)
    late_rows = browser.find_elements(By.CSS_SELECTOR, "#late-list tbody tr[data-unit-key]")
    assert late_in_mart and {row.get_attribute("data-unit-key") for row in late_rows} == late_in_mart
    [bao_thang_row] = [row for row in late_rows if row.get_attribute("data-unit-key") == bao_thang.committee_key]
    assert bao_thang.email and bao_thang.email in bao_thang_row.text  # how to reach them

    link = browser.find_element(By.CSS_SELECTOR, f"#submissions a[href='/bao-cao/{submission_id}']")
    press(browser, link, then_id="versions")
    assert browser.find_element(By.ID, "findings").is_displayed()
    current = browser.find_elements(By.CSS_SELECTOR, "#versions tr[aria-current=page]")
    assert len(current) == 1 and f"/bao-cao/{submission_id}" in (current[0].get_attribute("innerHTML") or "")
    assert APPROVAL_LABELS[None] in text_of(browser, "approval")
    press(browser, browser.find_element(By.CSS_SELECTOR, "#approve-form button[type=submit]"), then_id="approval")
    approval = text_of(browser, "approval")
    assert APPROVAL_LABELS["approved"] in approval and "bởi laocai" in approval, approval
    flash = browser.find_element(By.CSS_SELECTOR, "p.flash")
    assert "ok" in classes_of(flash), flash.text
    assert flash.text.startswith("Đã phê duyệt báo cáo.") and bao_thang.email in flash.text
    [mail] = [item.message for item in site.mailbox.received if bao_thang.email in item.envelope_to]
    assert f"năm {YEAR}" in str(mail["Subject"]) and f"/bao-cao/{submission_id}" in mail.get_content()
    shoot(browser, site, "report")

    press(browser, browser.find_element(By.LINK_TEXT, "Tổng quan tỉnh"), then_id="year-select")
    press(browser, browser.find_element(By.CSS_SELECTOR, f"#year-select a[href='?nam={YEAR}']"), "late-list")
    browser.find_element(By.ID, "lock-comment").send_keys("Số liệu năm 2024 đã đủ, đã đối chiếu.")
    press(browser, browser.find_element(By.CSS_SELECTOR, "#lock-form button[type=submit]"), then_id="unlock-form")
    assert "Đã chốt" in text_of(browser, "lock") and "laocai" in text_of(browser, "lock")
    assert not browser.find_elements(By.ID, "lock-form")
    with store.transaction(site.settings) as connection:
        history = store.lock_history(connection, NEW_LAO_CAI, YEAR)
    assert [(row["locked"], row["username"]) for row in history] == [(True, "laocai")]
    shoot(browser, site, "dashboard")

    press(browser, browser.find_element(By.LINK_TEXT, "Nhật ký thao tác"), then_id="audit")
    trail = {(cells[1], cells[2], cells[3]) for cells in rows_of(browser, "#audit tbody tr")}
    assert ("laocai", "Phê duyệt báo cáo", submission_id) in trail
    assert ("laocai", "Chốt số liệu", f"{NEW_LAO_CAI}/{YEAR}") in trail
    shoot(browser, site, "audit-trail")


# ------------------------------------------------------------------ 3. access


def test_staff_see_only_their_province_and_forms_need_their_token(site: Site, browser: WebDriver) -> None:
    open_page(browser, site, f"/tinh/{NEW_LAO_CAI}")
    assert browser.find_element(By.ID, "login-form").is_displayed()  # anonymous: sent to log in
    assert not browser.find_elements(By.ID, "late-list")
    log_in(browser, "laocai", then_id="year-select")

    open_page(browser, site, f"/tinh/{SON_LA}")
    error = browser.find_element(By.ID, "error")
    assert error.get_attribute("data-status") == "403" and not browser.find_elements(By.ID, "late-list")
    shoot(browser, site, "forbidden")

    submissions = provinces_of_submissions(site.settings)
    elsewhere = [submission_id for submission_id, province in submissions if province != NEW_LAO_CAI]
    at_home = [submission_id for submission_id, province in submissions if province == NEW_LAO_CAI]
    assert at_home, submissions
    [muong_nhe_file] = [sample.file_name for sample in SAMPLE_REPORTS if sample.spec == MUONG_NHE_2016]
    [(muong_nhe, muong_nhe_province)] = snapshot_rows(
        site.settings,
        "select submission_id, province from main.fct_submissions where file_name = ?",
        [muong_nhe_file],
    )
    assert muong_nhe in elsewhere, (muong_nhe_province, submissions)  # Điện Biên's, then and now

    with session_client(browser, site) as client:
        assert client.get(f"/api/tinh/{SON_LA}").status_code == 403
        assert client.get(f"/api/tinh/{NEW_LAO_CAI}").status_code == 200
        for submission_id in elsewhere:
            assert client.get(f"/api/bao-cao/{submission_id}").status_code == 403, submission_id
        for submission_id in at_home:
            assert client.get(f"/api/bao-cao/{submission_id}").status_code == 200, submission_id

        locking = f"/tinh/{NEW_LAO_CAI}/2023/chot"
        assert client.post(locking, data={"comment": "giả mạo"}).status_code == 403  # no token
        assert client.post(locking, data={"comment": "giả mạo", "csrf_token": "sai"}).status_code == 403
        with store.transaction(site.settings) as connection:
            assert store.lock_history(connection, NEW_LAO_CAI, 2023) == []
        token = csrf_of(client.get(f"/tinh/{NEW_LAO_CAI}?nam=2023").text)  # the same form with its token
        assert client.post(locking, data={"comment": "", "csrf_token": token}).status_code == 303
        with store.transaction(site.settings) as connection:
            assert [row["locked"] for row in store.lock_history(connection, NEW_LAO_CAI, 2023)] == [True]

    open_page(browser, site, f"/bao-cao/{muong_nhe}")
    assert browser.find_element(By.ID, "error").get_attribute("data-status") == "403"
