"""Checks against a committee's own history: stock roll-forward, year-over-year outliers, villages,
and a province's own aggregate report against its committees.

Nothing here computes a figure: a submission's figures are the warehouse's view
``intermediate.int_submission_figures`` and which submission counts for a committee × year is
``intermediate.int_submissions__counted`` (dbt views over ``raw``, so tonight's submissions are in them
as soon as intake commits). The result is one row per report under validation, with the columns the
history rules check.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import SupportsFloat

import duckdb
import pandas as pd

from contract.model import Contract
from expectations.frames import as_number
from units.keys import province_code_of
from warehouse import views

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


Figures = dict[str, float | None]
History = dict[tuple[str, int], Figures]


def _figure_columns(prefix: str) -> str:
    return ", ".join(f"{prefix}.{name}" for name in FIGURES)


def _as_figures(values: Sequence[SupportsFloat | None]) -> dict[str, float | None]:
    return {name: None if value is None else float(value) for name, value in zip(FIGURES, values, strict=True)}


def submission_figures(connection: duckdb.DuckDBPyConnection, submission_ids: list[str]) -> dict[str, Figures]:
    """What each submission says (the warehouse's view), for the reports under validation."""
    rows = connection.execute(
        f"SELECT f.submission_id, {_figure_columns('f')} FROM {views.FIGURES} f "
        "WHERE f.submission_id IN (SELECT unnest(?))",
        [submission_ids],
    ).fetchall()
    return {row[0]: _as_figures(row[1:]) for row in rows}


def load_history(connection: duckdb.DuckDBPyConnection, committee_keys: list[str]) -> History:
    """The figures of the submission that counts, for every year of these committees."""
    rows = connection.execute(
        f"SELECT c.committee_key, c.report_year, {_figure_columns('f')} FROM {views.COUNTED} c "
        f"JOIN {views.FIGURES} f ON f.submission_id = c.submission_id "
        "WHERE c.committee_key IN (SELECT unnest(?))",
        [committee_keys],
    ).fetchall()
    return {(row[0], int(row[1])): _as_figures(row[2:]) for row in rows}


MEAN_AD_FACTOR = 1.253314  # √(π/2): the mean absolute deviation's scale to σ, used when MAD is 0


@dataclass(frozen=True)
class Outlier:
    """How far a value lies from the committee's earlier years, and which spread measured it."""

    score: float
    spread: str  # "mad" | "mean_ad" | "constant"


def modified_z(value: float, earlier: list[float]) -> Outlier | None:
    """0.6745·|x − median| / MAD over the committee's own earlier years; None with too few years.

    When MAD is 0 (most earlier years equal) it falls back, as DHIS2 and IBM's modified z-score do, to
    |x − median| / (1.253314 · mean absolute deviation). When that is 0 too, the earlier years are all
    the same figure: any other value is flagged (score infinite), the same value scores 0.
    """
    if len(earlier) < MIN_HISTORY_YEARS:
        return None
    median = statistics.median(earlier)
    distance = abs(value - median)
    mad = statistics.median(abs(x - median) for x in earlier)
    if mad > 0:
        return Outlier(MODIFIED_Z_FACTOR * distance / mad, "mad")
    mean_ad = statistics.fmean(abs(x - median) for x in earlier)
    if mean_ad > 0:
        return Outlier(distance / (MEAN_AD_FACTOR * mean_ad), "mean_ad")
    return Outlier(math.inf if distance else 0.0, "constant")


def shown_score(score: float) -> float | str:
    return round(score, 1) if math.isfinite(score) else "∞"


SPREAD_NOTES = {
    "mad": "",
    "mean_ad": "; độ lệch tuyệt đối trung vị bằng 0 nên dùng độ lệch tuyệt đối trung bình × 1,253314",
    "constant": "; các năm trước đều cùng một số liệu",
}


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
            figure
            for (key, earlier_year), figures in history.items()
            if key == current.committee_key and earlier_year < year and (figure := figures.get(metric)) is not None
        ]
        outlier = None if value is None else modified_z(value, earlier)
        row[f"{metric}_value"] = value
        row[f"{metric}_median"] = statistics.median(earlier) if earlier else None
        row[f"{metric}_z"] = None if outlier is None else shown_score(outlier.score)
        row[f"{metric}_typical"] = None if outlier is None else bool(outlier.score < MODIFIED_Z_THRESHOLD)
        row[f"{metric}_spread_note"] = "" if outlier is None else SPREAD_NOTES[outlier.spread]
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
    *(f"{m}_{suffix}" for m in OUTLIER_METRICS for suffix in ("value", "median", "z", "typical", "spread_note")),
]


def committees_totals(
    connection: duckdb.DuckDBPyConnection, wanted: Collection[tuple[str, int]]
) -> dict[tuple[str, int], tuple[int, dict[str, float | None]]]:
    """For each (province code, year): how many committees of the province count for the year, and their figures
    added up; a pair with no committee is left out. One query for all the pairs."""
    if not wanted:
        return {}
    sums = ", ".join(f"sum(t.{name})" for name in RECONCILED)
    codes, years = zip(*sorted(wanted), strict=True)
    rows = connection.execute(
        f"SELECT t.province_code, t.report_year, count(*), {sums} FROM {views.COMMITTEE_YEAR_TOTALS} t "
        "JOIN (SELECT unnest(?) AS province_code, unnest(?) AS report_year) w "
        "ON t.province_code = w.province_code AND t.report_year = w.report_year "
        "GROUP BY t.province_code, t.report_year",
        [list(codes), list(years)],
    ).fetchall()
    return {
        (str(code), int(year)): (
            int(committees),
            {name: None if value is None else float(value) for name, value in zip(RECONCILED, totals, strict=True)},
        )
        for code, year, committees, *totals in rows
    }


def first_rows(summary: pd.DataFrame | None, fields: Collection[str]) -> dict[tuple[str, str], int]:
    """The first tong_hop row of each (submission, field) among ``fields``, as the sheet was loaded."""
    if summary is None or summary.empty:
        return {}
    picked = summary[summary["field"].isin(list(fields))].drop_duplicates(["submission_id", "field"])
    return {
        (str(s), str(f)): int(r)
        for s, f, r in zip(picked["submission_id"], picked["field"], picked["sheet_row"], strict=True)
    }


def reconciliation_frame(
    connection: duckdb.DuckDBPyConnection, currents: list[Current], tables: Mapping[str, pd.DataFrame]
) -> pd.DataFrame:
    """A province's own aggregate report against the accepted reports of its committees, figure by figure."""
    wanted = {
        (code, current.report_year): current
        for current in currents
        if (code := province_code_of(current.committee_key)) is not None and current.report_year is not None
    }
    totals_of = committees_totals(connection, list(wanted))
    summary_rows = first_rows(tables["tong_hop"], RECONCILED) if totals_of else {}  # every sheet is loaded
    rows: list[dict[str, object]] = []
    for current in currents:
        code = province_code_of(current.committee_key)
        if code is None or current.report_year is None:
            continue
        committees, totals = totals_of.get((code, current.report_year), (0, {}))
        if committees == 0:
            continue
        for metric in RECONCILED:
            declared = current.figures.get(metric)
            if declared is None:
                continue
            rows.append(
                {
                    "submission_id": current.submission_id,
                    "sheet_row": summary_rows.get((current.submission_id, metric)),
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
    by_committee: dict[str, History] = {}  # each report looks at its own committee's years only
    for (key, year), figures in history.items():
        by_committee.setdefault(key, {})[(key, year)] = figures
    rows = [history_row(c, by_committee.get(c.committee_key, {}) if c.committee_key else {}) for c in currents]
    return pd.DataFrame(rows, columns=HISTORY_COLUMNS).astype(
        {"villages_not_fewer": "object", **{f"{m}_typical": "object" for m in OUTLIER_METRICS}}
    )


def summary_rows_of(tables: Mapping[str, pd.DataFrame]) -> dict[str, int]:
    """The tong_hop row of members_total of each submission, where a history finding points."""
    return {s: row for (s, _), row in first_rows(tables.get("tong_hop"), ["members_total"]).items()}


def summary_detail_frame(
    connection: duckdb.DuckDBPyConnection,
    contract: Contract,
    tables: Mapping[str, pd.DataFrame],
    detailed_ids: Collection[str],
) -> pd.DataFrame:
    """tong_hop rows of detailed reports: the declared value against the warehouse's total recomputed from the
    detail sheets (int_submission_detail_totals, generated from the contract's ``detail`` declarations)."""
    fields = [f.name for f in contract.sheet("tong_hop").fields if f.detail is not None]
    summary = tables.get("tong_hop")
    columns = [*(summary.columns if summary is not None else ["submission_id", "sheet_row", "field", "value"])]
    columns += ["matches_detail__declared", "matches_detail__computed"]
    if summary is None or summary.empty or not detailed_ids:
        return pd.DataFrame(columns=columns)
    rows = summary[summary["submission_id"].isin(list(detailed_ids)) & summary["field"].isin(fields)]
    totals = connection.execute(
        f"SELECT submission_id, {', '.join(fields)} FROM {views.DETAIL_TOTALS} "
        "WHERE submission_id IN (SELECT unnest(?))",
        [sorted(detailed_ids)],
    ).df()
    computed = totals.melt(id_vars="submission_id", var_name="field", value_name="matches_detail__computed")
    frame = rows.merge(computed, on=["submission_id", "field"], how="left")
    frame["matches_detail__declared"] = as_number(frame["value"])
    computed_values = pd.to_numeric(frame["matches_detail__computed"], errors="coerce").astype("float64")
    frame["matches_detail__computed"] = computed_values.where(frame["matches_detail__declared"].notna())
    return frame[columns].reset_index(drop=True)


def warehouse_frames(
    connection: duckdb.DuckDBPyConnection,
    contract: Contract,
    tables: Mapping[str, pd.DataFrame],
    keys_and_years: Mapping[str, tuple[str | None, int | None]],
    detailed_ids: Collection[str],
) -> dict[str, pd.DataFrame]:
    """The frames of the checks that read the warehouse's definitions: tổng hợp against the detail totals, the
    committee's history, the province's committees."""
    views.require_views(connection)
    figures = submission_figures(connection, list(keys_and_years))
    summary_rows = summary_rows_of(tables)
    currents = [
        Current(submission_id, key, year, figures.get(submission_id, {}), summary_rows.get(submission_id))
        for submission_id, (key, year) in keys_and_years.items()
    ]
    keys = sorted({key for key, _ in keys_and_years.values() if key})
    return {
        "tong_hop_detail": summary_detail_frame(connection, contract, tables, detailed_ids),
        "history": history_frame(currents, load_history(connection, keys)),
        "reconciliation": reconciliation_frame(connection, currents, tables),
    }
