"""The ``chibo`` command: template, validate, history, sample, run, init.

Messages for staff and submitters are in Vietnamese; logs are in English.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from chibo.config import Settings, load_settings
from chibo.errors import ChiboError

EXIT_ACCEPTED, EXIT_REJECTED, EXIT_UNREADABLE = 0, 1, 2
EXIT_READY, EXIT_REFUSED = 0, 2  # chibo init; any command that cannot start says why and exits 2

PROVINCE_YEAR_COLUMNS = [
    ("province", "Tỉnh"),
    ("report_year", "Năm"),
    ("committees_reporting", "Đơn vị"),
    ("orgs_total", "TCCSĐ"),
    ("orgs_party_committee", "ĐBCS"),
    ("orgs_grassroots_branch", "CBCS"),
    ("branches_total", "Chi bộ TT"),
    ("members_total", "Đảng viên"),
    ("orgs_htxsnv", "HTXSNV"),
    ("orgs_httnv", "HTTNV"),
    ("orgs_htnv", "HTNV"),
    ("orgs_khtnv", "KHTNV"),
    ("villages_with_branch", "Thôn có CB"),
    ("villages_total", "Tổng thôn"),
    ("pct_village_branches_with_committee", "% CB thôn có chi ủy"),
]


# ------------------------------------------------------------------ template


def command_template(args: argparse.Namespace) -> int:
    from contract.workbook import write_xlsx

    path = write_xlsx(Path(args.output))
    print(f"Đã tạo mẫu báo cáo trống: {path}")
    return EXIT_ACCEPTED


# ------------------------------------------------------------------ validate


def describe_reading(report) -> list[str]:  # noqa: ANN001 - ParsedReport, imported lazily
    from contract.model import load_contract

    contract = load_contract()
    lines = [
        f"Tệp: {report.file_name} — loại báo cáo: "
        f"{'chi tiết' if report.report_kind == 'detailed' else 'chỉ có số tổng hợp'}"
    ]
    for name, sheet in report.sheets.items():
        where = f"dòng tiêu đề ở dòng {sheet.header_row}" if sheet.header_row else "dạng chỉ tiêu – giá trị"
        lines.append(f"  Trang «{sheet.source_name}» → {name}: {where}, {len(sheet.rows)} dòng số liệu")
        for field_name, header in sheet.columns.items():
            display = contract.sheet(name).field(field_name).header
            lines.append(f"    «{header}» → {field_name} ({display})")
        lines += [f"    ghi chú: {note}" for note in sheet.notes]
    lines += [f"  ghi chú: {note}" for note in report.notes]
    return lines


def where_of(finding) -> str:  # noqa: ANN001 - expectations.runner.Finding, imported lazily
    return f"trang {finding.sheet}" + (f", dòng {finding.sheet_row}" if finding.sheet_row else "")


def command_validate(args: argparse.Namespace) -> int:
    """The night's own intake and validation on this one file, in a scratch warehouse (pipeline.check)."""
    from contract.model import load_contract
    from expectations.rules import UNREADABLE_RULE
    from pipeline.check import check_file
    from reading.reader import UnreadableReport, read_report

    path = Path(args.file)
    if not path.exists() and not path.is_symlink():
        print(f"KHÔNG MỞ ĐƯỢC TỆP {path}: không có tệp này.")
        return EXIT_UNREADABLE
    settings = load_settings()
    outcome = check_file(path, settings, warehouse=Path(args.warehouse) if args.warehouse else None)
    unreadable = [f for f in outcome.findings if f.rule_id == UNREADABLE_RULE.rule_id]
    if unreadable:
        print(f"KHÔNG ĐỌC ĐƯỢC TỆP {path.name}: {unreadable[0].message}")
        return EXIT_UNREADABLE
    with contextlib.suppress(UnreadableReport, OSError):  # how intake read it: same reader, contract and limits
        print("\n".join(describe_reading(read_report(path, load_contract(), settings.limits))))
    print()
    warnings = [f for f in outcome.findings if f.severity == "warning"]
    if warnings:
        print(f"Cần kiểm tra lại ({len(warnings)} cảnh báo, không làm báo cáo bị từ chối):")
        for finding in warnings:
            print(f"  - {where_of(finding)}: {finding.message} {finding.fix}")
    if outcome.outcome == "accepted":
        print("KẾT QUẢ: báo cáo HỢP LỆ, sẽ được tiếp nhận.")
        return EXIT_ACCEPTED
    errors = [f for f in outcome.findings if f.severity == "error"]
    if outcome.outcome == "held":
        print(
            "KẾT QUẢ: báo cáo ĐƯỢC GIỮ LẠI — hệ thống chưa kiểm tra xong do lỗi kỹ thuật, không phải do lỗi "
            "của báo cáo:"
        )
    else:
        print(f"KẾT QUẢ: báo cáo BỊ TỪ CHỐI — {len(errors)} lỗi cần sửa:")
    for finding in errors:
        print(f"  - {where_of(finding)}: {finding.message} Cách sửa: {finding.fix}")
    return EXIT_REJECTED


# ------------------------------------------------------------------ sample and run


def command_sample(args: argparse.Namespace) -> int:
    from demo.samples import write_sample_inbox

    for path in write_sample_inbox(Path(args.directory)):
        print(path)
    return EXIT_ACCEPTED


def format_cell(value: object, column: str) -> str:
    """Vietnamese number formatting: 3.792 members, 73,2 %; years as written."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", ",")
    if isinstance(value, int) and column != "report_year":
        return f"{value:,}".replace(",", ".")
    return str(value)


def format_table(columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[object]]) -> str:
    cells = [[label for _, label in columns]]
    cells += [[format_cell(v, name) for v, (name, _) in zip(row, columns, strict=True)] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def province_year_totals(settings: Settings) -> str:
    from warehouse.raw import connect

    columns = ", ".join(name for name, _ in PROVINCE_YEAR_COLUMNS)
    with connect(settings.warehouse, read_only=True) as connection:
        rows = connection.execute(
            f"SELECT {columns} FROM marts.fct_province_year ORDER BY province, report_year"
        ).fetchall()
    return format_table(PROVINCE_YEAR_COLUMNS, rows)


def command_run(args: argparse.Namespace) -> int:
    from chibo.airflow_setup import connection_variable
    from chibo.smtp_sink import airflow_smtp_connection, smtp_sink

    settings = load_settings()
    if args.sample:
        from demo.samples import write_sample_inbox

        written = write_sample_inbox(settings.inbox)
        print(f"Hộp thư mẫu: {len(written)} tệp trong {settings.inbox}")
    airflow_home = Path(os.environ.get("AIRFLOW_HOME") or settings.work_dir / "airflow")
    variable = connection_variable(settings.smtp_conn_id)
    outbox = settings.work_dir / "outbox"
    with smtp_sink(outbox) as (port, handler):
        if variable not in os.environ:
            os.environ[variable] = airflow_smtp_connection(port)
            print(f"Chưa cấu hình máy chủ thư: thư cảnh báo được nhận tại máy chủ SMTP cục bộ, lưu ở {outbox}")
        from chibo.local_airflow import run_night

        state = run_night(airflow_home, settings)
    print(f"\nLần tổng hợp kết thúc: {state}")
    for received in handler.received:
        print(f"Đã gửi thư tới {', '.join(received.envelope_to)}: {received.message['Subject']}")
    print("\nSố liệu tổng hợp theo tỉnh và năm (marts.fct_province_year):")
    print(province_year_totals(settings))
    return EXIT_ACCEPTED if state == "success" else EXIT_REJECTED


def command_init(args: argparse.Namespace) -> int:
    """Prepare a deployment, idempotently: the folders and the warehouse, then Airflow (``initialise``)."""
    from chibo.airflow_setup import initialise

    settings = load_settings()
    initialise(settings, os.environ, api_server=True, say=print)
    from portal import store

    applied = store.migrate(settings)  # the portal's database: created if missing, then its migrations
    print(
        f"chibo init: the portal's database is at migration {store.schema_version(settings)}"
        + (f" (applied now: {', '.join(map(str, applied))})" if applied else "")
        + "."
    )
    print("chibo init: ready.")
    return EXIT_READY


def command_history(args: argparse.Namespace) -> int:
    from warehouse.raw import connect
    from warehouse.versions import find_versions

    settings = load_settings()
    with connect(settings.warehouse, read_only=True) as connection:
        versions = find_versions(connection, args.committee, args.year)
    if not versions:
        print(f"Không có báo cáo nào của «{args.committee}» cho năm {args.year}.")
        return EXIT_REJECTED
    outcomes = {"accepted": "tiếp nhận", "rejected": "từ chối", "held": "giữ lại chờ xử lý"}
    columns = [
        ("version", "Lần"),
        ("received", "Nhận lúc (UTC)"),
        ("file", "Tệp"),
        ("sha", "SHA-256"),
        ("preparer", "Người lập"),
        ("email", "Thư điện tử"),
        ("outcome", "Kết quả"),
        ("marts", "Dùng tổng hợp"),
    ]
    rows = [
        (
            v.version,
            v.received_at.strftime("%d/%m/%Y %H:%M"),
            v.file_name,
            v.sha256[:12],
            v.preparer or "–",
            v.contact_email or "–",
            ("chưa kiểm tra" if v.outcome is None else outcomes.get(v.outcome, v.outcome))
            + (f" ({v.errors} lỗi)" if v.errors else ""),
            "✔" if v.in_marts else "",
        )
        for v in versions
    ]
    print(f"Các lần gửi báo cáo năm {args.year} của «{versions[0].committee_name}»:")
    print(format_table(columns, rows))
    return EXIT_ACCEPTED


# ------------------------------------------------------------------ the portal

SAMPLE_ACCOUNTS = Path(__file__).resolve().parent.parent / "demo" / "portal_accounts.csv"


def print_created(created: Sequence, problems: Sequence[str]) -> None:  # portal.accounts.Created, imported lazily
    for account in created:
        password = f" — mật khẩu: {account.password}" if account.password else ""
        print(f"Đã tạo tài khoản {account.username} ({account.role}, {account.scope}){password}")
    for problem in problems:
        print(f"Không tạo được: {problem}", file=sys.stderr)


def command_account(args: argparse.Namespace) -> int:
    """Create portal accounts: one (``add``) or a whole file (``import``); ``list`` shows them."""
    from portal import accounts, store

    settings = load_settings()
    store.migrate(settings)
    if args.action == "import":
        created, problems = accounts.import_file(settings, Path(args.file))
        print_created(created, problems)
        return EXIT_ACCEPTED if not problems else EXIT_REJECTED
    if args.action == "list":
        with store.transaction(settings) as connection:
            rows = connection.execute(store.accounts.select().order_by(store.accounts.c.username)).mappings().all()
        for row in rows:
            scope = row["committee_key"] or row["province_code"] or "*"
            print(f"{row['username']}\t{row['role']}\t{scope}\t{row['email'] or ''}")
        return EXIT_ACCEPTED
    password = Path(args.password_file).read_text(encoding="utf-8").strip() if args.password_file else None
    new = accounts.NewAccount(
        username=args.username, role=args.role, password=password, full_name=args.full_name,
        province=args.province, committee_name=args.committee, committee_code=args.committee_code,
        committee_level=None, report_year=args.year, email=args.email, phone=args.phone,
    )  # fmt: skip
    try:
        print_created([accounts.create(settings, new)], [])
    except accounts.AccountError as error:
        print(f"Không tạo được tài khoản: {error}", file=sys.stderr)
        return EXIT_REJECTED
    return EXIT_ACCEPTED


def command_serve(args: argparse.Namespace) -> int:
    """The Board's portal (docs/portal.md) on ``--host``:``--port``, until interrupted."""
    import uvicorn

    from portal import accounts, store
    from portal.web import create_app

    settings = load_settings()
    store.migrate(settings)
    if args.sample:
        with store.transaction(settings) as connection:
            existing = {
                row[0]
                for row in connection.execute(store.accounts.select().with_only_columns(store.accounts.c.username))
            }
        if not existing:
            print_created(*accounts.import_file(settings, SAMPLE_ACCOUNTS))
            print(f"(tài khoản mẫu: {SAMPLE_ACCOUNTS})")
    print(f"Cổng báo cáo: http://{args.host}:{args.port}/ (địa chỉ công khai: {settings.portal.public_url})")
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="warning", proxy_headers=args.proxy)
    return EXIT_ACCEPTED


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="chibo", description="chibo: party-organisation statistics warehouse")
    commands = root.add_subparsers(dest="command", required=True)
    template = commands.add_parser("template", help="write the blank report template (.xlsx)")
    template.add_argument("output")
    template.set_defaults(handler=command_template)
    validate = commands.add_parser(
        "validate", help="check one report file as the night would: exit 0 accepted, 1 rejected or held, 2 unreadable"
    )
    validate.add_argument("file")
    validate.add_argument(
        "--warehouse", help="also check against the committee's accepted history in this warehouse (DuckDB file)"
    )
    validate.set_defaults(handler=command_validate)
    sample = commands.add_parser("sample", help="write the sample inbox built from the published figures")
    sample.add_argument("directory")
    sample.set_defaults(handler=command_sample)
    history = commands.add_parser("history", help="list every version of a committee's report for a year")
    history.add_argument("committee", help="committee name or key, e.g. 'Mường Khương'")
    history.add_argument("year", type=int)
    history.set_defaults(handler=command_history)
    run = commands.add_parser("run", help="run the nightly consolidation once, through Airflow")
    run.add_argument("--sample", action="store_true", help="first put the sample reports into the inbox")
    run.set_defaults(handler=command_run)
    init = commands.add_parser(
        "init",
        help="prepare a deployment (folders, warehouse, Airflow metadata database, pool, SMTP connection, admin "
        "password); idempotent: exit 0 ready, 2 refused with the reasons",
    )
    init.set_defaults(handler=command_init)
    serve = commands.add_parser("serve", help="the Board's web portal (docs/portal.md)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--sample",
        action="store_true",
        help="create the sample accounts (demo/portal_accounts.csv) when the portal has none",
    )
    serve.add_argument("--proxy", action="store_true", help="behind a reverse proxy: trust its X-Forwarded-For")
    serve.set_defaults(handler=command_serve)
    account = commands.add_parser("account", help="create portal accounts")
    actions = account.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="one account; without --password-file a password is generated and shown")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=("submitter", "staff", "operator"))
    add.add_argument("--province", help="the province (staff: as from 1 July 2025; submitter: as its reports say)")
    add.add_argument(
        "--committee", help="submitter: the committee's name as its reports say, e.g. 'Đảng bộ huyện Bảo Thắng'"
    )
    add.add_argument("--committee-code")
    add.add_argument("--year", type=int, help="submitter: a report year of the committee (its era)")
    add.add_argument("--full-name")
    add.add_argument("--email")
    add.add_argument("--phone")
    add.add_argument("--password-file", help="a file holding the password (never on the command line)")
    imported = actions.add_parser("import", help="every account of a CSV file (a province at once)")
    imported.add_argument("file")
    actions.add_parser("list", help="the accounts")
    account.set_defaults(handler=command_account)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except ChiboError as refused:  # said in words, never a traceback: a setting, a path, a missing connection …
        print(f"chibo {args.command}: {refused}", file=sys.stderr)
        return EXIT_REFUSED


if __name__ == "__main__":
    sys.exit(main())
