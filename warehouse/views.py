"""The warehouse's own definitions that Python reads: dbt views over ``raw`` (dbt_project/models).

They are the one definition of which submission counts for a committee × year and of what a
submission says. Being views, they see tonight's rows as soon as intake commits; the night builds
them before validation (``pipeline.nightly.build_views``), and every reader here fails loudly when
they are missing rather than computing a figure of its own.
"""

from __future__ import annotations

from typing import Final

import duckdb

INTERMEDIATE_SCHEMA: Final = "intermediate"
LATEST_OUTCOMES: Final = f"{INTERMEDIATE_SCHEMA}.int_submission_outcomes__latest"
COUNTED: Final = f"{INTERMEDIATE_SCHEMA}.int_submissions__counted"
APPROVAL: Final = f"{INTERMEDIATE_SCHEMA}.int_submissions__approval"  # each accepted one's approval, held by a lock?
FIGURES: Final = f"{INTERMEDIATE_SCHEMA}.int_submission_figures"
DETAIL_TOTALS: Final = f"{INTERMEDIATE_SCHEMA}.int_submission_detail_totals"
COMMITTEE_YEAR_TOTALS: Final = f"{INTERMEDIATE_SCHEMA}.int_committee_year_totals"
# the dbt selection that builds them (and the staging views they read)
DBT_SELECTION: Final = ("+int_submissions__counted", "+int_submission_figures", "+int_committee_year_totals")


class WarehouseViewsMissing(RuntimeError):
    """The warehouse's views have not been built: a check that needs them cannot run."""


def require_views(connection: duckdb.DuckDBPyConnection) -> None:
    names = {LATEST_OUTCOMES, COUNTED, FIGURES, DETAIL_TOTALS, COMMITTEE_YEAR_TOTALS}
    found = {
        f"{schema}.{name}"
        for schema, name in connection.execute(
            "SELECT schema_name, view_name FROM duckdb_views() WHERE schema_name = ?", [INTERMEDIATE_SCHEMA]
        ).fetchall()
    }
    missing = sorted(names - found)
    if missing:
        raise WarehouseViewsMissing(
            f"the warehouse views {', '.join(missing)} do not exist: build them first (pipeline.nightly.build_views)"
        )
