"""Checks against a committee's own history: stock roll-forward, year-over-year outliers, villages.

The figures of the reports under validation are computed from their rows (pandas); the history is
the latest accepted version of every earlier year of the same committee, read from the warehouse.
The result is one row per report under validation, with the columns the history rules check.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import dataclass

import duckdb
import pandas as pd

from expectations.frames import as_number
from warehouse.raw import RAW_SCHEMA

MODIFIED_Z_THRESHOLD = 3.5
MODIFIED_Z_FACTOR = 0.6745
MIN_HISTORY_YEARS = 3
OUTLIER_METRICS = ("members_total", "admitted", "branches_total")
FLOW_IN = ("admitted", "transferred_in")
FLOW_OUT = ("deceased", "struck_off", "expelled_dismissed", "transferred_out")
FIGURES = ("orgs_total", "members_total", "branches_total", "villages_with_branch", *FLOW_IN, *FLOW_OUT)
RECONCILED = ("orgs_total", "branches_total", "members_total")


@dataclass(frozen=True)
class Current:
    """A report under validation: who, which year, and its figures."""

    submission_id: str
    committee_key: str | None
    report_year: int | None
    figures: Mapping[str, float | None]
    summary_row: int | None  # row of members_total in tong_hop, where a finding points


def figures_from_tables(tables: Mapping[str, pd.DataFrame], submission_id: str) -> dict[str, float | None]:
    """A report's totals: from its detail rows when it has them, else from its own tong_hop."""

    def rows(sheet: str) -> pd.DataFrame:
        frame = tables.get(sheet)
        return (
            frame[frame["submission_id"] == submission_id] if frame is not None and not frame.empty else pd.DataFrame()
        )

    organisations, branches, villages, summary = (
        rows("to_chuc_co_so"),
        rows("chi_bo"),
        rows("thon_ban"),
        rows("tong_hop"),
    )
    declared = dict(zip(summary["field"], as_number(summary["value"]), strict=True)) if not summary.empty else {}
    figures: dict[str, float | None] = {}
    if organisations.empty:
        return {name: declared.get(name) for name in FIGURES}
    for name in ("members_total", *FLOW_IN, *FLOW_OUT):
        values = as_number(organisations[name])
        figures[name] = float(values.sum()) if values.notna().any() else None
    figures["branches_total"] = float(len(branches))
    figures["orgs_total"] = float(len(organisations))
    if villages.empty:
        figures["villages_with_branch"] = declared.get("villages_with_branch")
    else:
        served = villages["branch_code"].notna() | (villages["joint_branch"] == "true")
        figures["villages_with_branch"] = float(served.sum())
    return figures


def figures_sql(accepted_filter: str) -> str:
    """Figures of the latest accepted version per committee × year among the submissions the filter keeps."""
    return f"""
WITH accepted AS (
    SELECT s.submission_id, s.committee_key, s.report_year, s.version, s.report_kind
    FROM {RAW_SCHEMA}.submissions s
    JOIN {RAW_SCHEMA}.submission_outcomes o ON o.submission_id = s.submission_id AND o.outcome = 'accepted'
    WHERE {accepted_filter}
    QUALIFY row_number() OVER (PARTITION BY s.committee_key, s.report_year ORDER BY s.version DESC) = 1
),
organisations AS (
    SELECT submission_id, count(*) AS orgs_total,
           sum(try_cast(members_total AS BIGINT)) AS members_total,
           sum(try_cast(admitted AS BIGINT)) AS admitted
    FROM {RAW_SCHEMA}.to_chuc_co_so WHERE submission_id IN (SELECT submission_id FROM accepted) GROUP BY 1
),
branches AS (
    SELECT submission_id, count(*) AS branches_total
    FROM {RAW_SCHEMA}.chi_bo WHERE submission_id IN (SELECT submission_id FROM accepted) GROUP BY 1
),
villages AS (
    SELECT submission_id,
           count(*) FILTER (WHERE branch_code IS NOT NULL OR joint_branch = 'true') AS villages_with_branch
    FROM {RAW_SCHEMA}.thon_ban WHERE submission_id IN (SELECT submission_id FROM accepted) GROUP BY 1
),
summary AS (
    SELECT submission_id,
           max(try_cast(value AS BIGINT)) FILTER (WHERE field = 'orgs_total') AS orgs_total,
           max(try_cast(value AS BIGINT)) FILTER (WHERE field = 'members_total') AS members_total,
           max(try_cast(value AS BIGINT)) FILTER (WHERE field = 'admitted') AS admitted,
           max(try_cast(value AS BIGINT)) FILTER (WHERE field = 'branches_total') AS branches_total,
           max(try_cast(value AS BIGINT)) FILTER (WHERE field = 'villages_with_branch') AS villages_with_branch
    FROM {RAW_SCHEMA}.tong_hop WHERE submission_id IN (SELECT submission_id FROM accepted) GROUP BY 1
)
SELECT a.committee_key, a.report_year,
       CASE WHEN a.report_kind = 'detailed' THEN o.orgs_total ELSE s.orgs_total END AS orgs_total,
       CASE WHEN a.report_kind = 'detailed' THEN o.members_total ELSE s.members_total END AS members_total,
       CASE WHEN a.report_kind = 'detailed' THEN o.admitted ELSE s.admitted END AS admitted,
       CASE WHEN a.report_kind = 'detailed' THEN coalesce(b.branches_total, 0) ELSE s.branches_total END
           AS branches_total,
       CASE WHEN a.report_kind = 'detailed' AND v.villages_with_branch IS NOT NULL THEN v.villages_with_branch
            ELSE s.villages_with_branch END AS villages_with_branch
FROM accepted a
LEFT JOIN organisations o USING (submission_id)
LEFT JOIN branches b USING (submission_id)
LEFT JOIN villages v USING (submission_id)
LEFT JOIN summary s USING (submission_id)
"""


HISTORY_SQL = figures_sql("s.committee_key IN (SELECT unnest(?))")
COMMITTEES_OF_PROVINCE_SQL = figures_sql(
    "s.province_code = ? AND s.report_year = ? AND s.committee_key NOT LIKE '%:province:%'"
)


History = dict[tuple[str, int], dict[str, float | None]]


def load_history(connection: duckdb.DuckDBPyConnection, committee_keys: list[str]) -> History:
    """Figures of the latest accepted version of every year of these committees."""
    cursor = connection.execute(HISTORY_SQL, [committee_keys])
    names = [d[0] for d in cursor.description]
    history: History = {}
    for row in cursor.fetchall():
        record = dict(zip(names, row, strict=True))
        key = (record.pop("committee_key"), int(record.pop("report_year")))
        history[key] = {name: None if value is None else float(value) for name, value in record.items()}
    return history


def modified_z(value: float, earlier: list[float]) -> float | None:
    """0.6745·|x − median| / MAD over the committee's own earlier years; None when MAD is 0 or too few years."""
    if len(earlier) < MIN_HISTORY_YEARS:
        return None
    median = statistics.median(earlier)
    mad = statistics.median(abs(x - median) for x in earlier)
    if mad == 0:
        return None
    return MODIFIED_Z_FACTOR * abs(value - median) / mad


def roll_forward(previous: float | None, figures: Mapping[str, float | None]) -> float | None:
    """Members at year end expected from last year's stock and this year's movements."""
    if previous is None or any(figures.get(name) is None for name in (*FLOW_IN, *FLOW_OUT)):
        return None
    inflow = sum(figures[name] or 0 for name in FLOW_IN)
    outflow = sum(figures[name] or 0 for name in FLOW_OUT)
    return previous + inflow - outflow


def history_row(current: Current, history: History) -> dict[str, object]:
    row: dict[str, object] = {"submission_id": current.submission_id, "sheet_row": current.summary_row}
    if current.committee_key is None or current.report_year is None:
        return row
    year = current.report_year
    previous = history.get((current.committee_key, year - 1))
    members = current.figures.get("members_total")
    if previous is not None and members is not None:
        expected = roll_forward(previous.get("members_total"), current.figures)
        row.update(
            previous_year=year - 1,
            previous_members=previous.get("members_total"),
            roll_forward__declared=members,
            roll_forward__computed=expected,
            roll_forward_gap=None if expected is None else members - expected,
        )
        now, before = current.figures.get("villages_with_branch"), previous.get("villages_with_branch")
        if now is not None and before is not None:
            row.update(
                villages_not_fewer=bool(now >= before),
                previous_villages_with_branch=before,
                villages_with_branch_now=now,
            )
    for metric in OUTLIER_METRICS:
        value = current.figures.get(metric)
        earlier = [
            figures[metric]
            for (key, earlier_year), figures in history.items()
            if key == current.committee_key and earlier_year < year and figures.get(metric) is not None
        ]
        score = None if value is None else modified_z(value, earlier)
        row[f"{metric}_value"] = value
        row[f"{metric}_median"] = statistics.median(earlier) if earlier else None
        row[f"{metric}_z"] = None if score is None else round(score, 1)
        row[f"{metric}_typical"] = None if score is None else bool(score < MODIFIED_Z_THRESHOLD)
    return row


HISTORY_COLUMNS = [
    "submission_id",
    "sheet_row",
    "previous_year",
    "previous_members",
    "roll_forward__declared",
    "roll_forward__computed",
    "roll_forward_gap",
    "villages_not_fewer",
    "previous_villages_with_branch",
    "villages_with_branch_now",
    *(f"{m}_{suffix}" for m in OUTLIER_METRICS for suffix in ("value", "median", "z", "typical")),
]


def province_code_of(committee_key: str | None) -> str | None:
    """The code of a province-level unit key ("pre-2025:province:14" → "14"); None for other committees."""
    if committee_key and ":province:" in committee_key:
        return committee_key.rsplit(":", 1)[1]
    return None


def committees_total(
    connection: duckdb.DuckDBPyConnection, province_code: str, year: int
) -> tuple[int, dict[str, float | None]]:
    """How many committee reports of the province are accepted for the year, and their figures added up."""
    cursor = connection.execute(COMMITTEES_OF_PROVINCE_SQL, [province_code, year])
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    totals = {m: float(sum(r[m] for r in rows if r[m] is not None)) if rows else None for m in RECONCILED}
    return len(rows), totals


def reconciliation_frame(
    connection: duckdb.DuckDBPyConnection, currents: list[Current], tables: Mapping[str, pd.DataFrame]
) -> pd.DataFrame:
    """A province's own aggregate report against the accepted reports of its committees, figure by figure."""
    rows: list[dict[str, object]] = []
    for current in currents:
        code = province_code_of(current.committee_key)
        if code is None or current.report_year is None:
            continue
        committees, totals = committees_total(connection, code, current.report_year)
        if committees == 0:
            continue
        summary = tables.get("tong_hop")
        for metric in RECONCILED:
            declared = current.figures.get(metric)
            if declared is None:
                continue
            sheet_rows = summary[(summary["submission_id"] == current.submission_id) & (summary["field"] == metric)]
            rows.append(
                {
                    "submission_id": current.submission_id,
                    "sheet_row": int(sheet_rows["sheet_row"].iloc[0]) if len(sheet_rows) else None,
                    "field": metric,
                    "committees": committees,
                    "province_matches__declared": declared,
                    "province_matches__computed": totals[metric],
                }
            )
    columns = [
        "submission_id",
        "sheet_row",
        "field",
        "committees",
        "province_matches__declared",
        "province_matches__computed",
    ]
    return pd.DataFrame(rows, columns=columns)


def history_frame(currents: list[Current], history: History) -> pd.DataFrame:
    return pd.DataFrame([history_row(c, history) for c in currents], columns=HISTORY_COLUMNS).astype(
        {"villages_not_fewer": "object", **{f"{m}_typical": "object" for m in OUTLIER_METRICS}}
    )
