"""GX Data Docs in a folder: a failing validation gets its own page, listed on the index that staff open."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from expectations.data_docs import (
    SITE_NAME,
    STATIC_INDEX_ID,
    build_docs,
    night_docs_dir,
    open_context,
    result_page,
    run_identifier,
)
from tests.browser import screenshot_text

FAILING_COLUMN = "xep_loai_chi_bo"
PASSING_COLUMN = "ten_chi_bo"
SUITE = "chibo.chi_bo"


@dataclass(frozen=True)
class BuiltDocs:
    docs_dir: Path
    index: Path
    page: Path | None
    pages: list[Path | None]
    results: list[Any]
    seconds: float


def validate_and_build(docs_dir: Path, frames: dict[str, pd.DataFrame], run_id: Any = None) -> BuiltDocs:
    import great_expectations as gx

    context = open_context(docs_dir)
    source = context.data_sources.add_pandas("chibo_night")
    results = []
    for name, frame in frames.items():
        suite = context.suites.add(gx.ExpectationSuite(name=f"chibo.{name}"))
        suite.add_expectation(gx.expectations.ExpectColumnValuesToNotBeNull(column=PASSING_COLUMN))
        suite.add_expectation(gx.expectations.ExpectColumnValuesToBeInSet(column=FAILING_COLUMN, value_set=["1", "2"]))
        batch = source.add_dataframe_asset(name=name).add_batch_definition_whole_dataframe("night")
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(name=f"chibo.{name}", data=batch, suite=suite)
        )
        results.append(
            definition.run(
                batch_parameters={"dataframe": frame},
                result_format={"result_format": "COMPLETE", "unexpected_index_column_names": ["row_key"]},
                run_id=run_id,
            )
        )
    started = time.perf_counter()
    index = build_docs(context)
    seconds = time.perf_counter() - started
    pages = [result_page(context, result) for result in results]
    return BuiltDocs(docs_dir, index, pages[0], pages, results, seconds)


def chi_bo_frame(grades: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            PASSING_COLUMN: [f"Chi bộ {i}" for i in range(len(grades))],
            FAILING_COLUMN: grades,
            "row_key": range(len(grades)),
        }
    )


@pytest.fixture(scope="module")
def failing_docs(tmp_path_factory: pytest.TempPathFactory) -> BuiltDocs:
    docs_dir = tmp_path_factory.mktemp("data docs") / "site"  # a space in the path, as on staff machines
    return validate_and_build(docs_dir, {"chi_bo": chi_bo_frame(["1", "9", "2"])})


def test_failing_run_has_its_page_under_the_docs_folder(failing_docs: BuiltDocs) -> None:
    assert failing_docs.results[0].success is False
    assert failing_docs.index == failing_docs.docs_dir.resolve() / "index.html"
    assert failing_docs.index.is_file()
    page = failing_docs.page
    assert page is not None and page.is_file()
    assert page.is_relative_to(failing_docs.docs_dir.resolve() / "validations")
    html = page.read_text(encoding="utf-8")
    assert FAILING_COLUMN in html
    assert page.as_uri().startswith("file:///")


def test_index_lists_the_run_as_failed_with_a_link_to_its_page(failing_docs: BuiltDocs) -> None:
    html = failing_docs.index.read_text(encoding="utf-8")
    assert STATIC_INDEX_ID in html
    assert failing_docs.page is not None
    link = failing_docs.page.relative_to(failing_docs.docs_dir.resolve()).as_posix()
    assert f'href="{link}"' in html


def test_staff_see_the_failed_run_on_the_index_in_a_browser(failing_docs: BuiltDocs) -> None:
    text = screenshot_text(failing_docs.index)
    assert "Kết quả kiểm tra dữ liệu" in text
    assert "1 lượt kiểm tra, 1 không đạt." in text
    row = next(line for line in text.splitlines() if SUITE in line)
    assert row.startswith("Không đạt")


def test_staff_see_the_failing_column_on_the_result_page_in_a_browser(failing_docs: BuiltDocs) -> None:
    assert failing_docs.page is not None
    text = screenshot_text(failing_docs.page.as_uri())
    assert "Status: Failed" in text
    assert FAILING_COLUMN in text
    assert SUITE in text


def test_passing_run_is_listed_as_passed(tmp_path: Path) -> None:
    built = validate_and_build(tmp_path / "docs", {"chi_bo": chi_bo_frame(["1", "2"])})
    assert built.results[0].success is True
    assert built.page is not None and built.page.is_file()
    row = next(line for line in screenshot_text(built.index).splitlines() if SUITE in line)
    assert row.startswith("Đạt")


def test_ten_frames_build_in_a_few_seconds(tmp_path: Path) -> None:
    frames = {f"frame_{i}": chi_bo_frame(["1", "9", "2", None] * 250) for i in range(10)}
    built = validate_and_build(tmp_path / "docs", frames)
    assert built.seconds < 5, f"building Data Docs for 10 frames took {built.seconds:.1f} s"
    assert len(list((built.docs_dir / "validations").rglob("*.html"))) == 10
    assert all(page is not None and page.is_file() for page in built.pages)
    text = screenshot_text(built.index)
    assert "10 lượt kiểm tra, 10 không đạt." in text


def test_the_docs_folder_is_the_only_site(tmp_path: Path) -> None:
    """GX's ephemeral default site (a temporary folder) is gone: building writes only under docs_dir."""
    context = open_context(tmp_path / "docs")
    assert list(context.list_data_docs_sites()) == [SITE_NAME]


def test_one_airflow_run_id_for_the_night_gives_a_page_per_frame(tmp_path: Path) -> None:
    run_id = run_identifier("scheduled__2026-01-01T02:00:00+07:00")
    frames = {"chi_bo": chi_bo_frame(["9"]), "thon_ban": chi_bo_frame(["1"])}
    built = validate_and_build(tmp_path / "docs", frames, run_id=run_id)
    first, second = built.pages
    assert first is not None and second is not None and first != second
    assert "scheduled__2026-01-01T02_00_00_07_00" in first.parts
    assert first.is_file() and second.is_file()


def test_a_folder_per_night_keeps_earlier_pages(tmp_path: Path) -> None:
    frames = {"chi_bo": chi_bo_frame(["9"])}
    first = validate_and_build(night_docs_dir(tmp_path, "scheduled__2026-01-01T02:00:00+07:00"), frames)
    second = validate_and_build(night_docs_dir(tmp_path, "scheduled__2026-01-02T02:00:00+07:00"), frames)
    assert first.docs_dir.name == "scheduled__2026-01-01T02_00_00_07_00"
    assert first.page is not None and first.page.is_file()
    assert second.page is not None and second.page.is_file()


def test_gx_drops_earlier_pages_from_a_reused_folder(tmp_path: Path) -> None:
    """Why night_docs_dir exists: GX 1.24 deletes pages whose results the new context does not hold."""
    first = validate_and_build(tmp_path / "docs", {"chi_bo": chi_bo_frame(["9"])})
    validate_and_build(tmp_path / "docs", {"chi_bo": chi_bo_frame(["9"])})
    assert first.page is not None and not first.page.exists()
