"""The Board's portal: one FastAPI application (``chibo serve``), in Vietnamese (docs/portal.md).

Submitters check and send their committee's report; provincial staff see their province, approve or return
reports and lock a year; operators see everything. Pages are rendered on the server (Jinja2, autoescaped);
the only static files are the application's own stylesheets, so it works with no internet. What the night
published (``<publish>/chibo.duckdb``, opened read-only per request: the portal never waits for the night's
writer) feeds the dashboards and report pages; the portal's own database (portal/store.py) holds accounts,
sessions, receipts, approvals, locks and the audit trail. Who may see what is decided in portal/security.py.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

from fastapi import FastAPI, Form, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from chibo.config import VIETNAM, Settings
from ingestion.intake import fingerprint
from portal import dashboard, security, store, uploads
from portal.store import Account
from reading.guards import Limits

log = logging.getLogger(__name__)

HERE: Final = Path(__file__).resolve().parent
TEMPLATE_MEDIA_TYPE: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
OUTCOME_LABELS: Final = {
    "accepted": "Đạt — đã nhận",
    "held": "Tạm giữ — đã nhận, chờ kiểm tra lại",
    "rejected": "Chưa đạt — cần sửa và nộp lại",
    "refused": "Không nhận",
}
APPROVAL_LABELS: Final = {"approved": "Đã phê duyệt", "returned": "Đã trả lại", None: "Chờ phê duyệt"}
ACTION_LABELS: Final = {  # the audit trail's actions, as staff read them (the code stays in the database)
    "login": "Đăng nhập",
    "login_failed": "Đăng nhập sai",
    "login_throttled": "Bị chặn đăng nhập (sai quá nhiều lần)",
    "logout": "Đăng xuất",
    "upload": "Nộp báo cáo",
    "upload_refused": "Nộp báo cáo, không nhận",
    "approved": "Phê duyệt báo cáo",
    "returned": "Trả lại báo cáo",
    "lock": "Chốt số liệu",
    "unlock": "Mở chốt số liệu",
    "mail": "Gửi thư cho đơn vị",
    "account_created": "Tạo tài khoản",
}


class LoginRequired(Exception):
    """An anonymous visitor asked for a page: they are sent to the login page."""


# ------------------------------------------------------------------ request helpers


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def session_token(request: Request) -> str | None:
    return request.cookies.get(security.SESSION_COOKIE)


def current(request: Request) -> tuple[Account, str] | None:
    token = session_token(request)
    if not token:
        return None
    with store.transaction(request.app.state.settings) as connection:
        return store.session_for(connection, token)


def viewer_of(request: Request) -> tuple[Account, str]:
    """The logged-in account and its CSRF token; ``LoginRequired`` (pages) or 401 (API) otherwise."""
    found = current(request)
    if found is None:
        if request.url.path.startswith("/api/"):
            raise HTTPException(401, "Chưa đăng nhập.")
        raise LoginRequired()
    return found


def check_csrf(expected: str, given: str | None) -> None:
    if not security.same_token(expected, given):
        raise HTTPException(403, "Biểu mẫu không hợp lệ hoặc đã hết hạn (thiếu mã chống giả mạo). Hãy tải lại trang.")


def forbidden() -> HTTPException:
    return HTTPException(403, "Tài khoản của đồng chí không có quyền xem hoặc thao tác trên trang này.")


def audit(request: Request, account: Account | None, action: str, target: str | None, detail: str | None) -> None:
    with store.transaction(request.app.state.settings) as connection:
        store.record_audit(connection, account, action, target, detail, client_address(request))


def jsonable(value: Any) -> Any:
    if isinstance(value, Account):  # a contact in the late list: how to reach them, nothing of the account
        return {"full_name": value.full_name, "email": value.email, "phone": value.phone}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):  # not asdict: it would open an Account
        return {field.name: jsonable(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


# ------------------------------------------------------------------ the application


def create_app(settings: Settings, warm: bool = True) -> FastAPI:
    """The portal for this deployment. ``warm``: start warming the checker (GX, the empty warehouse) at start-up."""
    store.migrate(settings)
    verdicts = uploads.Verdicts(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if warm:
            threading.Thread(target=verdicts.warm_up, name="chibo-warm-up", daemon=True).start()
        yield

    app = FastAPI(title="chibo", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.settings = settings
    app.state.verdicts = verdicts
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    templates = page_templates()
    app.state.templates = templates

    def page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
        found = current(request)
        base: dict[str, Any] = {"viewer": None, "csrf_token": "", "role_label": ""}
        if found is not None:
            viewer, csrf = found
            base = {"viewer": viewer, "csrf_token": csrf, "role_label": store.ROLE_LABELS[viewer.role]}
        base["flash"] = request.query_params.get("thong-bao")
        base["flash_kind"] = request.query_params.get("loai")
        response = templates.TemplateResponse(request, name, {**base, **context}, status_code=status_code)
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Callable[[Request], Any]) -> Response:
        response: Response = await call_next(request)
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'none'; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, _: LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/dang-nhap?next={quote(target, safe='')}", status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"loi": error.detail}, status_code=error.status_code)
        return page(request, "error.html", {"status": error.status_code, "message": error.detail}, error.status_code)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> Response:
        log.exception("%s %s failed", request.method, request.url.path)
        if request.url.path.startswith("/api/"):
            return JSONResponse({"loi": UNEXPECTED}, status_code=500)
        return page(request, "error.html", {"status": 500, "message": UNEXPECTED}, 500)

    # -------------------------------------------------------------- login

    @app.get("/dang-nhap", response_class=HTMLResponse)
    async def login_form(request: Request, next: str = "/") -> Response:
        csrf = request.cookies.get(security.LOGIN_CSRF_COOKIE) or security.secrets.token_urlsafe(32)
        response = page(request, "login.html", {"login_csrf": csrf, "next": safe_next(next)})
        set_cookie(response, security.LOGIN_CSRF_COOKIE, csrf, settings, max_age=3600)
        return response

    def login_again(request: Request, csrf_token: str, next: str, error: str, status_code: int) -> Response:
        """The login form again, with why the attempt was refused."""
        context = {"login_csrf": csrf_token, "next": safe_next(next), "error": error}
        return page(request, "login.html", context, status_code=status_code)

    @app.post("/dang-nhap")
    async def login(
        request: Request,
        username: str = Form(""),
        password: str = Form(""),
        csrf_token: str = Form(""),
        next: str = Form("/"),
    ) -> Response:
        check_csrf(request.cookies.get(security.LOGIN_CSRF_COOKIE) or "", csrf_token)
        address, username = client_address(request), username.strip()
        limit = settings.portal.login_attempts_per_minute
        with store.transaction(settings) as connection:
            if store.recent_failures(connection, username, address) >= limit:
                store.record_audit(connection, None, "login_throttled", username, None, address)
                return login_again(request, csrf_token, next, THROTTLED, 429)
            found = store.account_by_name(connection, username)
        account, password_hash = found if found is not None else (None, security.DUMMY_HASH)
        verified = await asyncio.to_thread(security.verify_password, password_hash, password)
        succeeded = verified and account is not None and account.active
        with store.transaction(settings) as connection:
            store.record_attempt(connection, username, address, succeeded)
            if not succeeded or account is None:
                store.record_audit(connection, None, "login_failed", username, None, address)
                return login_again(request, csrf_token, next, WRONG_LOGIN, 401)
            if security.needs_rehash(password_hash):
                connection.execute(
                    store.accounts.update()
                    .where(store.accounts.c.account_id == account.account_id)
                    .values(password_hash=security.hash_password(password))
                )
            token, _ = store.open_session(connection, account.account_id, address)
            store.record_audit(connection, account, "login", account.username, None, address)
        response = RedirectResponse(safe_next(next), status_code=303)
        set_cookie(response, security.SESSION_COOKIE, token, settings, max_age=store.SESSION_HOURS * 3600)
        response.delete_cookie(security.LOGIN_CSRF_COOKIE, path="/")
        return response

    @app.post("/dang-xuat")
    async def logout(request: Request, csrf_token: str = Form("")) -> Response:
        viewer, csrf = viewer_of(request)
        check_csrf(csrf, csrf_token)
        with store.transaction(settings) as connection:
            store.close_session(connection, session_token(request) or "")
            store.record_audit(connection, viewer, "logout", viewer.username, None, client_address(request))
        response = RedirectResponse("/dang-nhap", status_code=303)
        response.delete_cookie(security.SESSION_COOKIE, path="/")
        return response

    @app.get("/")
    async def home(request: Request) -> Response:
        viewer, _ = viewer_of(request)
        if viewer.role == "submitter":
            return RedirectResponse("/nop-bao-cao", status_code=303)
        return RedirectResponse("/tinh", status_code=303)

    # -------------------------------------------------------------- submitters

    @app.get("/mau-bao-cao.xlsx")
    async def template_file(request: Request) -> Response:
        viewer_of(request)
        return FileResponse(blank_template(settings), media_type=TEMPLATE_MEDIA_TYPE, filename="mau_bao_cao.xlsx")

    @app.get("/nop-bao-cao", response_class=HTMLResponse)
    async def upload_form(request: Request) -> Response:
        viewer, _ = viewer_of(request)
        if viewer.role != "submitter":
            raise forbidden()
        return page(request, "upload.html", {"max_mib": settings.limits.max_file_bytes // (1024 * 1024)})

    @app.post("/nop-bao-cao")
    async def upload(request: Request, file: UploadFile, csrf_token: str = Form("")) -> Response:
        viewer, csrf = viewer_of(request)
        check_csrf(csrf, csrf_token)
        if viewer.role != "submitter" or not viewer.committee_key:
            raise forbidden()
        receipt_id = await asyncio.to_thread(take_upload, request, viewer, file)
        return RedirectResponse(f"/ket-qua/{receipt_id}", status_code=303)

    def take_upload(request: Request, viewer: Account, file: UploadFile) -> int:
        started = time.perf_counter()
        name = file.filename or "bao-cao.xlsx"
        with tempfile.TemporaryDirectory(prefix="chibo-upload-") as folder:
            kept = Path(folder) / uploads.safe_name(name)
            size = read_limited(file, kept, settings.limits.max_file_bytes)
            if size is None:
                return record_refusal(request, viewer, name, TOO_LARGE.format(mib=settings.limits.max_file_bytes >> 20))
            [checked] = verdicts.check([kept])
            return record_upload(request, viewer, name, kept, checked, time.perf_counter() - started)

    def record_refusal(request: Request, viewer: Account, name: str, message: str) -> int:
        assert viewer.committee_key is not None
        finding = {"severity": "error", "sheet": None, "sheet_row": None, "field": None, "message": message}
        with store.transaction(settings) as connection:
            receipt_id = store.insert_receipt(
                connection,
                {
                    "account_id": viewer.account_id,
                    "committee_key": viewer.committee_key,
                    "file_name": name,
                    "sha256": "",
                    "outcome": "refused",
                    "findings": [finding],
                    "address": client_address(request),
                },
            )
            store.record_audit(connection, viewer, "upload_refused", name, message, client_address(request))
        return receipt_id

    def record_upload(request: Request, viewer: Account, name: str, kept: Path, checked: Any, seconds: float) -> int:
        assert viewer.committee_key is not None
        identity, outcome = checked.identity, checked.outcome
        findings = [finding_row(finding) for finding in outcome.findings]
        verdict = outcome.outcome
        if identity.committee_key is not None and identity.committee_key != viewer.committee_key:
            verdict = "refused"
            findings.insert(0, other_committee_finding(identity, viewer))
        elif identity.committee_key is None and verdict != "rejected":
            verdict = "refused" if verdict != "accepted" else verdict
        sha256 = identity.sha256 or fingerprint(kept)  # intake's own hash, as the night registers it
        address = client_address(request)
        with store.transaction(settings) as connection:
            earlier = store.landed_receipt(connection, viewer.committee_key, sha256)
            receipt_id = store.insert_receipt(
                connection,
                {
                    "account_id": viewer.account_id,
                    "committee_key": viewer.committee_key,
                    "report_year": identity.report_year,
                    "file_name": name,
                    "sha256": sha256,
                    "submission_id": outcome.submission_id or None,
                    "outcome": verdict,
                    "findings": findings,
                    "address": address,
                },
            )
            number = store.receipt_number(receipt_id, store.now())
            kept_folder = uploads.upload_folder(settings, receipt_id)
            kept_folder.mkdir(parents=True, exist_ok=True)
            kept_copy = kept_folder / kept.name
            kept_copy.write_bytes(kept.read_bytes())
            landed_as = None
            if verdict in uploads.LANDING_OUTCOMES and earlier is None:
                landed_as = uploads.land(kept_copy, settings.inbox, uploads.inbox_name(number, name)).name
            elif verdict in uploads.LANDING_OUTCOMES and earlier is not None:
                landed_as = earlier["inbox_name"]
            connection.execute(
                store.receipts.update().where(store.receipts.c.receipt_id == receipt_id).values(inbox_name=landed_as)
            )
            detail = f"{verdict}; {len(findings)} finding(s); {seconds:.2f} s"
            if earlier is not None and landed_as is not None:
                detail += f"; same bytes as receipt {earlier['receipt_id']}, not landed twice"
            store.record_audit(connection, viewer, "upload", name, detail, address)
        if findings:
            mark_workbook(kept_copy, findings, kept_folder / MARKED_NAME, settings.limits)
        log.info("upload %s from %s: %s in %.2f s", name, viewer.username, verdict, seconds)
        return receipt_id

    @app.get("/ket-qua/{receipt_id}", response_class=HTMLResponse)
    async def receipt_page(request: Request, receipt_id: int) -> Response:
        viewer, _ = viewer_of(request)
        row = visible_receipt(request, viewer, receipt_id)
        marked = (uploads.upload_folder(settings, receipt_id) / MARKED_NAME).is_file()
        number = store.receipt_number(row["receipt_id"], row["created_at"])
        return page(request, "receipt.html", {"receipt": row, "number": number, "marked": marked})

    @app.get("/ket-qua/{receipt_id}/bao-cao-danh-dau.xlsx")
    async def marked_file(request: Request, receipt_id: int) -> Response:
        viewer, _ = viewer_of(request)
        visible_receipt(request, viewer, receipt_id)
        path = uploads.upload_folder(settings, receipt_id) / MARKED_NAME
        if not path.is_file():
            raise HTTPException(404, "Không có bảng tính đánh dấu cho lần nộp này.")
        return FileResponse(path, media_type=TEMPLATE_MEDIA_TYPE, filename=f"danh-dau-{receipt_id}.xlsx")

    def visible_receipt(request: Request, viewer: Account, receipt_id: int) -> dict[str, Any]:
        with store.transaction(settings) as connection:
            row = store.receipt(connection, receipt_id)
        if row is None:
            raise HTTPException(404, "Không tìm thấy lần nộp này.")
        if viewer.role == "submitter" and row["committee_key"] != viewer.committee_key:
            raise forbidden()
        if viewer.role == "staff":
            with snapshot(settings) as connection:
                province = (
                    dashboard.current_province_of_committee(connection, row["committee_key"]) if connection else None
                )
            if not security.sees_province(viewer, province):
                raise forbidden()
        return row

    @app.get("/bao-cao-cua-toi", response_class=HTMLResponse)
    async def my_reports(request: Request) -> Response:
        viewer, _ = viewer_of(request)
        if viewer.role != "submitter" or not viewer.committee_key:
            raise forbidden()
        with store.transaction(settings) as connection:
            receipts = store.receipts_of_committee(connection, viewer.committee_key)
        with snapshot(settings) as connection:
            submissions = dashboard.committee_submissions(connection, viewer.committee_key) if connection else []
        ids = [submission.submission_id for submission in submissions]
        with store.transaction(settings) as connection:
            decisions = store.latest_approvals(connection, ids)
        numbers = {row["receipt_id"]: store.receipt_number(row["receipt_id"], row["created_at"]) for row in receipts}
        return page(
            request,
            "my_reports.html",
            {"receipts": receipts, "numbers": numbers, "submissions": submissions, "decisions": decisions},
        )

    # -------------------------------------------------------------- staff

    @app.get("/tinh", response_class=HTMLResponse)
    async def provinces(request: Request) -> Response:
        viewer, _ = viewer_of(request)
        if viewer.role == "staff" and viewer.province_code:
            return RedirectResponse(f"/tinh/{viewer.province_code}", status_code=303)
        if viewer.role != "operator":
            raise forbidden()
        with snapshot(settings) as connection:
            choices = dashboard.current_provinces(connection) if connection else []
        return page(request, "provinces.html", {"provinces": choices})

    def province_context(request: Request, viewer: Account, province_code: str, year: int | None) -> dict[str, Any]:
        if not security.sees_province(viewer, province_code):
            raise forbidden()
        with store.transaction(settings) as connection:
            contacts = store.submitter_contacts(connection)
        with snapshot(settings) as connection:
            if connection is None:
                raise HTTPException(503, NOTHING_PUBLISHED)
            board = dashboard.province_dashboard(connection, province_code, year, contacts)
        with store.transaction(settings) as connection:
            history = store.lock_history(connection, province_code, board.report_year) if board.report_year else []
        lock = history[-1] if history else None
        return {
            "dashboard": board,
            "lock": lock,
            "lock_history": history,
            "can_lock": security.decides_for(viewer, province_code),
            "province_code": province_code,
            "report_year": board.report_year,
        }

    @app.get("/tinh/{province_code}", response_class=HTMLResponse)
    async def province_page(request: Request, province_code: str, nam: int | None = None) -> Response:
        viewer, _ = viewer_of(request)
        started = time.perf_counter()
        context = await asyncio.to_thread(province_context, request, viewer, province_code, nam)
        response = page(request, "dashboard.html", context)
        response.headers["Server-Timing"] = f"dashboard;dur={(time.perf_counter() - started) * 1000:.0f}"
        return response

    @app.get("/api/tinh/{province_code}")
    async def province_api(request: Request, province_code: str, nam: int | None = None) -> Response:
        viewer, _ = viewer_of(request)
        context = await asyncio.to_thread(province_context, request, viewer, province_code, nam)
        return JSONResponse(jsonable({key: context[key] for key in ("dashboard", "lock", "report_year")}))

    @app.get("/tinh/{province_code}/{report_year}/bao-cao-tong-hop.xlsx")
    async def province_report_file(request: Request, province_code: str, report_year: int) -> Response:
        """The province's consolidated report for the year (restated onto today's province), as the official form:
        for the province's own staff only."""
        viewer, _ = viewer_of(request)
        if viewer.role != "staff" or not security.sees_province(viewer, province_code):
            raise forbidden()
        content = await asyncio.to_thread(consolidated_report, settings, province_code, report_year)
        name = f"bao-cao-tong-hop_{province_code}_{report_year}.xlsx"
        return Response(
            content,
            media_type=TEMPLATE_MEDIA_TYPE,
            headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
        )

    @app.post("/tinh/{province_code}/{report_year}/chot")
    async def lock_year(
        request: Request, province_code: str, report_year: int, csrf_token: str = Form(""), comment: str = Form("")
    ) -> Response:
        return change_lock(request, province_code, report_year, True, csrf_token, comment)

    @app.post("/tinh/{province_code}/{report_year}/mo-chot")
    async def unlock_year(
        request: Request, province_code: str, report_year: int, csrf_token: str = Form(""), comment: str = Form("")
    ) -> Response:
        return change_lock(request, province_code, report_year, False, csrf_token, comment)

    def change_lock(
        request: Request, province_code: str, report_year: int, locked: bool, csrf_token: str, comment: str
    ) -> Response:
        viewer, csrf = viewer_of(request)
        check_csrf(csrf, csrf_token)
        if not security.decides_for(viewer, province_code):
            raise forbidden()
        comment = comment.strip()
        back = f"/tinh/{province_code}?nam={report_year}"
        if not locked and not comment:
            return RedirectResponse(back + "&loai=error&thong-bao=" + quote(UNLOCK_NEEDS_REASON), status_code=303)
        with store.transaction(settings) as connection:
            history = store.lock_history(connection, province_code, report_year)
            if bool(history and history[-1]["locked"]) == locked:
                message = ALREADY_LOCKED if locked else NOT_LOCKED
                return RedirectResponse(back + "&loai=error&thong-bao=" + quote(message), status_code=303)
            store.record_lock(connection, province_code, report_year, locked, comment or None, viewer)
            store.record_audit(
                connection,
                viewer,
                "lock" if locked else "unlock",
                f"{province_code}/{report_year}",
                comment or None,
                client_address(request),
            )
        message = LOCKED.format(year=report_year) if locked else UNLOCKED.format(year=report_year)
        return RedirectResponse(back + "&loai=ok&thong-bao=" + quote(message), status_code=303)

    def report_context(request: Request, viewer: Account, submission_id: str) -> dict[str, Any]:
        with snapshot(settings) as connection:
            if connection is None:
                raise HTTPException(503, NOTHING_PUBLISHED)
            report = dashboard.report_detail(connection, submission_id)
            province = dashboard.current_province_of_submission(connection, submission_id)
        if report is None:
            raise HTTPException(404, REPORT_NOT_FOUND)
        if not security.sees_committee(viewer, report.submission.committee_key, province):
            raise forbidden()
        with store.transaction(settings) as connection:
            history = store.approval_history(connection, [submission_id])
            year = report.submission.report_year
            locks = store.lock_history(connection, province, year) if province and year else []
            receipt_rows = connection.execute(
                store.receipts.select().where(store.receipts.c.submission_id == submission_id)
            ).mappings()
            receipt = next((dict(row) for row in receipt_rows), None)
        if receipt is not None:
            receipt["number"] = store.receipt_number(receipt["receipt_id"], receipt["created_at"])
        return {
            "report": report,
            "approval": history[-1] if history else None,
            "approval_history": history,
            "can_decide": security.decides_for(viewer, province) and report.submission.outcome == "accepted",
            "locked": bool(locks and locks[-1]["locked"]),
            "receipt": receipt,
            "province_code": province,
        }

    @app.get("/bao-cao/{submission_id}", response_class=HTMLResponse)
    async def report_page(request: Request, submission_id: str) -> Response:
        viewer, _ = viewer_of(request)
        context = await asyncio.to_thread(report_context, request, viewer, submission_id)
        return page(request, "report.html", context)

    @app.get("/api/bao-cao/{submission_id}")
    async def report_api(request: Request, submission_id: str) -> Response:
        viewer, _ = viewer_of(request)
        context = await asyncio.to_thread(report_context, request, viewer, submission_id)
        return JSONResponse(jsonable({key: context[key] for key in ("report", "approval", "locked")}))

    @app.post("/bao-cao/{submission_id}/duyet")
    async def approve(
        request: Request, submission_id: str, csrf_token: str = Form(""), comment: str = Form("")
    ) -> Response:
        return await asyncio.to_thread(decide, request, submission_id, "approved", csrf_token, comment)

    @app.post("/bao-cao/{submission_id}/tra-lai")
    async def give_back(
        request: Request, submission_id: str, csrf_token: str = Form(""), comment: str = Form("")
    ) -> Response:
        return await asyncio.to_thread(decide, request, submission_id, "returned", csrf_token, comment)

    def decide(request: Request, submission_id: str, state: str, csrf_token: str, comment: str) -> Response:
        viewer, csrf = viewer_of(request)
        check_csrf(csrf, csrf_token)
        context = report_context(request, viewer, submission_id)
        if not context["can_decide"]:
            raise forbidden()
        comment = comment.strip()
        back = f"/bao-cao/{submission_id}"
        if state == "returned" and not comment:
            return RedirectResponse(back + "?loai=error&thong-bao=" + quote(RETURN_NEEDS_REASON), status_code=303)
        report = context["report"].submission
        with store.transaction(settings) as connection:
            store.record_approval(connection, submission_id, state, comment or None, viewer)
            store.record_audit(connection, viewer, state, submission_id, comment or None, client_address(request))
            contacts = [
                account.email
                for account in store.submitter_contacts(connection).values()
                if account.committee_key == report.committee_key and account.email
            ]
        message, failure = DECIDED[state], None
        if contacts:
            from portal import mail

            email = mail.decision_message(
                settings,
                ", ".join(contacts),
                report.committee_name or report.committee_key,
                report.report_year,
                report.file_name,
                state,
                comment or None,
                viewer.label,
                settings.portal.link(back),
            )
            failure = mail.send(settings, email)
            audit(request, viewer, "mail", ", ".join(contacts), failure or "sent")
            message += " " + (
                MAILED.format(to=", ".join(contacts)) if failure is None else NOT_MAILED.format(why=failure)
            )
        kind = "ok" if failure is None else "error"
        return RedirectResponse(back + f"?loai={kind}&thong-bao=" + quote(message), status_code=303)

    @app.get("/nhat-ky", response_class=HTMLResponse)
    async def audit_page(request: Request) -> Response:
        viewer, _ = viewer_of(request)
        if viewer.role == "submitter":
            raise forbidden()
        province = None if viewer.role == "operator" else viewer.province_code
        with store.transaction(settings) as connection:
            rows = store.audit_trail(connection, province_code=province)
        return page(request, "audit.html", {"rows": rows})

    @app.get("/suc-khoe")
    async def health() -> Response:
        return JSONResponse({"ok": True, "checker_ready": verdicts.ready.is_set()})

    return app


# ------------------------------------------------------------------ helpers outside the routes

MARKED_NAME: Final = "danh-dau.xlsx"
UNEXPECTED: Final = "Hệ thống gặp lỗi khi xử lý yêu cầu này; lỗi đã được ghi lại cho bộ phận kỹ thuật. Xin thử lại sau."
THROTTLED: Final = "Đăng nhập sai quá nhiều lần. Hãy đợi một phút rồi thử lại."
WRONG_LOGIN: Final = "Tên đăng nhập hoặc mật khẩu không đúng."
TOO_LARGE: Final = "Tệp lớn hơn {mib} MiB, không nhận. Hãy gửi tệp báo cáo theo mẫu (một bảng tính .xlsx)."
NOTHING_PUBLISHED: Final = "Chưa có số liệu nào được công bố: đêm tổng hợp đầu tiên chưa chạy xong."
REPORT_NOT_FOUND: Final = (
    "Không tìm thấy báo cáo này trong số liệu đã công bố (báo cáo mới nộp hiện ra sau đêm tổng hợp)."
)
UNLOCK_NEEDS_REASON: Final = "Mở chốt số liệu cần ghi lý do."
RETURN_NEEDS_REASON: Final = "Trả lại báo cáo cần ghi ý kiến để đơn vị biết phải sửa gì."
ALREADY_LOCKED: Final = "Năm này đã được chốt số liệu."
NOT_LOCKED: Final = "Năm này chưa chốt số liệu."
LOCKED: Final = "Đã chốt số liệu năm {year}. Báo cáo nộp sau thời điểm này chỉ thay số liệu khi được phê duyệt."
UNLOCKED: Final = "Đã mở chốt số liệu năm {year}; thao tác đã được ghi vào nhật ký."
DECIDED: Final = {"approved": "Đã phê duyệt báo cáo.", "returned": "Đã trả lại báo cáo."}
MAILED: Final = "Đã gửi thư báo cho đơn vị ({to})."
NOT_MAILED: Final = "Chưa gửi được thư cho đơn vị: {why}"


def page_templates() -> Jinja2Templates:
    """The portal's templates with the labels and filters every page may use."""
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.globals.update(
        outcome_labels=OUTCOME_LABELS, approval_labels=APPROVAL_LABELS, action_labels=ACTION_LABELS
    )
    templates.env.filters["gio_vn"] = in_vietnam
    return templates


def in_vietnam(moment: datetime | None, pattern: str = "%H:%M %d/%m/%Y") -> str:
    """A time of the portal's database (UTC; SQLite's naive) as people in Vietnam read it."""
    if moment is None:
        return "—"
    return store.aware(moment).astimezone(VIETNAM).strftime(pattern)


def safe_next(target: str) -> str:
    """Only a path of this site (never ``//host`` or ``https://...``): no open redirect after login."""
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"


def set_cookie(response: Response, name: str, value: str, settings: Settings, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="strict",
        secure=settings.portal.public_url.startswith("https://"),
    )


def read_limited(upload: UploadFile, target: Path, limit: int) -> int | None:
    """Copy an upload to ``target``; ``None`` (and nothing kept) once it passes ``limit`` bytes."""
    size = 0
    with target.open("wb") as writer:
        while chunk := upload.file.read(1024 * 1024):
            size += len(chunk)
            if size > limit:
                break
            writer.write(chunk)
    if size > limit:
        target.unlink()
        return None
    return size


def finding_row(finding: Any) -> dict[str, Any]:
    return {
        "rule_id": finding.rule_id,
        "severity": finding.severity,
        "sheet": finding.sheet,
        "sheet_title": dashboard.sheet_title(finding.sheet),
        "sheet_row": finding.sheet_row,
        "field": finding.field,
        "field_header": dashboard.field_header(finding.sheet, finding.field),
        "value": None if finding.value is None else str(finding.value),
        "message": finding.message,
        "fix": finding.fix,
    }


def other_committee_finding(identity: Any, viewer: Account) -> dict[str, Any]:
    named = identity.committee_name or identity.committee_key
    return {
        "rule_id": "portal.committee",
        "severity": "error",
        "sheet": "thong_tin",
        "sheet_row": None,
        "field": "committee_name",
        "value": named,
        "message": (
            f"Báo cáo ghi đơn vị «{named}», không phải đơn vị của tài khoản này "
            f"({viewer.committee_name or viewer.committee_key}). Tài khoản chỉ được nộp báo cáo của đơn vị mình."
        ),
        "fix": "Kiểm tra trang thông tin chung (tên đơn vị, tỉnh) hoặc đăng nhập bằng tài khoản của đơn vị đó.",
    }


def mark_workbook(source: Path, findings: list[dict[str, Any]], target: Path, limits: Limits) -> Path | None:
    """The workbook back with the wrong cells marked (reading/annotate.py); None for what it cannot mark."""
    from reading.annotate import CellNote
    from reading.annotate import mark_workbook as mark

    notes = [
        CellNote(
            sheet=row["sheet"],
            sheet_row=row["sheet_row"],
            field=row["field"],
            severity=row["severity"] or "error",
            text=row["message"] + (f" Cách sửa: {row['fix']}" if row.get("fix") else ""),
        )
        for row in findings
    ]
    try:
        return mark(source, notes, target, limits=limits)
    except Exception:  # noqa: BLE001 - the findings list stands on its own; the marked copy is a convenience
        log.exception("could not mark %s", source)
        return None


_template_lock = threading.Lock()


def blank_template(settings: Settings) -> Path:
    """The blank report template (``chibo template``), written once into the portal's folder."""
    from warehouse.export import write_template

    path = uploads.portal_folder(settings) / "mau_bao_cao.xlsx"
    with _template_lock:
        if not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            write_template(path)
    return path


def consolidated_report(settings: Settings, province_code: str, report_year: int) -> bytes:
    """``chibo export``'s form of a current province and year, from the published snapshot's marts."""
    from warehouse.export import NothingToExport, write_province_form

    with snapshot(settings) as connection, tempfile.TemporaryDirectory(prefix="chibo-export-") as folder:
        if connection is None:
            raise HTTPException(503, NOTHING_PUBLISHED)
        try:
            path = write_province_form(
                connection, province_code, report_year, "restated", Path(folder) / "form.xlsx", "main"
            )
        except NothingToExport as error:
            raise HTTPException(404, f"Chưa có số liệu năm {report_year} của tỉnh để tổng hợp.") from error
        return path.read_bytes()


class snapshot:  # noqa: N801 - used as a context manager, like open()
    """A read-only connection to the published snapshot, or None when nothing is published yet."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.connection: Any = None

    def __enter__(self) -> Any:
        self.connection = dashboard.open_snapshot(self.settings.publish)
        return self.connection

    def __exit__(self, *_: object) -> None:
        if self.connection is not None:
            self.connection.close()
