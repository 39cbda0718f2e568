"""Archive and quarantine copies are lossless: a real inbox, a real DuckDB warehouse, a full disk injected into the
copy's write for one night (ENOSPC after part of the bytes), truncated copies left by an older crash, hostile
suffixes."""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
from pathlib import Path

import pytest

from chibo.config import Settings
from contract.workbook import write_xlsx
from demo.samples import muong_khuong_2023
from ingestion.intake import CopyFailed, IntakeError, archive_copy, fingerprint, ingest_inbox, stored_name
from warehouse.raw import connect

REPORT = "muong-khuong-2023.xlsx"


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def hidden_leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.startswith(".")] if folder.exists() else []


def registered(settings: Settings) -> list[tuple]:
    with connect(settings.warehouse) as connection:
        return connection.execute("select file_name, report_kind, archived_path from raw.submissions").fetchall()


@pytest.fixture
def disk_full_after_half(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The copy's write fails with ENOSPC once half of the bytes are on disk (for this test only)."""
    written: list[int] = []
    real_copyfileobj = shutil.copyfileobj

    def copyfileobj(reader, writer, length: int = 0) -> None:
        if not str(getattr(writer, "name", "")).endswith(".tmp"):  # not intake's copy (e.g. writing the workbook)
            return real_copyfileobj(reader, writer, length)
        data = reader.read()
        writer.write(data[: len(data) // 2])
        writer.flush()
        written.append(len(data) // 2)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(shutil, "copyfileobj", copyfileobj)
    return written


def test_a_full_disk_registers_nothing_and_the_next_night_takes_the_file_in(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, disk_full_after_half: list[int]
):
    inbox_file = settings.inbox / REPORT
    write_xlsx(inbox_file, muong_khuong_2023())
    before = inbox_file.read_bytes()
    sha256 = sha256_of(inbox_file)

    with connect(settings.warehouse) as connection, pytest.raises(IntakeError, match=REPORT) as raised:
        ingest_inbox(connection, settings, "night-1")
    assert disk_full_after_half, "the injected write never ran"
    assert "No space left on device" in str(raised.value) and "next run" in str(raised.value)
    assert registered(settings) == []  # not a good submission, not an intake_failed one either
    assert inbox_file.read_bytes() == before  # the inbox is untouched
    assert not (settings.archive / f"{sha256}.xlsx").exists()  # no partial file under the final name
    assert hidden_leftovers(settings.archive) == []  # the temporary is removed
    assert not (settings.quarantine / f"{sha256}.xlsx").exists()

    monkeypatch.undo()  # the disk has room again
    with connect(settings.warehouse) as connection:
        [result] = ingest_inbox(connection, settings, "night-2")
    assert result.status == "new"
    [(file_name, kind, archived_path)] = registered(settings)
    assert (file_name, kind) == (REPORT, "detailed")
    assert Path(archived_path) == settings.archive / f"{sha256}.xlsx"
    assert sha256_of(Path(archived_path)) == sha256


def test_a_truncated_archive_copy_left_by_a_crash_is_replaced(settings: Settings):
    inbox_file = settings.inbox / REPORT
    write_xlsx(inbox_file, muong_khuong_2023())
    sha256 = sha256_of(inbox_file)
    settings.archive.mkdir(parents=True, exist_ok=True)
    planted = settings.archive / f"{sha256}.xlsx"
    planted.write_bytes(inbox_file.read_bytes()[:1000])

    with connect(settings.warehouse) as connection:
        [result] = ingest_inbox(connection, settings, "night-1")
    assert result.status == "new"
    [(_, _, archived_path)] = registered(settings)
    assert Path(archived_path) == planted
    assert sha256_of(planted) == sha256
    assert hidden_leftovers(settings.archive) == []


def test_a_truncated_quarantine_copy_is_replaced_too(settings: Settings):
    refused = settings.inbox / "bao-cao.xlsx"
    refused.write_bytes(b"not a workbook at all, " * 100)
    sha256 = sha256_of(refused)
    settings.quarantine.mkdir(parents=True, exist_ok=True)
    (settings.quarantine / f"{sha256}.xlsx").write_bytes(b"not a")

    with connect(settings.warehouse) as connection:
        [result] = ingest_inbox(connection, settings, "night-1")
    assert result.status == "unreadable"
    assert sha256_of(settings.quarantine / f"{sha256}.xlsx") == sha256


def csv_folder(root: Path) -> Path:
    folder = root / "bao-cao-csv"
    (folder / "phu").mkdir(parents=True)
    (folder / "thong_tin.csv").write_text("truong,gia_tri\nprovince,Lào Cai\n", encoding="utf-8")
    (folder / "phu" / "chi_bo.csv").write_bytes(b"a,b\n1,2\n" * 5000)
    os.symlink("/etc/passwd", folder / "link.csv")
    return folder


def test_a_csv_folder_is_copied_exactly_and_a_partial_copy_replaced(tmp_path: Path):
    folder = csv_folder(tmp_path)
    sha256 = fingerprint(folder)
    archive = tmp_path / "archive"
    partial = archive / sha256
    partial.mkdir(parents=True)
    (partial / "thong_tin.csv").write_text("truong", encoding="utf-8")  # an older crash's half copy

    copied = archive_copy(folder, archive, sha256)
    assert copied == partial and fingerprint(copied) == sha256
    assert os.readlink(copied / "link.csv") == "/etc/passwd"  # a link stays a link, never followed
    assert hidden_leftovers(archive) == []
    assert archive_copy(folder, archive, sha256) == copied  # a matching copy is trusted as it is


def test_a_copy_whose_hash_does_not_match_is_never_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    source = tmp_path / "bao-cao.xlsx"
    source.write_bytes(b"PK" + b"x" * 10_000)
    sha256 = sha256_of(source)

    def flipped(reader, writer, length: int = 0) -> None:  # the file changed while it was copied
        writer.write(reader.read()[::-1])

    monkeypatch.setattr(shutil, "copyfileobj", flipped)
    with pytest.raises(CopyFailed, match="not the submission's"):
        archive_copy(source, tmp_path / "archive", sha256)
    assert list((tmp_path / "archive").iterdir()) == []


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("bao-cao.xlsx", ".xlsx"),
        ("BAO-CAO.XLS", ".xls"),
        ("bao-cao.ods", ".ods"),
        ("bao-cao.zip", ".zip"),
        ("x.xlsx;rm -rf ~", ""),
        ("evil.sh", ""),
        ("evil.xlsx.sh", ""),
        ("evil.xlsx ", ""),
        ("noextension", ""),
    ],
)
def test_stored_names_keep_only_an_accepted_extension(tmp_path: Path, name: str, expected: str):
    path = tmp_path / name
    path.write_bytes(b"x")
    assert stored_name(path, "ab" * 32) == "ab" * 32 + expected


def test_a_folder_named_like_a_workbook_gets_no_extension(tmp_path: Path):
    folder = tmp_path / "bao-cao.xlsx"
    folder.mkdir()
    assert stored_name(folder, "ab" * 32) == "ab" * 32


def test_hostile_suffixes_never_reach_the_quarantine(settings: Settings):
    for name in ("x.xlsx;rm -rf ~", "evil.sh"):
        (settings.inbox / name).write_bytes(f"hostile {name}".encode())
    hashes = {name: sha256_of(settings.inbox / name) for name in ("x.xlsx;rm -rf ~", "evil.sh")}

    with connect(settings.warehouse) as connection:
        results = ingest_inbox(connection, settings, "night-1")
    assert {r.status for r in results} == {"unreadable"}
    names = {p.name for p in settings.quarantine.iterdir()}
    assert names == {h for h in hashes.values()} | {f"{h}.json" for h in hashes.values()}
    assert {Path(archived).name for _, _, archived in registered(settings)} == set(hashes.values())
