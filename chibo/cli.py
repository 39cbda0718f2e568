"""The ``chibo`` command: template, validate, history, sample, run, export, init, serve, account.

Messages, help and argument descriptions are in Vietnamese (the options keep their English names); logs are in
English. A command that cannot start (a missing file, a setting) says why in a sentence and exits 2.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import time
import typing
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

from chibo.config import Settings, load_settings
from chibo.errors import ChiboError

EXIT_ACCEPTED, EXIT_REJECTED, EXIT_UNREADABLE = 0, 1, 2
EXIT_READY, EXIT_REFUSED = 0, 2  # chibo init; any command that cannot start says why and exits 2

PROVINCE_YEAR_COLUMNS = [
    ("province", "Tỉnh"),
    ("report_year", "Năm"),
    ("committees_of_expected", "Đơn vị/phải BC"),
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
# Columns of the totals table computed from the mart's: how many of the expected committees the total includes.
PROVINCE_YEAR_EXPRESSIONS = {
    "committees_of_expected": "committees_expected_reporting || '/' || coalesce(committees_expected::varchar, '?')",
}


class MissingFile(ChiboError):
    """A file named on the command line that is not there."""


def existing_file(name: str) -> Path:
    """The path of a file the command reads; ``MissingFile`` (said in Vietnamese, exit 2) when it is not there."""
    path = Path(name)
    if not path.exists() and not path.is_symlink():
        folder = path.parent if str(path.parent) not in ("", ".") else Path.cwd()
        where = "" if folder.is_dir() else f" (thư mục {folder} cũng không có)"
        raise MissingFile(f"Không có tệp {path}{where}. Kiểm tra lại tên tệp và đường dẫn.")
    return path


def output_file(name: str) -> Path:
    """The path of a file the command writes; ``MissingFile`` when the folder it goes in is not there."""
    path = Path(name)
    if not path.parent.is_dir():
        raise MissingFile(f"Không có thư mục {path.parent} để ghi tệp {path.name}. Tạo thư mục đó hoặc chọn nơi khác.")
    return path


def version() -> str:
    try:
        return metadata.version("chibo")
    except metadata.PackageNotFoundError:
        return "chưa cài đặt (chạy từ mã nguồn)"


# ------------------------------------------------------------------ template


def command_template(args: argparse.Namespace) -> int:
    from warehouse.export import write_template

    path = write_template(output_file(args.output))
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
    """The night's own intake and validation on this one file, in a scratch warehouse (pipeline.check): the verdict
    and the findings first; how the file was read (the column mapping) only with ``--verbose``."""
    from contract.model import load_contract
    from expectations.rules import UNREADABLE_RULE
    from pipeline.check import check_file
    from reading.reader import UnreadableReport, read_report

    path = existing_file(args.file)
    warehouse = existing_file(args.warehouse) if args.warehouse else None
    settings = load_settings()
    outcome = check_file(path, settings, warehouse=warehouse)
    unreadable = [f for f in outcome.findings if f.rule_id == UNREADABLE_RULE.rule_id]
    if unreadable:
        print(f"KHÔNG ĐỌC ĐƯỢC TỆP {path.name}: {unreadable[0].message}")
        return EXIT_UNREADABLE
    errors = [f for f in outcome.findings if f.severity == "error"]
    warnings = [f for f in outcome.findings if f.severity == "warning"]
    if outcome.outcome == "accepted":
        print("KẾT QUẢ: báo cáo HỢP LỆ, sẽ được tiếp nhận.")
    elif outcome.outcome == "held":
        print(
            "KẾT QUẢ: báo cáo ĐƯỢC GIỮ LẠI — hệ thống chưa kiểm tra xong do lỗi kỹ thuật, không phải do lỗi "
            "của báo cáo:"
        )
    else:
        print(f"KẾT QUẢ: báo cáo BỊ TỪ CHỐI — {len(errors)} lỗi cần sửa:")
    for finding in errors:
        print(f"  - {where_of(finding)}: {finding.message} Cách sửa: {finding.fix}")
    if warnings:
        print(f"Cần kiểm tra lại ({len(warnings)} cảnh báo, không làm báo cáo bị từ chối):")
        for finding in warnings:
            print(f"  - {where_of(finding)}: {finding.message} {finding.fix}")
    if args.verbose:
        with contextlib.suppress(UnreadableReport, OSError):  # how intake read it: same reader, contract and limits
            print()
            print("Cách đọc tệp:")
            print("\n".join(describe_reading(read_report(path, load_contract(), settings.limits))))
    else:
        print("(Thêm --verbose để xem từng cột của tệp được đọc thành chỉ tiêu nào.)")
    return EXIT_ACCEPTED if outcome.outcome == "accepted" else EXIT_REJECTED


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

    columns = ", ".join(PROVINCE_YEAR_EXPRESSIONS.get(name, name) for name, _ in PROVINCE_YEAR_COLUMNS)
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
        from chibo.local_airflow import run_night, seconds_vi

        started = time.monotonic()
        print("Bắt đầu tổng hợp (từng bước của quy trình Airflow):", flush=True)
        state = run_night(airflow_home, settings, progress=lambda line: print(line, flush=True))
    verdict = "thành công" if state == "success" else f"không thành công ({state})"
    print(f"\nKết thúc tổng hợp: {verdict}, sau {seconds_vi(time.monotonic() - started)}.")
    for received in handler.received:
        print(f"Đã gửi thư tới {', '.join(received.envelope_to)}: {received.message['Subject']}")
    print("\nSố liệu tổng hợp theo tỉnh và năm (marts.fct_province_year):")
    print(province_year_totals(settings))
    return EXIT_ACCEPTED if state == "success" else EXIT_REJECTED


def command_export(args: argparse.Namespace) -> int:
    """The province's consolidated report for a year, as the official form (warehouse.export)."""
    out = output_file(args.out)
    settings = load_settings()
    from warehouse.export import province_unit, write_province_report

    basis: typing.Literal["as_reported", "restated"] = "restated" if args.restated else "as_reported"
    province = province_unit(args.province, args.year, basis).name  # an unknown code: said, exit 2
    written = write_province_report(settings, args.province, args.year, basis, out)
    said = "số liệu quy về 34 tỉnh hiện nay" if args.restated else "số liệu theo báo cáo của các đảng bộ"
    print(f"Đã ghi báo cáo tổng hợp của {province} (mã {args.province}) năm {args.year}, {said}: {written or out}")
    return EXIT_ACCEPTED


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
        created, problems = accounts.import_file(settings, existing_file(args.file))
        print_created(created, problems)
        return EXIT_ACCEPTED if not problems else EXIT_REJECTED
    if args.action == "list":
        with store.transaction(settings) as connection:
            rows = connection.execute(store.accounts.select().order_by(store.accounts.c.username)).mappings().all()
        for row in rows:
            scope = row["committee_key"] or row["province_code"] or "*"
            print(f"{row['username']}\t{row['role']}\t{scope}\t{row['email'] or ''}")
        return EXIT_ACCEPTED
    password = existing_file(args.password_file).read_text(encoding="utf-8").strip() if args.password_file else None
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


class VietnameseHelpFormatter(argparse.HelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):  # noqa: ANN001, ANN201 - argparse's own signature
        super().add_usage(usage, actions, groups, "cách dùng: " if prefix is None else prefix)


# argparse's own messages for the mistakes people make most, in Vietnamese (the rest stay as argparse says them).
ARGPARSE_MESSAGES = {
    "the following arguments are required": "thiếu",
    "unrecognized arguments": "không hiểu các đối số",
    "invalid choice": "lựa chọn không hợp lệ",
    "invalid int value": "không phải số nguyên",
    "expected one argument": "cần một giá trị",
    "(choose from": "(chọn một trong",
    "argument ": "đối số ",
}


class VietnameseParser(argparse.ArgumentParser):
    """argparse with its headings, usage line and common errors in Vietnamese."""

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003 - argparse's signature
        kwargs.setdefault("formatter_class", VietnameseHelpFormatter)
        kwargs["add_help"] = False
        super().__init__(*args, **kwargs)
        self._positionals.title = "đối số"
        self._optionals.title = "tùy chọn"
        self.add_argument("-h", "--help", action="help", help="in hướng dẫn này rồi thoát")

    def error(self, message: str) -> typing.NoReturn:
        for english, vietnamese in ARGPARSE_MESSAGES.items():
            message = message.replace(english, vietnamese)
        self.print_usage(sys.stderr)
        self.exit(EXIT_REFUSED, f"{self.prog}: lỗi: {message}\n")


def parser() -> argparse.ArgumentParser:
    root = VietnameseParser(
        prog="chibo",
        description="chibo: kho dữ liệu thống kê tổ chức cơ sở đảng, đảng viên — nhận, kiểm tra và tổng hợp báo "
        "cáo năm của các đảng bộ.",
        epilog="Mã thoát: 0 thành công, 1 báo cáo bị từ chối hoặc giữ lại, 2 không thực hiện được (thiếu tệp, sai "
        "cấu hình…). Xem thêm: README.md.",
    )
    root.add_argument("--version", action="version", version=f"chibo {version()}", help="in phiên bản chibo rồi thoát")
    commands = root.add_subparsers(dest="command", required=True, title="các lệnh", metavar="LỆNH")
    template = commands.add_parser(
        "template", help="ghi mẫu báo cáo trống (.xlsx) để phát cho các đảng bộ", description="Ghi mẫu báo cáo trống."
    )
    template.add_argument("output", metavar="TỆP_RA", help="tệp .xlsx sẽ ghi, ví dụ mau-bao-cao.xlsx")
    template.set_defaults(handler=command_template)
    validate = commands.add_parser(
        "validate",
        help="kiểm tra một tệp báo cáo như lần tổng hợp ban đêm: mã 0 hợp lệ, 1 bị từ chối hoặc giữ lại, 2 không "
        "đọc được",
        description="Kiểm tra một tệp báo cáo như lần tổng hợp ban đêm. In kết quả và các lỗi, cảnh báo trước; "
        "cách đọc từng cột chỉ in khi có --verbose.",
    )
    validate.add_argument("file", metavar="TỆP", help="tệp báo cáo: .xlsx, .xlsm, .xls, .ods, .zip các tệp CSV")
    validate.add_argument(
        "--warehouse",
        metavar="KHO",
        help="kiểm tra cả với số liệu các năm trước của đảng bộ trong kho dữ liệu này (tệp DuckDB; chỉ đọc bản sao)",
    )
    validate.add_argument(
        "--verbose", action="store_true", help="in thêm cách đọc tệp: từng trang, từng cột ứng với chỉ tiêu nào"
    )
    validate.set_defaults(handler=command_validate)
    sample = commands.add_parser("sample", help="ghi hộp thư mẫu dựng từ số liệu đã công bố")
    sample.add_argument("directory", metavar="THƯ_MỤC", help="thư mục sẽ ghi các tệp báo cáo mẫu")
    sample.set_defaults(handler=command_sample)
    history = commands.add_parser("history", help="liệt kê mọi lần gửi báo cáo của một đảng bộ trong một năm")
    history.add_argument("committee", metavar="ĐẢNG_BỘ", help="tên hoặc mã đảng bộ, ví dụ 'Mường Khương'")
    history.add_argument("year", metavar="NĂM", type=int, help="năm báo cáo, ví dụ 2023")
    history.set_defaults(handler=command_history)
    run = commands.add_parser(
        "run",
        help="chạy một lần tổng hợp ban đêm qua Airflow, in tiến độ từng bước, rồi in số liệu tỉnh theo năm",
    )
    run.add_argument("--sample", action="store_true", help="trước đó, đặt các báo cáo mẫu vào hộp thư")
    run.set_defaults(handler=command_run)
    export = commands.add_parser(
        "export",
        help="ghi báo cáo tổng hợp của một tỉnh trong một năm theo biểu mẫu chính thức, để gửi Ban Thường vụ",
    )
    export.add_argument("--province", metavar="MÃ_TỈNH", required=True, help="mã tỉnh, ví dụ 15 (Lào Cai từ 2025)")
    export.add_argument("--year", metavar="NĂM", type=int, required=True, help="năm báo cáo")
    export.add_argument(
        "--restated",
        action="store_true",
        help="số liệu quy về 34 tỉnh hiện nay (mặc định: theo số liệu báo cáo của tỉnh trong năm đó)",
    )
    export.add_argument("--out", metavar="TỆP_RA", required=True, help="tệp .xlsx sẽ ghi")
    export.set_defaults(handler=command_export)
    init = commands.add_parser(
        "init",
        help="chuẩn bị hệ thống (thư mục, kho dữ liệu, cơ sở dữ liệu Airflow, pool, kết nối SMTP, mật khẩu quản "
        "trị); chạy lại nhiều lần không sao: mã 0 sẵn sàng, 2 từ chối kèm lý do",
    )
    init.set_defaults(handler=command_init)
    serve = commands.add_parser("serve", help="chạy cổng báo cáo trên web của Ban Tổ chức (docs/portal.md)")
    serve.add_argument("--host", metavar="ĐỊA_CHỈ", default="127.0.0.1", help="địa chỉ lắng nghe (mặc định 127.0.0.1)")
    serve.add_argument("--port", metavar="CỔNG", type=int, default=8000, help="cổng (mặc định 8000)")
    serve.add_argument(
        "--sample",
        action="store_true",
        help="tạo các tài khoản mẫu (demo/portal_accounts.csv) khi cổng chưa có tài khoản nào",
    )
    serve.add_argument(
        "--proxy", action="store_true", help="chạy sau reverse proxy: tin tiêu đề X-Forwarded-For của proxy"
    )
    serve.set_defaults(handler=command_serve)
    account = commands.add_parser("account", help="tạo và liệt kê tài khoản của cổng báo cáo")
    actions = account.add_subparsers(dest="action", required=True, title="các thao tác", metavar="THAO_TÁC")
    add = actions.add_parser(
        "add", help="tạo một tài khoản; không có --password-file thì mật khẩu được tạo ngẫu nhiên và in ra một lần"
    )
    add.add_argument("username", metavar="TÊN_ĐĂNG_NHẬP", help="tên đăng nhập")
    add.add_argument(
        "--role",
        required=True,
        choices=("submitter", "staff", "operator"),
        help="vai trò: submitter (đơn vị gửi báo cáo), staff (cán bộ Ban Tổ chức tỉnh), operator (vận hành)",
    )
    add.add_argument(
        "--province",
        metavar="TỈNH",
        help="tỉnh (staff: theo đơn vị hành chính từ 1/7/2025; submitter: như báo cáo ghi)",
    )
    add.add_argument(
        "--committee", metavar="ĐẢNG_BỘ", help="submitter: tên đảng bộ như báo cáo ghi, ví dụ 'Đảng bộ huyện Bảo Thắng'"
    )
    add.add_argument("--committee-code", metavar="MÃ", help="submitter: mã đơn vị hành chính của đảng bộ")
    add.add_argument(
        "--year", metavar="NĂM", type=int, help="submitter: một năm báo cáo của đảng bộ (để biết thời kỳ hành chính)"
    )
    add.add_argument("--full-name", metavar="HỌ_TÊN", help="họ và tên")
    add.add_argument("--email", metavar="THƯ", help="thư điện tử")
    add.add_argument("--phone", metavar="SỐ", help="số điện thoại")
    add.add_argument(
        "--password-file", metavar="TỆP", help="tệp chứa mật khẩu (không bao giờ ghi mật khẩu trên dòng lệnh)"
    )
    imported = actions.add_parser("import", help="tạo mọi tài khoản trong một tệp CSV (cả một tỉnh một lần)")
    imported.add_argument("file", metavar="TỆP_CSV", help="tệp CSV các tài khoản (mẫu: demo/portal_accounts.csv)")
    actions.add_parser("list", help="liệt kê các tài khoản")
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
    except FileNotFoundError as missing:  # a file named on the command line, found missing later than checked
        print(f"chibo {args.command}: Không có tệp {missing.filename or missing}.", file=sys.stderr)
        return EXIT_REFUSED


if __name__ == "__main__":
    sys.exit(main())
