"""A failed night alerts the operators, through the real DAG and a real SMTP server."""

from __future__ import annotations

import json
import re
import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.mime.multipart import MIMEMultipart
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from airflow.sdk import Connection
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from alerts.failure import failed_night_html, failed_night_message, failed_night_subject, failed_night_text
from alerts.mailer import send_messages
from chibo.airflow_setup import initialise
from chibo.config import Settings
from chibo.local_airflow import load_dag, prepare_environment
from chibo.smtp_sink import CollectingHandler, airflow_smtp_connection, free_port


def test_a_failed_night_emails_the_operators_with_the_error(
    settings: Settings, smtp_server, airflow_home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    port, mailbox = smtp_server
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", airflow_smtp_connection(port))
    initialise(settings, prepare_environment(airflow_home), api_server=False)  # `chibo init` on a good deployment
    broken_inbox = tmp_path / "not-a-folder"
    broken_inbox.write_text("the inbox path points at a file: the night must refuse it, not create a new inbox")
    monkeypatch.setenv("CHIBO_INBOX", str(broken_inbox))

    assert str(load_dag().test().state) == "failed"

    [notice] = mailbox.received
    assert notice.envelope_to == list(settings.operators)
    subject = notice.message["Subject"]
    matched = re.fullmatch(r"\[chibo\] Lần tổng hợp đêm (\S+) bị lỗi", subject)
    assert matched
    run_id = matched[1]
    assert notice.message.is_multipart()  # plain text and HTML, like the digests
    text = notice.message.get_body(("plain",)).get_content()
    html = notice.message.get_body(("html",)).get_content()
    assert f"Lần tổng hợp {run_id} không hoàn thành. Tác vụ lỗi: discover.\n" in text
    assert "các báo cáo đã nhận vẫn được giữ nguyên" in text
    assert f"<b>{run_id}</b> không hoàn thành" in html
    # the failed task's own error reaches the notice (kept by the task's failure callback), in both parts
    assert "discover: AirflowFailException" in text and str(broken_inbox) in text
    assert str(broken_inbox) in html
    assert not broken_inbox.with_name("not-a-folder").is_dir()  # nothing was created in its place
    assert (settings.work_dir / "notices" / f"{run_id}-failed.eml").is_file()  # always kept as a file too


def test_the_wording_of_the_notice():
    assert failed_night_subject("scheduled__2026-11-29") == "[chibo] Lần tổng hợp đêm scheduled__2026-11-29 bị lỗi"
    text = failed_night_text("r1", "dbt_build")
    assert text.startswith("Lần tổng hợp r1 không hoàn thành. Tác vụ lỗi: dbt_build.\n")
    assert "Xem nhật ký của tác vụ trong Airflow" in text
    assert "<b>a&lt;b</b>" in failed_night_html("a<b", "dbt_build")  # escaped
    assert "không thể chạy" in failed_night_text("r1", "validate", "all_tasks_deadlocked")


# --------------------------------------------------------------------------- the SMTP connection's settings


def self_signed_context(tmp_path: Path) -> ssl.SSLContext:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    return context


def accept_chibo(server, session, envelope, mechanism, auth_data) -> AuthResult:
    accepted = (auth_data.login, auth_data.password) == (b"chibo", b"mat-khau")
    return AuthResult(success=accepted, handled=False)  # not handled: the server answers 535 itself


@contextmanager
def tls_smtp_server(**kwargs) -> Iterator[tuple[int, CollectingHandler]]:
    handler = CollectingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield port, handler
    finally:
        controller.stop()


def smtp_connection(port: int, password: str = "mat-khau", **extra) -> Connection:
    return Connection(
        conn_id="smtp_test",
        conn_type="smtp",
        host="127.0.0.1",
        port=port,
        login="chibo",
        password=password,
        extra=json.dumps({"timeout": 5, "retry_limit": 0, **extra}),
    )


def notice() -> MIMEMultipart:
    return failed_night_message("r1", "dbt_build", "", "chibo@example.org", ["van-hanh@chibo.example.org"])


def test_the_notice_goes_through_starttls_with_the_connections_login(tmp_path: Path):
    context = self_signed_context(tmp_path)
    server = {
        "tls_context": context,
        "require_starttls": True,
        "auth_required": True,
        "authenticator": accept_chibo,
    }
    with tls_smtp_server(**server) as (port, mailbox):
        send_messages(smtp_connection(port, disable_ssl=True, ssl_context="none"), [notice()])
        with pytest.raises(smtplib.SMTPAuthenticationError):
            send_messages(smtp_connection(port, "sai", disable_ssl=True, ssl_context="none"), [notice()])
        with pytest.raises(ssl.SSLCertVerificationError):  # the default context checks the certificate
            send_messages(smtp_connection(port, disable_ssl=True), [notice()])
    [received] = mailbox.received
    assert received.envelope_to == ["van-hanh@chibo.example.org"]
    assert received.message["Subject"] == failed_night_subject("r1")


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # the TLS is implicit here
def test_the_notice_goes_over_ssl_unless_the_connection_disables_it(tmp_path: Path):
    context = self_signed_context(tmp_path)
    server = {
        "ssl_context": context,
        "auth_required": True,
        "auth_require_tls": False,  # aiosmtpd does not see the implicit TLS as TLS
        "authenticator": accept_chibo,
    }
    with tls_smtp_server(**server) as (port, mailbox):
        send_messages(smtp_connection(port, disable_tls=True, ssl_context="none"), [notice()])
    [received] = mailbox.received
    text = received.message.get_body(("plain",))
    assert text is not None and "Tác vụ lỗi: dbt_build." in text.get_content()
