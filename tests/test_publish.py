"""The analysts' snapshot (pipeline/publish.py): only the marts, Parquet per year, dbt docs, switched
atomically so that an open read-only connection never meets a lock and keeps its snapshot."""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest

from chibo.config import REPO_ROOT, Settings, load_settings
from contract.workbook import write_xlsx
from demo.samples import bao_thang_2024, muong_khuong_2023, si_ma_cai_2024, write_sample_inbox
from pipeline import nightly
from pipeline.publish import SNAPSHOT_FILE, current_snapshot, publish_snapshot
from tests.deployments import deployment_variables
from warehouse.raw import connect

ANALYST_GUIDE = REPO_ROOT / "docs" / "analyst-guide.md"
QUERY_BLOCK = re.compile(r"<!-- query: (?P<name>[\w-]+) -->\s*```sql\n(?P<sql>.*?)```", re.DOTALL)
LAO_CAI_2024 = "select members_total from fct_province_year where province = 'Lào Cai' and report_year = 2024"


def guide_queries() -> dict[str, str]:
    queries = {m["name"]: m["sql"] for m in QUERY_BLOCK.finditer(ANALYST_GUIDE.read_text(encoding="utf-8"))}
    assert 6 <= len(queries) <= 13
    return queries


def run_night(settings: Settings, run_id: str, between: Callable[[str], None] = lambda step: None) -> None:
    nightly.ingest(settings, run_id)
    between("ingest")
    nightly.validate(settings, run_id)
    between("validate")
    nightly.build_marts(settings)
    between("dbt_build")


def warehouse_marts(settings: Settings) -> dict[str, int]:
    with connect(settings.warehouse, read_only=True) as connection:
        tables = connection.execute(
            "select table_name from duckdb_tables() where schema_name = 'marts' order by 1"
        ).fetchall()
        return {t: connection.execute(f"select count(*) from marts.{t}").fetchone()[0] for (t,) in tables}


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Path]:
    """One night on the sample inbox, published with the dbt docs."""
    base = tmp_path_factory.mktemp("published")
    settings = load_settings(
        {
            **os.environ,
            **deployment_variables(base),
        }
    )
    settings.inbox.mkdir(parents=True)
    write_sample_inbox(settings.inbox)
    run_night(settings, "night-1")
    return settings, publish_snapshot(settings, "night-1")


@pytest.fixture
def publishing(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("CHIBO_PUBLISH", str(tmp_path / "publish"))
    return replace(settings, publish=tmp_path / "publish")


def test_the_snapshot_holds_only_the_marts_as_parquet_per_year_with_the_docs(published: tuple[Settings, Path]):
    settings, snapshot = published
    expected = warehouse_marts(settings)
    assert {"fct_members", "fct_province_year", "fct_reporting_rate", "fct_data_quality"} <= set(expected)
    assert current_snapshot(settings.publish) == snapshot.resolve()
    entry = settings.publish / SNAPSHOT_FILE
    assert entry.is_symlink() and entry.resolve() == (snapshot / SNAPSHOT_FILE).resolve()

    with duckdb.connect(str(entry), read_only=True) as connection:
        objects = connection.execute(
            "select schema_name, table_name from duckdb_tables() union all "
            "select schema_name, view_name from duckdb_views() where not internal"
        ).fetchall()
        assert sorted(objects) == sorted(("main", t) for t in expected)  # the marts, nothing else
        counts = {t: connection.execute(f"select count(*) from {t}").fetchone()[0] for t in expected}
        assert counts == expected
        years = {
            t: {y for (y,) in connection.execute(f"select distinct report_year from {t}").fetchall()}
            for t in expected
            if connection.execute(
                "select count(*) from duckdb_columns() where table_name = ? and column_name = 'report_year'", [t]
            ).fetchone()[0]
        }
        [(comment,)] = connection.execute(
            "select comment from duckdb_columns() "
            "where table_name = 'fct_members' and column_name = 'members_probationary'"
        ).fetchall()
    assert "dự bị" in comment  # the dbt descriptions are table and column comments
    assert {"fct_members", "fct_province_year", "fct_evaluations", "fct_branches"} <= set(years)

    parquet = settings.publish / "parquet"
    assert sorted(p.name for p in parquet.iterdir()) == sorted(expected)
    with duckdb.connect() as reader:
        for mart, rows in expected.items():
            files = f"{parquet / mart}/**/*.parquet"
            [(read_back,)] = reader.execute(
                "select count(*) from read_parquet(?, hive_partitioning = true)", [files]
            ).fetchall()
            assert read_back == rows, mart
            if mart in years and rows:
                partitions = {p.name for p in (parquet / mart).iterdir()}
                assert partitions == {
                    f"report_year={'__HIVE_DEFAULT_PARTITION__' if y is None else y}" for y in years[mart]
                }, mart
                per_year = reader.execute(
                    "select report_year, count(*) from read_parquet(?, hive_partitioning = true) group by all",
                    [files],
                ).fetchall()
                assert sum(n for _, n in per_year) == rows and {y for y, _ in per_year} == years[mart]

    docs = settings.publish / "docs"
    assert {"index.html", "manifest.json", "catalog.json"} <= {p.name for p in docs.iterdir()}
    assert "fct_province_year" in (docs / "index.html").read_text(encoding="utf-8")

    manifest = json.loads((snapshot / "snapshot.json").read_text(encoding="utf-8"))
    assert manifest["run_id"] == "night-1"
    assert {m["name"]: m["rows"] for m in manifest["marts"]} == expected
    assert not any(
        p.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) for p in snapshot.rglob("*") if p.is_file()
    )  # immutable: every published file is read-only


@pytest.mark.parametrize("name", sorted(guide_queries()))
def test_every_analyst_guide_query_runs_against_the_snapshot(published: tuple[Settings, Path], name: str):
    settings, _ = published
    with duckdb.connect(str(settings.publish / SNAPSHOT_FILE), read_only=True) as connection:
        rows = connection.execute(guide_queries()[name]).fetchall()
    assert len(rows) >= 1, name


def test_an_open_read_only_connection_keeps_its_snapshot_through_a_whole_night(
    publishing: Settings, monkeypatch: pytest.MonkeyPatch
):
    settings = publishing
    write_xlsx(settings.inbox / "muong_khuong_2023.xlsx", muong_khuong_2023())
    write_xlsx(settings.inbox / "bao_thang_2024.xlsx", bao_thang_2024())
    run_night(settings, "night-1")
    first = publish_snapshot(settings, "night-1", docs=False)

    analyst = duckdb.connect(str(settings.publish / SNAPSHOT_FILE), read_only=True)
    seen: dict[str, int] = {}

    def look(step: str) -> None:
        [(members,)] = analyst.execute(LAO_CAI_2024).fetchall()
        [(branches,)] = analyst.execute("select count(*) from fct_branches").fetchall()
        seen[step] = members
        assert branches > 0

    look("before")
    bao_thang = seen["before"]
    write_xlsx(settings.inbox / "si_ma_cai_2024.xlsx", si_ma_cai_2024())  # the next night has another report

    import pipeline.publish as publish

    copy_marts = publish.copy_marts

    def copy_then_look(warehouse: Path, target: Path):
        marts = copy_marts(warehouse, target)
        look("publish, new file written")
        return marts

    monkeypatch.setattr(publish, "copy_marts", copy_then_look)
    run_night(settings, "night-2", between=look)  # raises if the warehouse could not be written
    second = publish_snapshot(settings, "night-2", docs=False)
    look("after")

    assert seen == dict.fromkeys(
        ["before", "ingest", "validate", "dbt_build", "publish, new file written", "after"], bao_thang
    )
    with connect(settings.warehouse, read_only=True) as connection:
        [(in_warehouse,)] = connection.execute(
            "select members_total from marts.fct_province_year where province = 'Lào Cai' and report_year = 2024"
        ).fetchall()
    assert in_warehouse > bao_thang  # Si Ma Cai was added
    with duckdb.connect(str(settings.publish / SNAPSHOT_FILE), read_only=True) as fresh:
        assert fresh.execute(LAO_CAI_2024).fetchall() == [(in_warehouse,)]  # a new connection sees the new night
    assert current_snapshot(settings.publish) == second.resolve() != first.resolve()
    assert analyst.execute("select path from duckdb_databases() where database_name = 'chibo'").fetchall() == [
        (str((first / SNAPSHOT_FILE).resolve()),)
    ]
    analyst.close()


def small_warehouse(path: Path, members: int) -> None:
    """A warehouse with a marts schema, without a night: enough for what publish does."""
    with connect(path) as connection:
        connection.execute("create schema if not exists marts")
        connection.execute("create schema if not exists raw")
        connection.execute("create or replace table raw.submissions as select 1 as id")
        connection.execute(
            "create or replace table marts.fct_province_year as "
            f"select 'Lào Cai' as province, y::integer as report_year, {members} as members_total "
            "from range(2023, 2025) t(y)"
        )
        connection.execute("create or replace table marts.dim_committee as select 'a' as committee_key")
        connection.execute("create or replace table marts.fct_empty (report_year integer, n integer)")


def test_old_versions_are_pruned_and_an_open_connection_outlives_its_deleted_snapshot(publishing: Settings):
    settings = replace(publishing, publish_keep_versions=2)
    small_warehouse(settings.warehouse, members=1)
    first = publish_snapshot(settings, "n1", docs=False)
    analyst = duckdb.connect(str(settings.publish / SNAPSHOT_FILE), read_only=True)
    published = [first]
    for night in range(2, 5):
        small_warehouse(settings.warehouse, members=night)
        published.append(publish_snapshot(settings, f"n{night}", docs=False))
    remaining = sorted(p.name for p in (settings.publish / "versions").iterdir())
    assert remaining == [p.name for p in published[-2:]]
    # its snapshot has been deleted, and it still reads it
    assert analyst.execute("select sum(members_total) from fct_province_year").fetchall() == [(2,)]
    analyst.close()
    with duckdb.connect(str(settings.publish / SNAPSHOT_FILE), read_only=True) as fresh:
        assert fresh.execute("select sum(members_total) from fct_province_year").fetchall() == [(8,)]
        assert fresh.execute("select count(*) from fct_empty").fetchall() == [(0,)]
    assert (settings.publish / "parquet" / "fct_empty" / "fct_empty.parquet").is_file()  # keeps its schema
    assert not (settings.publish / "parquet" / "raw").exists()


def test_a_failed_publish_leaves_the_current_snapshot_in_place(publishing: Settings):
    small_warehouse(publishing.warehouse, members=1)
    first = publish_snapshot(publishing, "n1", docs=False)
    with connect(publishing.warehouse) as connection:
        connection.execute("drop schema marts cascade")
    with pytest.raises(RuntimeError, match="no table in schema marts"):
        publish_snapshot(publishing, "n2", docs=False)
    assert current_snapshot(publishing.publish) == first.resolve()
    assert [p.name for p in (publishing.publish / "versions").iterdir()] == [first.name]  # no half-written one


def test_unchanged_docs_are_copied_and_a_changed_warehouse_regenerates_them(
    published: tuple[Settings, Path], tmp_path: Path
):
    """dbt docs depend on the project and the warehouse's relations, never on rows: a night that changed neither
    copies the current snapshot's docs (dbt's start-up saved), a night that changed a relation generates them."""
    settings = replace(published[0], publish=tmp_path / "publish")
    first = publish_snapshot(settings, "n1")
    second = publish_snapshot(settings, "n2")
    catalog = "docs/catalog.json"
    assert (second / catalog).read_bytes() == (first / catalog).read_bytes()  # copied, same generated_at
    assert (
        json.loads((second / "snapshot.json").read_text())["docs_key"]
        == json.loads((first / "snapshot.json").read_text())["docs_key"]
    )

    with connect(settings.warehouse) as connection:
        connection.execute("create table raw.docs_probe (probe integer)")
    try:
        third = publish_snapshot(settings, "n3")
    finally:
        with connect(settings.warehouse) as connection:
            connection.execute("drop table raw.docs_probe")
    regenerated = json.loads((third / catalog).read_text(encoding="utf-8"))
    assert (
        regenerated["metadata"]["generated_at"] != json.loads((first / catalog).read_text())["metadata"]["generated_at"]
    )
