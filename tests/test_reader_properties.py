"""Property-based: whatever bytes arrive, random or a valid workbook mutated, the reader either reads
them or raises the project's own error, never anything else."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contract.workbook import write_csv_zip, write_xlsx
from demo.samples import muong_khuong_2023
from reading.errors import ChiboError
from reading.reader import read_report

FIXTURES = Path(__file__).parent / "fixtures" / "formats"
SUFFIXES = [".xlsx", ".xlsm", ".xls", ".ods", ".zip", ".csv"]


def _seed_files() -> dict[str, bytes]:
    work = Path(tempfile.mkdtemp(prefix="chibo-prop-"))
    report = muong_khuong_2023()
    seeds = {
        ".xlsx": write_xlsx(work / "r.xlsx", report).read_bytes(),
        ".zip": write_csv_zip(work / "r.zip", report).read_bytes(),
        ".xls": (FIXTURES / "grouped.lo.xls").read_bytes(),
        ".ods": (FIXTURES / "titled.lo.ods").read_bytes(),
        ".csv": "Mã TCCSĐ,Tên TCCSĐ\nA,B\n".encode(),
    }
    return seeds


SEEDS = _seed_files()


def read_bytes_as(data: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"bao_cao{suffix}"
        path.write_bytes(data)
        with contextlib.suppress(ChiboError):
            read_report(path)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=4096), suffix=st.sampled_from(SUFFIXES))
def test_random_bytes_never_raise_a_foreign_error(data: bytes, suffix: str):
    read_bytes_as(data, suffix)


@st.composite
def mutated(draw: st.DrawFn) -> tuple[bytes, str]:
    suffix = draw(st.sampled_from(sorted(SEEDS)))
    data = bytearray(SEEDS[suffix])
    for _ in range(draw(st.integers(min_value=1, max_value=20))):
        position = draw(st.integers(min_value=0, max_value=len(data) - 1))
        data[position] = draw(st.integers(min_value=0, max_value=255))
    if draw(st.booleans()):
        data = data[: draw(st.integers(min_value=0, max_value=len(data)))]
    return bytes(data), suffix


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=mutated())
def test_mutated_workbooks_never_raise_a_foreign_error(case: tuple[bytes, str]):
    read_bytes_as(*case)
