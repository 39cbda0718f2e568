"""A report uploaded through the portal: kept, checked by the night's own code, and landed in the inbox.

The check is ``pipeline.check`` (the same code and chibo.yaml as the night: intake, the contract's suites, the
province's severities) on an empty warehouse with the night's views, so a report is judged as tonight would judge
it, except the checks against the committee's earlier years, which need the warehouse and run at night (the
receipt says so). ``Verdicts`` keeps it warm in the server: Great Expectations is imported and the empty
warehouse built once, at start-up, and checks run one at a time (one GX context, one scratch warehouse each).

Every upload is kept under ``<work_dir>/portal/uploads/<receipt id>/`` whatever its verdict. An accepted or held
report then lands in the inbox as a file dropped there would: written under a hidden temporary name (which
intake skips), synced, and renamed in one step, so the night never sees half a file; the same bytes from the
same committee land once (the earlier receipt is returned), and intake's own duplicate check stands behind that.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from chibo.config import Settings
from pipeline.check import Checked

LANDING_OUTCOMES: Final = ("accepted", "held")
PORTAL_FOLDER: Final = "portal"
_UNSAFE = re.compile(r"[^0-9A-Za-z._-]+")


def portal_folder(settings: Settings) -> Path:
    return settings.work_dir / PORTAL_FOLDER


def upload_folder(settings: Settings, receipt_id: int) -> Path:
    return portal_folder(settings) / "uploads" / str(receipt_id)


def ascii_letters(text: str) -> str:
    """Vietnamese letters without their marks ("Báo cáo Đảng" → "Bao cao Dang"); other characters as they are."""
    decomposed = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(character for character in decomposed if not unicodedata.combining(character))


def safe_name(file_name: str) -> str:
    """A file name that is only a name: no folder, no hidden dot, only ASCII letters, digits, ``.-_``."""
    base = ascii_letters(Path(file_name.replace("\\", "/")).name)
    stem, suffix = os.path.splitext(base)
    cleaned = _UNSAFE.sub("-", stem).strip("-.") or "bao-cao"
    return f"{cleaned[:80]}{_UNSAFE.sub('', suffix)[:10].lower()}"


def inbox_name(receipt_number: str, file_name: str) -> str:
    return f"{receipt_number}__{safe_name(file_name)}"


def land(source: Path, inbox: Path, name: str) -> Path:
    """Put a copy of ``source`` in the inbox under ``name`` atomically (a hidden temporary, fsync, rename)."""
    inbox.mkdir(parents=True, exist_ok=True)
    target = inbox / name
    if target.exists():
        raise FileExistsError(f"{target} already exists")
    temporary = inbox / f".{name}.{uuid.uuid4().hex}.tmp"
    try:
        with source.open("rb") as reader, temporary.open("xb") as writer:
            shutil.copyfileobj(reader, writer, 1024 * 1024)
            writer.flush()
            os.fsync(writer.fileno())
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    folder = os.open(inbox, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
    return target


@dataclass(frozen=True)
class Verdict:
    checked: Checked
    seconds: float


class Verdicts:
    """The night's checker, kept warm in the server process; one check at a time."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self.ready = threading.Event()
        self.suites: Any = None  # expectations.runner.NightSuites: the suites declared once, kept across checks
        self.template: Path | None = None  # the empty warehouse with the night's views, built at warm-up

    def warm_up(self) -> None:
        """Import what a check needs, build the empty warehouse with its views and declare the suites (seconds,
        once; again only when the server restarts, as after a change of the dbt project or the contract)."""
        with self._lock:
            if self.ready.is_set():
                return
            import great_expectations  # noqa: F401 - the 4 s import, paid here rather than by the first upload

            from contract.model import load_contract
            from expectations.rules import all_rules
            from expectations.runner import NightSuites
            from pipeline.check import empty_warehouse_with_views

            self.template = empty_warehouse_with_views(self.settings)
            self.suites = NightSuites(all_rules(load_contract()), docs_dir=None, run_name="portal")
        self.ready.set()

    def check(self, paths: Sequence[Path]) -> list[Checked]:
        from pipeline.check import check_files_with_identity

        if not self.ready.is_set():
            self.warm_up()
        with self._lock:
            return check_files_with_identity(list(paths), self.settings, self.template, suites=self.suites)
