"""chibo's own lock on the warehouse: one process at a time works on the DuckDB file.

DuckDB allows one writing process and refuses a second one at once ("Could not set lock on file"); Airflow's
one-slot pool only orders the tasks of one Airflow. So every chibo process that opens the warehouse (``warehouse.
raw.connect``, dbt in ``pipeline.dbt_runner``) first takes an exclusive ``fcntl.flock`` on ``<warehouse>.lock``
and keeps it for the whole connection or dbt run; the others wait for it, up to ``lock_wait_seconds``
(chibo.yaml ``warehouse:``, ``CHIBO_LOCK_WAIT_SECONDS``), then stop with ``WarehouseBusy`` naming the holder.

The holder writes who it is into the file (process, what, since when), for the sentence a waiter shows. The kernel
drops the lock of a process that dies, even by ``kill -9``: a stale file never blocks anyone. Within a process the
lock is re-entrant (a count per path): a second ``flock`` on another descriptor of the same process would wait
for itself.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from chibo.errors import NotReady, WarehouseBusy

log = logging.getLogger(__name__)

POLL_SECONDS = 0.2  # how often a waiter tries again


@dataclass
class _Held:
    descriptor: int
    pid: int  # a child forked while the lock was held does not hold it: it takes its own
    count: int
    wait: float  # the outermost holder's wait, for the blocks within


_held: dict[Path, _Held] = {}
_guard = threading.Lock()


def lock_path(warehouse: Path) -> Path:
    """``<warehouse>.lock``, beside the DuckDB file."""
    return warehouse.with_name(warehouse.name + ".lock")


def lock_wait_seconds() -> float:
    """The configured wait (chibo.yaml ``warehouse.lock_wait_seconds``, ``CHIBO_LOCK_WAIT_SECONDS``)."""
    from chibo.config import load_settings

    return load_settings().lock_wait_seconds


def describe_holder(text: str) -> str:
    """The holder as the lock file records it, in words: "process 4242 (ingest run_id …) since 02:00:03 UTC"."""
    try:
        holder = json.loads(text)
        return f"process {holder['pid']} ({holder['what']}) since {holder['since']}"
    except (ValueError, KeyError, TypeError):
        return "another chibo process (it did not say which)"


def read_holder(warehouse: Path) -> str:
    """Who holds the warehouse, as the holder wrote it, in words."""
    try:
        return describe_holder(lock_path(warehouse).read_text(encoding="utf-8"))
    except OSError:
        return describe_holder("")


def busy_message(warehouse: Path, holder: str, waited: float) -> str:
    return (
        f"The warehouse {warehouse} is in use by {holder}; chibo waited {waited:g} s for it and stopped. "
        "It is tried again later; if it stays busy, see whether that process is still working or hangs."
    )


def _open(path: Path) -> int:
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o664)
    except PermissionError:
        return os.open(path, os.O_RDONLY)  # a reader without write access still takes the lock
    except FileNotFoundError:
        raise NotReady(f"The folder {path.parent} of the warehouse does not exist: run `chibo init`.") from None


def _record(descriptor: int, what: str) -> None:
    since = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    text = json.dumps({"pid": os.getpid(), "what": what, "since": since}, ensure_ascii=False)
    try:
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, text.encode("utf-8"), 0)
    except OSError:
        pass  # a read-only descriptor: the lock holds, the waiters cannot say who


def _acquire(path: Path, warehouse: Path, what: str, deadline: float, wait: float) -> int:
    descriptor = _open(path)
    told = False
    while True:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            _record(descriptor, what)
            return descriptor
        except BlockingIOError:
            if time.monotonic() >= deadline:
                os.close(descriptor)
                raise WarehouseBusy(busy_message(warehouse, read_holder(warehouse), wait)) from None
            if not told:
                log.info("waiting up to %g s for the warehouse %s, held by %s", wait, warehouse, read_holder(warehouse))
                told = True
            time.sleep(POLL_SECONDS)
        except BaseException:
            os.close(descriptor)
            raise


def _release(descriptor: int) -> None:
    try:
        os.ftruncate(descriptor, 0)
    except OSError:
        pass
    finally:
        fcntl.flock(descriptor, fcntl.LOCK_UN)
        os.close(descriptor)


@contextmanager
def warehouse_lock(warehouse: Path, what: str, wait_seconds: float | None = None) -> Iterator[float]:
    """Hold chibo's lock on ``warehouse`` for the block; yields the deadline (``time.monotonic``) the caller may
    go on waiting until (for DuckDB's own lock). Waits ``wait_seconds`` (default: the configured wait), then
    raises ``WarehouseBusy``."""
    path = lock_path(Path(os.path.abspath(warehouse)))
    with _guard:
        held = _held.get(path)
        reentered = held is not None and held.pid == os.getpid()
        if held is not None and reentered:
            held.count += 1
            wait = held.wait if wait_seconds is None else wait_seconds
    if not reentered:
        wait = lock_wait_seconds() if wait_seconds is None else wait_seconds
        descriptor = _acquire(path, warehouse, what, time.monotonic() + wait, wait)
        with _guard:
            _held[path] = _Held(descriptor, os.getpid(), 1, wait)
    deadline = time.monotonic() + wait
    try:
        yield deadline
    finally:
        with _guard:
            held = _held[path]
            held.count -= 1
            done = held.count == 0
            if done:
                del _held[path]
        if done:
            _release(held.descriptor)
