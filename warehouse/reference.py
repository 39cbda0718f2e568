"""Reference tables the warehouse reads: the contract's rules and the eras, exported from their one definition.

dbt never restates a rule of the contract: the grading rules of each year (scale, organisation grades,
HTXSNV cap ratio and denominator), the grades, the contract's fields and how each `tong_hop` total is
recomputed from the detail sheets are written here from `contract/contract.yaml`, and the two
administrative eras from `units.admin_units.REFORM_DAY`. They are recreated by every `ensure_schema`,
so a change of the contract reaches the warehouse on the next intake, the next `chibo validate` and
the next night.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Final

import duckdb

from contract.model import Contract, GradingRule
from units.admin_units import FIRST_POST_REFORM_YEAR, POST_REFORM, PRE_REFORM, REFORM_DAY

LAST_REPORT_YEAR: Final = 2100  # open end of the current era

# table → (column definitions, rows builder)
REFERENCE_COLUMNS: Final[dict[str, dict[str, str]]] = {
    "ref_grades": {
        "code": "VARCHAR",
        "label": "VARCHAR",
        "rank": "INTEGER",
        "scale": "VARCHAR",
        "harmonised": "VARCHAR",
        "harmonisation_exact": "BOOLEAN",
    },
    "ref_grading_rules": {
        "grading_rule": "VARCHAR",
        "grading_rule_name": "VARCHAR",
        "first_year": "INTEGER",
        "last_year": "INTEGER",
        "org_grade_scale": "VARCHAR",
        "org_grades": "VARCHAR[]",
        "member_htxsnv_cap_ratio": "DECIMAL(5, 2)",
        "member_htxsnv_cap_denominator": "VARCHAR",
    },
    "ref_contract_fields": {
        "sheet": "VARCHAR",
        "field": "VARCHAR",
        "type": "VARCHAR",
        "unit": "VARCHAR",
        "required": "BOOLEAN",
        "part_of": "VARCHAR",
        "detail_sheet": "VARCHAR",
        "detail_aggregate": "VARCHAR",
        "detail_column": "VARCHAR",
        "detail_where_field": "VARCHAR",
        "detail_where_value": "VARCHAR",
        "detail_any_of": "VARCHAR",  # comma-separated field names
    },
    "ref_eras": {
        "era": "VARCHAR",
        "first_report_year": "INTEGER",
        "last_report_year": "INTEGER",
        "valid_from": "DATE",
        "valid_to": "DATE",
        "submitting_level": "VARCHAR",
    },
}


def org_grade_scale(rule: GradingRule, contract: Contract) -> str:
    """The organisation scale of a rule: the scale its grades share beyond those valid on both."""
    scales = {g.scale for g in contract.grades if g.code in rule.org_grades and g.scale != "both"}
    if len(scales) != 1:
        raise ValueError(f"grading rule {rule.version}: its grades mix scales {sorted(scales)}")
    return scales.pop()


def grading_rule_rows(contract: Contract) -> list[tuple[object, ...]]:
    return [
        (
            rule.version,
            rule.name,
            rule.first_year,
            rule.last_year,
            org_grade_scale(rule, contract),
            list(rule.org_grades),
            rule.htxsnv_cap.ratio if rule.htxsnv_cap else None,
            rule.htxsnv_cap.denominator if rule.htxsnv_cap else None,
        )
        for rule in contract.grading_rules
    ]


def contract_field_rows(contract: Contract) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for sheet in contract.sheets:
        for field in sheet.fields:
            detail = field.detail
            where = list(detail.where.items()) if detail else []
            if len(where) > 1:
                raise ValueError(f"{sheet.name}.{field.name}: a detail aggregate filters on one column at most")
            where_field, where_value = where[0] if where else (None, None)
            rows.append(
                (
                    sheet.name,
                    field.name,
                    field.type,
                    field.unit,
                    field.required,
                    field.part_of,
                    detail.sheet if detail else None,
                    detail.aggregate if detail else None,
                    detail.column if detail else None,
                    where_field,
                    where_value,
                    ",".join(detail.any_of) if detail and detail.any_of else None,
                )
            )
    return rows


def era_rows() -> list[tuple[object, ...]]:
    return [
        (PRE_REFORM, None, FIRST_POST_REFORM_YEAR - 1, None, REFORM_DAY - timedelta(days=1), "huyen"),
        (POST_REFORM, FIRST_POST_REFORM_YEAR, LAST_REPORT_YEAR, REFORM_DAY, None, "xa"),
    ]


def reference_rows(contract: Contract) -> dict[str, list[tuple[object, ...]]]:
    return {
        "ref_grades": [(g.code, g.label, g.rank, g.scale, g.harmonised, g.exact) for g in contract.grades],
        "ref_grading_rules": grading_rule_rows(contract),
        "ref_contract_fields": contract_field_rows(contract),
        "ref_eras": era_rows(),
    }


def write_reference(connection: duckdb.DuckDBPyConnection, schema: str, contract: Contract) -> None:
    """Recreate every reference table from its definition (in the caller's transaction, if any)."""
    for table, rows in reference_rows(contract).items():
        columns: Sequence[tuple[str, str]] = list(REFERENCE_COLUMNS[table].items())
        definition = ", ".join(f'"{name}" {kind}' for name, kind in columns)
        connection.execute(f"CREATE OR REPLACE TABLE {schema}.{table} ({definition})")
        if rows:  # one statement: DuckDB's executemany costs a statement a row (0.3 s for the contract's fields)
            row_placeholders = "(" + ", ".join("?" for _ in columns) + ")"
            values = ", ".join(row_placeholders for _ in rows)
            connection.execute(f"INSERT INTO {schema}.{table} VALUES {values}", [v for row in rows for v in row])
