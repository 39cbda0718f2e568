"""The contract reaches the warehouse: every field reaches staging, the grading rules are the contract's,
and the keys dbt sees are the keys Python writes (dbt never parses them)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
import yaml

from chibo.config import REPO_ROOT, Settings
from contract.model import load_contract
from contract.workbook import write_xlsx
from demo.samples import muong_khuong_2023
from pipeline import nightly
from units.direct_committees import registry
from units.keys import parse_key
from warehouse.admin_dimension import admin_reference
from warehouse.raw import connect

DBT = REPO_ROOT / "dbt_project"
# thong_tin fields are registered in raw.submissions (one row per file), where staging reads them
THONG_TIN_TARGET = "staging.stg_raw__submissions"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    """A warehouse after a night's intake and the views validation reads, plus the whole dbt build."""
    folder = tmp_path_factory.mktemp("contract")
    monkeypatch = pytest.MonkeyPatch()
    for name in ("INBOX", "ARCHIVE", "QUARANTINE", "DATA_DOCS", "WORK_DIR", "PUBLISH"):
        monkeypatch.setenv(f"CHIBO_{name}", str(folder / name.lower()))
    monkeypatch.setenv("CHIBO_WAREHOUSE", str(folder / "warehouse.duckdb"))
    monkeypatch.setenv("CHIBO_SETTLE_PROBE_SECONDS", "0")
    from chibo.config import load_settings

    settings: Settings = load_settings()
    settings.inbox.mkdir(parents=True)
    write_xlsx(settings.inbox / "mk.xlsx", muong_khuong_2023())
    nightly.ingest(settings, "night")
    nightly.validate(settings, "night")
    nightly.build_marts(settings)
    with connect(settings.warehouse, read_only=True) as connection:
        yield connection
    monkeypatch.undo()


def columns_of(connection: duckdb.DuckDBPyConnection, relation: str) -> set[str]:
    schema, name = relation.split(".")
    rows = connection.execute(
        "select column_name from information_schema.columns where table_schema = ? and table_name = ?", [schema, name]
    ).fetchall()
    assert rows, f"{relation} does not exist"
    return {column for (column,) in rows}


def test_every_contract_field_reaches_staging(warehouse: duckdb.DuckDBPyConnection):
    contract = load_contract()
    missing: list[str] = []
    for sheet in contract.sheets:
        if sheet.name == "thong_tin":
            target, wanted = THONG_TIN_TARGET, [f.name for f in sheet.fields]
        elif sheet.layout == "key_value":
            target = "intermediate.int_tong_hop__pivoted"
            wanted = [f.name for f in sheet.fields if f.type in ("integer", "decimal")]
        else:
            target = f"staging.stg_raw__{sheet.name}"
            wanted = [f.name for f in sheet.fields] + [f"{f.name}_label" for f in sheet.fields if f.type == "grade"]
        columns = columns_of(warehouse, target)
        missing += [f"{sheet.name}.{name} (not in {target})" for name in wanted if name not in columns]
    assert not missing, "contract fields that do not reach the warehouse: " + "; ".join(missing)


def test_every_summary_total_with_a_detail_declaration_is_recomputed_in_the_warehouse(
    warehouse: duckdb.DuckDBPyConnection,
):
    declared = {f.name for f in load_contract().sheet("tong_hop").fields if f.detail is not None}
    assert declared <= columns_of(warehouse, "intermediate.int_submission_detail_totals")
    assert declared <= columns_of(warehouse, "intermediate.int_submission_figures")


def test_the_warehouses_grading_rules_are_the_contracts(warehouse: duckdb.DuckDBPyConnection):
    in_warehouse = {
        row[0]: row[1:]
        for row in warehouse.execute(
            "select grading_rule, first_year, last_year, org_grades, member_htxsnv_cap_ratio, "
            "member_htxsnv_cap_denominator from staging.stg_raw__grading_rules"
        ).fetchall()
    }
    in_contract = {
        rule.version: (
            rule.first_year,
            rule.last_year,
            list(rule.org_grades),
            None if rule.htxsnv_cap is None else rule.htxsnv_cap.ratio,
            None if rule.htxsnv_cap is None else rule.htxsnv_cap.denominator,
        )
        for rule in load_contract().grading_rules
    }
    normalised = {
        version: (first, last, grades, None if ratio is None else float(ratio), denominator)
        for version, (first, last, grades, ratio, denominator) in in_warehouse.items()
    }
    assert normalised == in_contract
    years = dict(warehouse.execute("select report_year, grading_rule from marts.dim_year").fetchall())
    assert years and all(load_contract().grading_rule(y).version == rule for y, rule in years.items())


def dbt_sql() -> dict[Path, str]:
    return {path: path.read_text(encoding="utf-8") for path in sorted(DBT.glob("[mt]*/**/*.sql"))}


def test_no_model_restates_a_grading_rule_or_the_reform_year():
    """The rule versions, their year spans and the reform's year live in the contract and REFORM_DAY only."""
    versions = [rule.version for rule in load_contract().grading_rules]
    pattern = re.compile("|".join([re.escape(v) for v in versions] + [r"\b20(0[89]|1[0-9]|2[0-9])\b"]))
    found = [
        f"{path.relative_to(REPO_ROOT)}:{number}: {line.strip()}"
        for path, text in dbt_sql().items()
        for number, line in enumerate(text.splitlines(), 1)
        if pattern.search(line) and not line.strip().startswith(("--", "{#"))
    ]
    assert not found, "a rule restated in dbt: " + "; ".join(found)


def test_no_model_parses_a_committee_key():
    """Keys are Python's (units.keys): dbt joins on them or on the codes intake stores, never takes them apart."""
    parsing = re.compile(r"(regexp_\w+|split_part|string_split|str_split|substr\w*|left|right)\s*\([^()]*_key\b", re.I)
    found = [str(path.relative_to(REPO_ROOT)) for path, text in dbt_sql().items() if parsing.search(text)]
    assert not found, f"models that parse a key: {found}"


def fixture_keys() -> Iterator[tuple[str, str]]:
    """Every committee or unit key in the dbt unit tests' fixtures."""
    for path in sorted(DBT.glob("models/**/*unit_tests.yml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        for unit_test in document.get("unit_tests", []):
            rows = [row for given in unit_test.get("given", []) for row in given.get("rows", []) or []]
            rows += unit_test.get("expect", {}).get("rows", []) or []
            for row in rows:
                for column, value in row.items():
                    if column.endswith("_key") and column != "committee_year_id" and isinstance(value, str):
                        yield f"{path.name}:{unit_test['name']}", value


def test_the_unit_tests_use_keys_the_product_writes():
    units = {str(row["unit_key"]) for row in admin_reference().units}
    generic, by_province = registry()
    direct_codes = {entry.code for entry in generic} | {e.code for entries in by_province.values() for e in entries}
    keys = list(fixture_keys())
    assert keys, "no key found in the dbt unit tests"
    wrong = []
    for where, key in keys:
        parts = parse_key(key)
        if parts is None:
            wrong.append(f"{where}: {key} is in no format of units.keys")
        elif parts.kind == "unit" and key not in units:
            wrong.append(f"{where}: {key} is no administrative unit")
        elif parts.kind == "direct" and (
            parts.code not in direct_codes or f"{parts.era}:province:{parts.province_code}" not in units
        ):
            wrong.append(f"{where}: {key} is no registered direct committee")
    assert not wrong, "; ".join(wrong)


def test_every_key_intake_writes_is_in_the_one_format(warehouse: duckdb.DuckDBPyConnection):
    keys = [key for (key,) in warehouse.execute("select committee_key from raw.submissions").fetchall()]
    assert keys and all(parse_key(key) is not None for key in keys)
