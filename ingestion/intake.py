"""Intake: discover submissions in the inbox, archive them under their hash, register and load them.

Files in the inbox are never modified or deleted. The same file twice is registered once (its
sha256 is its identity); a second, different report from the same committee for the same year is
a new version. A file that cannot be read is registered as ``unreadable`` and kept in quarantine:
nothing is lost and the night goes on. A file whose intake raises an unexpected error (a bug, a
library change) is registered as ``intake_failed`` with the error and kept in quarantine too, so that
validation holds it and the operators are told, and it is not tried again every night; if even that
registration fails, intake raises once the other files are taken in: the night fails loudly.

Copies are lossless: written under a temporary name, flushed, checked against the submission's sha256, renamed
(``verified_copy``); a file whose copy cannot be made (a full disk) is not registered and is taken in on a later run.
"""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
import os
import pickle
import shutil
import time
import traceback
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import duckdb

from chibo.errors import TransientError
from contract.model import Contract, load_contract
from reading.errors import UnreadableReport
from reading.guards import ACCEPTED_SUFFIXES, Limits
from reading.reader import ParsedReport, read_report
from units.committee import committee_key, infer_level, parse_year, province_code_of_report, resolve
from warehouse.raw import RAW_SCHEMA, REGISTRY_TABLES, ensure_schema, insert_rows, sheet_rows

log = logging.getLogger(__name__)

IGNORED_PREFIXES = (".", "~$")
INTAKE_FAILED = "intake_failed"  # raw.submissions.report_kind of a file whose intake raised an unexpected error
INTAKE_FAILED_MESSAGE = "Hệ thống gặp lỗi khi tiếp nhận tệp; bộ phận kỹ thuật đã được báo."
COPY_FAILED_MESSAGE = "Chưa lưu được bản sao của tệp (lỗi lưu trữ của hệ thống); tệp sẽ được tiếp nhận ở lần sau."
COPY_BLOCK = 1 << 20
BATCH_FILES = 256  # files read ahead by the workers, and registered in one transaction
FINGERPRINTS_FILE = "inbox-fingerprints.json"  # in the work folder: see ``Fingerprints``
STAGED_FOLDER = "staged"  # in the work folder: readings made ahead by ``stage_reads``, by hash and name
PARALLEL_MINIMUM = 16  # below this many new files, reading in the intake process is quicker than starting workers


class IntakeError(TransientError):
    """Files that could not be taken in tonight and were not registered (their copy could not be made, or their
    failure could not even be registered): they are tried again on the next run."""


class CopyFailed(OSError):
    """The archive or quarantine copy of a submission could not be written or does not match its hash."""


class IntakeSettings(Protocol):
    """What intake needs of the deployment settings (chibo.config.Settings has it all); read only."""

    @property
    def inbox(self) -> Path: ...
    @property
    def archive(self) -> Path: ...
    @property
    def quarantine(self) -> Path: ...
    @property
    def limits(self) -> Limits: ...
    @property
    def settle_probe_seconds(self) -> float: ...


@dataclass(frozen=True)
class IntakeResult:
    file_name: str
    submission_id: str
    status: str  # "new" | "duplicate" | "unreadable" | "in_progress" | "failed" (registered as intake_failed)
    message: str = ""


def discover(inbox: Path) -> list[Path]:
    """Candidate submissions in the inbox: files, CSV folders and links; hidden and Office lock files skipped.

    A name starting with ".." is not hidden but suspicious: it is kept, and refused by the guards.
    """
    if not inbox.exists():
        return []
    return sorted(entry for entry in inbox.iterdir() if entry.name.startswith("..") or not is_ignored(entry.name))


def is_ignored(name: str) -> bool:
    return name.startswith(IGNORED_PREFIXES)


def fingerprint(path: Path) -> str:
    """sha256 of a file, of a CSV folder's member names and contents, or of a link's target text.

    Links are never followed, inside a folder either.
    """
    digest = hashlib.sha256()
    if path.is_symlink():
        digest.update(b"symlink:" + os.fsencode(os.readlink(path)))
    elif path.is_dir():
        for member in sorted(path.rglob("*")):
            digest.update(member.relative_to(path).as_posix().encode())
            if member.is_symlink():
                digest.update(b"symlink:" + os.fsencode(os.readlink(member)))
            elif member.is_file():
                digest.update(member.read_bytes())
    else:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


class Fingerprints:
    """The sha256 of each inbox file as of its last hashing, keyed by name and reused while the file's size,
    modification and change times and inode are the same (the change time moves with any write, and nobody can set
    it): a night hashes what is new, not the whole inbox again. Folders and links are always hashed. Kept as JSON in
    ``path`` (the work folder), written through a temporary name."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.known: dict[str, list[object]] = {}
        if path is not None and path.is_file():
            try:
                loaded = json.loads(path.read_text(encoding="utf-8"))
                self.known = loaded if isinstance(loaded, dict) else {}
            except (OSError, ValueError):
                log.warning("ignoring %s: it cannot be read; every file is hashed again", path)

    @staticmethod
    def state(path: Path) -> list[object] | None:
        if path.is_symlink() or not path.is_file():
            return None
        status = path.stat()
        return [status.st_size, status.st_mtime_ns, status.st_ctime_ns, status.st_ino]

    def of(self, path: Path) -> str:
        state = self.state(path)
        entry = self.known.get(path.name)
        if state is not None and isinstance(entry, list) and entry[:-1] == state:
            return str(entry[-1])
        sha256 = fingerprint(path)
        if state is not None:
            self.known[path.name] = [*state, sha256]
        return sha256

    def save(self, names: set[str]) -> None:
        """Keep the entries of the files still in the inbox."""
        if self.path is None:
            return
        kept = {name: entry for name, entry in self.known.items() if name in names}
        try:
            atomic_write_text(self.path, json.dumps(kept))
        except OSError as error:
            log.warning("could not keep the inbox's fingerprints in %s: %s", self.path, error)


def stored_name(path: Path, sha256: str) -> str:
    """The name of a submission's copy in the archive or quarantine: ``<sha256>`` plus its extension when it is one
    the reader accepts (lower-cased). The sender's suffix never reaches the name: ``x.xlsx;rm -rf ~``, ``evil.sh``
    and a CSV folder give ``<sha256>`` alone."""
    suffix = path.suffix.lower()
    if path.is_dir() or suffix not in ACCEPTED_SUFFIXES:
        return sha256
    return f"{sha256}{suffix}"


def fsync_folder(folder: Path) -> None:
    """Make a rename or a new entry in ``folder`` durable."""
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def copy_file(source: Path, destination: Path, flush: bool = True) -> None:
    """Copy one file's bytes (never through a link) and its times to a new file, flushed to disk (``flush``; else
    the caller makes it durable with ``make_durable``)."""
    with source.open("rb") as reader, destination.open("xb") as writer:
        shutil.copyfileobj(reader, writer, COPY_BLOCK)
        writer.flush()
        if flush:
            os.fsync(writer.fileno())
    shutil.copystat(source, destination, follow_symlinks=False)


def copy_tree(source: Path, destination: Path, flush: bool = True) -> None:
    """Copy a folder member by member, links kept as links (never followed), every file and folder flushed:
    the copy's ``fingerprint`` is the source's."""
    destination.mkdir()
    folders = [destination]
    for member in sorted(source.rglob("*")):
        target = destination / member.relative_to(source)
        if member.is_symlink():
            os.symlink(os.readlink(member), target)
        elif member.is_dir():
            target.mkdir()
            folders.append(target)
        elif member.is_file():
            copy_file(member, target, flush)
    for folder in reversed(folders if flush else []):
        fsync_folder(folder)


def remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.lexists(path):
        path.unlink(missing_ok=True)


def verified_copy(path: Path, target: Path, sha256: str, flush: bool = True) -> Path:
    """Copy a file or CSV folder to ``target`` (links kept as links), losslessly: written to a temporary name beside
    it, flushed, its hash checked against ``sha256`` (the submission's ``fingerprint``), renamed, then the folder
    flushed. A ``target`` already there is kept only if its hash is ``sha256`` (a truncated copy left by an older
    crash is replaced, never the copy of record). With ``flush=False`` nothing is flushed: the caller calls
    ``make_durable`` before it registers the copy (a batch of copies made durable at once). Raises ``CopyFailed``
    (the temporary removed, nothing left under the final name that is not the submission) when the copy cannot be
    made or does not match."""
    if os.path.lexists(target) and fingerprint(target) == sha256:
        return target
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    stale = target.with_name(f".{target.name}.{uuid.uuid4().hex}.stale")
    try:
        if path.is_dir() and not path.is_symlink():
            copy_tree(path, temporary, flush)
        else:
            copy_file(path, temporary, flush)
        copied = fingerprint(temporary)
        if copied != sha256:
            raise CopyFailed(
                f"the copy of {path.name} to {target} has sha256 {copied}, not the submission's {sha256} "
                "(the file changed while it was copied, or the disk is failing); it is taken in on a later night"
            )
        if os.path.lexists(target):
            log.warning("replacing %s: its content is not the submission %s (a copy left incomplete)", target, sha256)
            if temporary.is_dir() or (target.is_dir() and not target.is_symlink()):
                os.replace(target, stale)
        os.replace(temporary, target)
        if flush:
            fsync_folder(target.parent)
    except CopyFailed:
        raise
    except OSError as error:
        raise CopyFailed(f"could not copy {path.name} to {target}: {error}; it is taken in on a later night") from error
    finally:
        remove(temporary)
        remove(stale)
    return target


def remove_leftovers(folder: Path) -> list[Path]:
    """Delete the temporary copies (``.<name>.<uuid>.tmp`` / ``.stale``) that a process killed mid-copy left behind;
    called by intake, which holds the warehouse's lock, so no copy is under way. Never the copies of record."""
    if not folder.is_dir():
        return []
    leftovers = [p for pattern in (".*.tmp", ".*.stale") for p in folder.glob(pattern)]
    for leftover in leftovers:
        log.warning("removing %s, left by an intake that was interrupted", leftover)
        remove(leftover)
    return leftovers


def atomic_write_text(target: Path, text: str) -> None:
    """Write a text file through a temporary name beside it, flushed, renamed, then the folder flushed."""
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        with temporary.open("x", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
        fsync_folder(target.parent)
    finally:
        temporary.unlink(missing_ok=True)


def archive_copy(path: Path, archive: Path, sha256: str, flush: bool = True) -> Path:
    """Copy a submission into the archive under its hash (idempotent, verified); the inbox is untouched."""
    archive.mkdir(parents=True, exist_ok=True)
    return verified_copy(path, archive / stored_name(path, sha256), sha256, flush)


def make_durable(folder: Path) -> None:
    """Flush every copy written without ``flush`` (one ``sync`` for a whole batch, instead of two ``fsync`` a file)
    and the folder's entries; called before the copies are registered."""
    os.sync()
    fsync_folder(folder)


@contextmanager
def transaction(connection: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """One DuckDB transaction: committed at the end of the block, rolled back if it raises."""
    connection.execute("BEGIN TRANSACTION")
    try:
        yield
        connection.execute("COMMIT")
    except BaseException:
        try:
            connection.execute("ROLLBACK")
        except duckdb.Error:
            log.exception("rollback failed")
        raise


def next_version(connection: duckdb.DuckDBPyConnection, key: str | None, year: int | None) -> int | None:
    if key is None or year is None:
        return None
    [(count,)] = connection.execute(
        f"SELECT count(*) FROM {RAW_SCHEMA}.submissions WHERE committee_key = ? AND report_year = ?",
        [key, year],
    ).fetchall()
    return int(count) + 1


def is_registered(connection: duckdb.DuckDBPyConnection, submission_id: str) -> bool:
    rows = connection.execute(
        f"SELECT 1 FROM {RAW_SCHEMA}.submissions WHERE submission_id = ?", [submission_id]
    ).fetchall()
    return bool(rows)


def registered_ids(connection: duckdb.DuckDBPyConnection) -> set[str]:
    """Every submission id the warehouse has registered: one query, so a night's cost does not grow with
    one lookup per file of a large inbox."""
    return {str(sid) for (sid,) in connection.execute(f"SELECT submission_id FROM {RAW_SCHEMA}.submissions").fetchall()}


class Versions:
    """Which version a committee's next report for a year is: the registered count plus one, counted once for
    the night and then kept in step with the files taken in (a batch registers many files in one transaction)."""

    def __init__(self, connection: duckdb.DuckDBPyConnection) -> None:
        self.counts: dict[tuple[str, int], int] = {}
        self.recount(connection)

    def recount(self, connection: duckdb.DuckDBPyConnection) -> None:
        """Count again from the registry (after a batch registered file by file, where a failed file took none)."""
        rows = connection.execute(
            f"SELECT committee_key, report_year, count(*) FROM {RAW_SCHEMA}.submissions "
            "WHERE committee_key IS NOT NULL AND report_year IS NOT NULL GROUP BY ALL"
        ).fetchall()
        self.counts = {(str(key), int(year)): int(n) for key, year, n in rows}

    def next(self, key: str | None, year: int | None) -> int | None:
        if key is None or year is None:
            return None
        self.counts[(key, year)] = self.counts.get((key, year), 0) + 1
        return self.counts[(key, year)]


def submission_record(
    report: ParsedReport, sha256: str, archived: Path, run_id: str, versions: Versions
) -> dict[str, object]:
    year = parse_year(report.info("report_year"))
    resolution = resolve(report)
    unit = resolution.unit if resolution is not None and resolution.status == "resolved" else None
    key = unit.key if unit is not None else committee_key(report.info("province"), report.info("committee_name"))
    notes = [note for sheet in report.sheets.values() for note in sheet.notes] + report.notes
    return {
        "submission_id": sha256[:16],
        "sha256": sha256,
        "file_name": report.file_name,
        "archived_path": str(archived),
        "received_at": datetime.now(UTC).replace(tzinfo=None),
        "run_id": run_id,
        "province": unit.province_name if unit is not None else report.info("province"),
        "province_as_written": report.info("province"),
        "committee_name": report.info("committee_name"),
        "committee_code": report.info("committee_code"),
        "committee_level": infer_level(report.info("committee_level"), year),
        "committee_key": key,
        "unit_key": unit.key if unit is not None else None,
        "unit_code": unit.code if unit is not None else None,
        "unit_name": unit.name if unit is not None else None,
        "province_code": province_code_of_report(report, resolution),
        "resolution_status": resolution.status if resolution is not None else "unknown",
        "resolution_message": resolution.message_vi if resolution is not None else None,
        "report_year": year,
        "version": versions.next(key, year),
        "contact_email": report.info("contact_email"),
        "preparer": report.info("preparer"),
        "prepared_on": report.info("prepared_on"),
        "report_kind": report.report_kind,
        "read_error": None,
        "read_notes": "; ".join(notes) or None,
    }


def unreadable_record(
    path: Path, sha256: str, archived: Path, run_id: str, error: UnreadableReport, report_kind: str = "unreadable"
) -> dict[str, object]:
    """The registry row of a file refused (``unreadable``) or whose intake failed (``intake_failed``):
    the staff's message in ``read_error``, the technical detail in ``read_notes``."""
    record: dict[str, object] = dict.fromkeys(REGISTRY_TABLES["submissions"])
    record.update(
        submission_id=sha256[:16],
        sha256=sha256,
        file_name=path.name,
        archived_path=str(archived),
        received_at=datetime.now(UTC).replace(tzinfo=None),
        run_id=run_id,
        report_kind=report_kind,
        read_error=error.message_vi,
        read_notes=error.detail,
    )
    return record


def sheet_records(report: ParsedReport, submission_id: str) -> list[dict[str, object]]:
    """Which sheets and contract fields the file had: missing columns are told apart from empty ones."""
    return [
        {
            "submission_id": submission_id,
            "sheet": name,
            "source_name": parsed.source_name,
            "header_row": parsed.header_row,
            "fields_found": ",".join(parsed.columns),
            "data_rows": len(parsed.rows),
        }
        for name, parsed in report.sheets.items()
    ]


def quarantine_copy(
    path: Path, quarantine: Path, sha256: str, error: UnreadableReport, extra: dict[str, str] | None = None
) -> Path:
    """Keep a refused file (or, for a link, a record of it) under its hash, with the reason beside it;
    both written atomically."""
    quarantine.mkdir(parents=True, exist_ok=True)
    reason = {
        "file_name": path.name,
        "sha256": sha256,
        "refused_at": datetime.now(UTC).isoformat(),
        "message_vi": error.message_vi,
        "detail": error.detail,
        **(extra or {}),
    }
    if path.is_symlink():
        reason["link_target"] = os.readlink(path)
        target = quarantine / f"{sha256}.link.json"
        atomic_write_text(target, json.dumps(reason, ensure_ascii=False, indent=2))
        return target
    target = verified_copy(path, quarantine / stored_name(path, sha256), sha256)
    atomic_write_text(quarantine / f"{sha256}.json", json.dumps(reason, ensure_ascii=False, indent=2))
    return target


def link_refusal(path: Path) -> UnreadableReport:
    return UnreadableReport(
        "Trong hộp thư có một liên kết (shortcut) thay cho tệp báo cáo thật; liên kết không được mở. "
        "Hãy chép chính tệp báo cáo vào hộp thư.",
        f"{path.name} is a symbolic link to {os.readlink(path)!r}; not followed",
    )


def register_refused(
    connection: duckdb.DuckDBPyConnection, path: Path, sha256: str, where: Path, run_id: str, error: UnreadableReport
) -> IntakeResult:
    log.warning("refused submission %s (%s): %s", path.name, sha256[:16], error.detail)
    with transaction(connection):
        insert_rows(connection, "submissions", [unreadable_record(path, sha256, where, run_id, error)])
    return IntakeResult(path.name, sha256[:16], "unreadable", error.message_vi)


def register_failed(
    connection: duckdb.DuckDBPyConnection, path: Path, settings: IntakeSettings, run_id: str, failure: Exception
) -> IntakeResult:
    """Register a file whose intake raised an unexpected error as ``intake_failed`` and keep it in quarantine
    with the error: validation holds it, the operators are told, and later nights see it as already received.
    Raises if it cannot (the caller makes the night fail)."""
    sha256 = fingerprint(path)
    submission_id = sha256[:16]
    detail = f"{type(failure).__name__}: {failure}"
    if is_registered(connection, submission_id):  # the error came after the file was registered
        return IntakeResult(path.name, submission_id, "failed", f"{INTAKE_FAILED_MESSAGE} ({detail})")
    error = UnreadableReport(INTAKE_FAILED_MESSAGE, detail)
    trace = "".join(traceback.format_exception(failure))
    where = quarantine_copy(path, settings.quarantine, sha256, error, {"status": INTAKE_FAILED, "traceback": trace})
    with transaction(connection):
        insert_rows(connection, "submissions", [unreadable_record(path, sha256, where, run_id, error, INTAKE_FAILED)])
    log.error("registered %s as %s (%s): %s", path.name, submission_id, INTAKE_FAILED, detail)
    return IntakeResult(path.name, submission_id, "failed", INTAKE_FAILED_MESSAGE)


@dataclass
class Loaded:
    """A readable submission archived and shaped for the warehouse, waiting for its batch's transaction."""

    path: Path
    submission_id: str
    rows_by_table: dict[str, list[dict[str, object]]]
    report_kind: str


#: A worker's answer for one file: the parsed report, a refusal (message to staff, detail), or ``None`` when reading
#: raised anything else: the file is then read again in the intake process, where its failure is registered.
WorkerRead = ParsedReport | tuple[str, str] | None

_worker_contract: Contract | None = None
_worker_limits: Limits | None = None


def _start_worker(contract: Contract, limits: Limits) -> None:
    global _worker_contract, _worker_limits
    _worker_contract, _worker_limits = contract, limits


def _read_in_worker(path: Path) -> WorkerRead:
    try:
        return read_report(path, _worker_contract, _worker_limits)
    except UnreadableReport as error:
        return (error.message_vi, error.detail)
    except Exception:  # noqa: BLE001 - read again in the intake process, which registers the failure
        return None


def parse_workers(files: int) -> int:
    """How many processes read tonight's files: every core for a large night, none besides intake's own for a
    small one (starting workers costs more than reading a few files). ``CHIBO_PARSE_WORKERS`` overrides it."""
    configured = os.environ.get("CHIBO_PARSE_WORKERS", "").strip()
    cores = int(configured) if configured.isdigit() else (os.cpu_count() or 1)
    return 1 if files < PARALLEL_MINIMUM else max(1, min(cores, files))


def worker_reads(paths: list[Path], contract: Contract, limits: Limits) -> Iterator[tuple[Path, WorkerRead]]:
    """Each path with its worker's answer, in order. Files are read ahead by a pool of processes in windows of
    :data:`BATCH_FILES`, each window shared among every worker (two windows at most in flight, so memory stays
    bounded whatever the night's size); a small night is read in this process, and so is any file when the pool
    cannot run."""
    workers = parse_workers(len(paths))
    if multiprocessing.current_process().daemon:  # e.g. inside a daemonic worker process: it cannot have children
        workers = 1
    if workers <= 1:
        for path in paths:
            yield path, None
        return
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else None)
    windows = [paths[i : i + BATCH_FILES] for i in range(0, len(paths), BATCH_FILES)]
    done = 0
    try:
        with ProcessPoolExecutor(
            workers, mp_context=context, initializer=_start_worker, initargs=(contract, limits)
        ) as pool:

            def submit(window: list[Path]) -> list[Future[list[WorkerRead]]]:
                size = -(-len(window) // workers)  # one share of the window per worker
                return [pool.submit(_read_window, window[i : i + size]) for i in range(0, len(window), size)]

            pending = [submit(window) for window in windows[:2]]
            for index, window in enumerate(windows):
                answers = [answer for share in pending[index] for answer in share.result()]
                pending[index] = []  # a future keeps its result: let the window's readings go once taken
                if index + 2 < len(windows):
                    pending.append(submit(windows[index + 2]))
                for path, answer in zip(window, answers, strict=True):
                    done += 1
                    yield path, answer
    except Exception:  # noqa: BLE001 - a worker died (out of memory, killed), or no process could be started
        log.exception("the reading processes stopped or could not start; reading the rest in the intake process")
        for path in paths[done:]:
            yield path, None


def stage_reads(paths: list[Path], staged: Path, contract: Contract | None = None, limits: Limits | None = None) -> int:
    """Read files ahead of intake, anywhere the inbox and ``staged`` are shared (a Celery worker of another
    machine): each answer is kept in ``staged`` under the file's hash and name (``staged_path``), written through a
    temporary name. Intake (the one writer) then registers the staged answer instead of reading the file again, and
    removes it. Never touches the warehouse. Returns how many answers were staged."""
    _start_worker(contract or load_contract(), limits or Limits())
    staged.mkdir(parents=True, exist_ok=True)
    for path in paths:
        target = staged_path(staged, path, fingerprint(path))
        temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
        temporary.write_bytes(pickle.dumps(_read_in_worker(path), protocol=pickle.HIGHEST_PROTOCOL))
        temporary.replace(target)
    return len(paths)


def staged_path(staged: Path, path: Path, sha256: str) -> Path:
    """Where a file's reading is staged: by its hash and its name (a reading names the file it read)."""
    return staged / f"{sha256}.{hashlib.sha256(os.fsencode(path.name)).hexdigest()[:16]}.pickle"


def staged_read(staged: Path | None, path: Path, sha256: str) -> tuple[bool, WorkerRead]:
    """The answer ``stage_reads`` kept for this file (name and content), if any (``(False, None)`` otherwise)."""
    target = None if staged is None else staged_path(staged, path, sha256)
    if target is None or not target.is_file():
        return False, None
    try:
        answer: WorkerRead = pickle.loads(target.read_bytes())
    except Exception:  # noqa: BLE001 - a damaged staged answer: the file is read again
        log.warning("ignoring the staged reading %s: it cannot be loaded", target)
        return False, None
    return True, answer


def _read_window(window: list[Path]) -> list[WorkerRead]:
    return [_read_in_worker(path) for path in window]


def refuse(
    connection: duckdb.DuckDBPyConnection,
    path: Path,
    sha256: str,
    settings: IntakeSettings,
    run_id: str,
    error: UnreadableReport,
) -> IntakeResult:
    """A refused file goes to quarantine with its reason and is registered ``unreadable``, in its own transaction."""
    return register_refused(
        connection, path, sha256, quarantine_copy(path, settings.quarantine, sha256, error), run_id, error
    )


def loaded(
    path: Path,
    sha256: str,
    report: ParsedReport,
    settings: IntakeSettings,
    run_id: str,
    contract: Contract,
    versions: Versions,
) -> Loaded:
    """Archive a readable submission and shape its rows for the warehouse (registered by ``register_batch``)."""
    archived = archive_copy(path, settings.archive, sha256, flush=False)  # made durable by register_batch
    submission_id = sha256[:16]
    rows_by_table = {
        "submissions": [submission_record(report, sha256, archived, run_id, versions)],
        "submission_sheets": sheet_records(report, submission_id),
        **sheet_rows(report, submission_id, contract),
    }
    return Loaded(path, submission_id, rows_by_table, report.report_kind)


def insert_loaded(connection: duckdb.DuckDBPyConnection, batch: list[Loaded]) -> None:
    tables = dict.fromkeys(table for item in batch for table in item.rows_by_table)
    for table in tables:
        insert_rows(connection, table, [row for item in batch for row in item.rows_by_table.get(table, [])])


def register_batch(
    connection: duckdb.DuckDBPyConnection,
    batch: list[Loaded],
    settings: IntakeSettings,
    run_id: str,
    versions: Versions,
) -> list[IntakeResult]:
    """Register a batch of loaded submissions in one transaction. If it fails, each is registered in its own
    transaction (with its version counted again), so that one file's failure is registered as that file's."""
    if not batch:
        return []
    try:
        make_durable(settings.archive)
    except OSError as error:  # not registered: the files stay in the inbox, taken in on a later run
        raise CopyFailed(f"could not flush the archive copies to disk: {error}") from error
    try:
        with transaction(connection):
            insert_loaded(connection, batch)
    except Exception:  # noqa: BLE001 - find the file that fails: one transaction each
        log.exception("a batch of %d submissions failed to register; registering them one by one", len(batch))
        results = [register_one(connection, item, settings, run_id) for item in batch]
        versions.recount(connection)
        return results
    for item in batch:
        log.info("registered %s as %s (%s)", item.path.name, item.submission_id, item.report_kind)
    return [IntakeResult(item.path.name, item.submission_id, "new") for item in batch]


def register_one(
    connection: duckdb.DuckDBPyConnection, item: Loaded, settings: IntakeSettings, run_id: str
) -> IntakeResult:
    [record] = item.rows_by_table["submissions"]
    record["version"] = next_version(connection, record["committee_key"], record["report_year"])  # type: ignore[arg-type]
    try:
        with transaction(connection):
            insert_loaded(connection, [item])
    except Exception as error:  # noqa: BLE001 - registered as intake_failed (or raised by register_failed)
        log.exception("intake failed for %s", item.path.name)
        return register_failed(connection, item.path, settings, run_id, error)
    log.info("registered %s as %s (%s)", item.path.name, item.submission_id, item.report_kind)
    return IntakeResult(item.path.name, item.submission_id, "new")


def file_state(path: Path) -> tuple[int, int]:
    """Size and modification time, of the link itself for a link (never followed)."""
    if path.is_dir() and not path.is_symlink():
        members = [p.lstat() for p in path.rglob("*")]
        return sum(m.st_size for m in members), max((m.st_mtime_ns for m in members), default=0)
    status = path.lstat()
    return status.st_size, status.st_mtime_ns


def settled(paths: list[Path], probe_seconds: float) -> tuple[list[Path], list[Path]]:
    """Split paths into those at rest and those still being written (size or time changed during the probe)."""
    before = {path: file_state(path) for path in paths}
    if probe_seconds > 0 and paths:
        time.sleep(probe_seconds)
    still_moving = [
        path for path in paths if not path.exists() and not path.is_symlink() or file_state(path) != before[path]
    ]
    return [path for path in paths if path not in still_moving], still_moving


def ingest_inbox(
    connection: duckdb.DuckDBPyConnection,
    settings: IntakeSettings,
    run_id: str,
    contract: Contract | None = None,
    staged: Path | None = None,
    fingerprints: Path | None = None,
) -> list[IntakeResult]:
    """Take in every settled submission of the inbox; one file's failure never stops the others.

    Files already registered are recognised by their hash against one read of the registry. The new ones are read
    by a pool of processes (``worker_reads``), or were read ahead into ``staged`` (``stage_reads``), and are
    registered in batches of :data:`BATCH_FILES`, one transaction each. A file whose intake raises is registered
    as ``intake_failed`` (status ``failed``); if that fails too, or if the file's archive or quarantine copy cannot
    be made (a full disk: nothing is registered, the file stays in the inbox), ``IntakeError`` is raised after the
    other files are taken in. ``fingerprints``: where the inbox files' hashes are kept from night to night."""
    contract = contract or load_contract()
    ensure_schema(connection, contract)
    for folder in (settings.archive, settings.quarantine):
        remove_leftovers(folder)
    ready, moving = settled(discover(settings.inbox), settings.settle_probe_seconds)
    results = [IntakeResult(path.name, "", "in_progress", "tệp đang được chép, để lại cho lần sau") for path in moving]
    for path in moving:
        log.info("left %s for the next run: still being written", path.name)
    unregistered: list[tuple[str, Exception]] = []

    def failed(path: Path, error: Exception) -> None:
        if isinstance(error, CopyFailed):  # not registered: the file stays in the inbox, taken in on a later run
            log.error("could not take in %s tonight, left in the inbox for the next run: %s", path.name, error)
            results.append(IntakeResult(path.name, "", "failed", COPY_FAILED_MESSAGE))
            unregistered.append((path.name, error))
            return
        log.error("intake failed for %s", path.name, exc_info=error)
        try:
            results.append(register_failed(connection, path, settings, run_id, error))
        except Exception as registering:  # noqa: BLE001 - raised below, once the other files are in
            log.exception("could not register the failed intake of %s", path.name)
            unregistered.append((path.name, registering))

    def register(batch: list[Loaded]) -> None:
        try:
            results.extend(register_batch(connection, batch, settings, run_id, versions))
        except CopyFailed as error:
            for item in batch:
                failed(item.path, error)

    known = registered_ids(connection)
    hashes = Fingerprints(fingerprints)
    to_read: list[tuple[Path, str]] = []
    for path in ready:
        try:
            sha256 = hashes.of(path)
            if sha256[:16] in known:
                results.append(IntakeResult(path.name, sha256[:16], "duplicate", "đã nhận trước đây"))
                if staged is not None:  # read ahead, but already registered: its reading is not needed
                    staged_path(staged, path, sha256).unlink(missing_ok=True)
            elif path.is_symlink():
                known.add(sha256[:16])
                results.append(refuse(connection, path, sha256, settings, run_id, link_refusal(path)))
            else:
                known.add(sha256[:16])
                to_read.append((path, sha256))
        except Exception as error:  # noqa: BLE001 - a bug on one file must not lose the night
            failed(path, error)

    ahead = {path for path, sha256 in to_read if staged is not None and staged_path(staged, path, sha256).is_file()}
    unstaged = worker_reads([path for path, _ in to_read if path not in ahead], contract, settings.limits)
    versions = Versions(connection)
    batch: list[Loaded] = []
    for path, sha256 in to_read:
        # a staged reading is loaded only now (memory holds one batch); one that cannot be loaded is read here
        answer = staged_read(staged, path, sha256)[1] if path in ahead else next(unstaged)[1]
        try:
            report = read_report(path, contract, settings.limits) if answer is None else answer
            if isinstance(report, tuple):
                raise UnreadableReport(*report)
            batch.append(loaded(path, sha256, report, settings, run_id, contract, versions))
        except UnreadableReport as error:
            try:
                results.append(refuse(connection, path, sha256, settings, run_id, error))
            except Exception as refusing:  # noqa: BLE001 - a bug on one file must not lose the night
                failed(path, refusing)
        except Exception as error:  # noqa: BLE001 - a bug on one file must not lose the night
            failed(path, error)
        if len(batch) >= BATCH_FILES:
            register(batch)
            batch = []
    register(batch)
    hashes.save({path.name for path in ready + moving})
    for path, sha256 in to_read:
        if path in ahead and staged is not None:
            staged_path(staged, path, sha256).unlink(missing_ok=True)
    if unregistered:
        names = "; ".join(f"{name} ({error})" for name, error in unregistered)
        raise IntakeError(
            f"{len(unregistered)} file(s) could not be taken in and were not registered; they stay in the inbox and "
            f"are tried again on the next run: {names}"
        ) from unregistered[0][1]
    return results
