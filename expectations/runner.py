"""Run the suites with Great Expectations and turn failures into attributed, readable findings.

One GX context per night declares each frame's suite once and runs it on the night's frames, part by part
(``NightValidation``: a part is some of the pending submissions, so that memory stays bounded on a large
night); each unexpected row is traced back to its submission, sheet and row through ``row_key``.
Validation fails closed: a check that cannot run (its expectation cannot be built, raises, or fails
without saying which rows) is an *errored* finding for every submission of its frame (in that part), which holds
the report; it is never counted as passed.
Great Expectations is imported inside the functions: it takes seconds to import.
"""

from __future__ import annotations

import logging
import numbers
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from contract.model import Contract, load_contract
from expectations.rules import ERRORED_FIX, ERRORED_MESSAGE, Rule, all_rules

log = logging.getLogger(__name__)

ROW_KEY = "row_key"
MISSING_COLUMN_RULE_ID = "bao_cao.thieu_cot"
REQUIRED_SUFFIX = ".bat_buoc"


@dataclass(frozen=True)
class Finding:
    submission_id: str
    rule_id: str
    severity: str
    sheet: str
    sheet_row: int | None
    field: str | None
    value: str | None
    message: str
    fix: str
    docs_url: str | None = None  # the GX Data Docs page of the suite run that found it
    errored: bool = False  # the check could not run: the report is held, whatever the severity
    detail: str | None = None  # technical detail for the operators (English, the exception), when errored


def build_expectation(rule: Rule) -> Any:
    import great_expectations as gx

    meta = {"rule_id": rule.rule_id}
    if rule.kind == "not_null":
        return gx.expectations.ExpectColumnValuesToNotBeNull(meta=meta, **rule.params)
    if rule.kind == "regex":
        return gx.expectations.ExpectColumnValuesToMatchRegex(meta=meta, **rule.params)
    if rule.kind == "in_set":
        return gx.expectations.ExpectColumnValuesToBeInSet(meta=meta, **rule.params)
    if rule.kind == "is_true":
        return gx.expectations.ExpectColumnValuesToBeInSet(meta=meta, column=rule.params["column"], value_set=[True])
    if rule.kind == "unique":
        return gx.expectations.ExpectCompoundColumnsToBeUnique(meta=meta, **rule.params)
    if rule.kind == "pair_equal":
        return gx.expectations.ExpectColumnPairValuesToBeEqual(
            meta=meta, ignore_row_if="either_value_is_missing", **rule.params
        )
    raise ValueError(f"unknown rule kind {rule.kind}")


@dataclass(frozen=True)
class SuiteRun:
    failed: dict[str, dict[str, list[int]]]  # frame → rule id → row_key of every unexpected row
    pages: dict[str, Path]  # frame → its Data Docs page (when Data Docs were built)
    errored: dict[str, dict[str, str]] = field(default_factory=dict)  # frame → rule id → why it could not run


def raised_exception(exception_info: Any) -> str | None:
    """The exception message when GX says an expectation raised, else None. GX reports it either flat
    (``{"raised_exception": True, "exception_message": …}``) or per metric (``{metric id: {…}}``)."""
    if not isinstance(exception_info, Mapping):
        return None
    entries = [exception_info] if "raised_exception" in exception_info else list(exception_info.values())
    messages = [
        str(entry.get("exception_message") or "exception without a message")
        for entry in entries
        if isinstance(entry, Mapping) and entry.get("raised_exception")
    ]
    return "; ".join(messages) or None


def describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


@dataclass
class DeclaredSuite:
    """A frame's suite as declared in the night's context: its validation definition (None when the suite
    could not be declared), the rules whose expectation could not be built, and why the suite could not be."""

    definition: Any  # None when the suite could not be declared
    unbuilt: dict[str, str]
    failure: str | None = None


def declare_suite(context: Any, source: Any, frame_name: str, frame_rules: list[Rule]) -> DeclaredSuite:
    """One frame's suite, its dataframe asset and its validation definition, declared once a night."""
    import great_expectations as gx

    unbuilt: dict[str, str] = {}
    suite = context.suites.add(gx.ExpectationSuite(name=f"chibo.{frame_name}"))
    for rule in frame_rules:
        try:
            suite.add_expectation(build_expectation(rule))
        except Exception as error:  # noqa: BLE001 - a check that cannot be built is a finding, not a crash
            unbuilt[rule.rule_id] = f"building the expectation failed: {describe(error)}"
    batch_definition = source.add_dataframe_asset(name=frame_name).add_batch_definition_whole_dataframe("night")
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=f"chibo.{frame_name}", data=batch_definition, suite=suite)
    )
    return DeclaredSuite(definition, unbuilt)


def run_declared(
    declared: DeclaredSuite, frame: pd.DataFrame, run_id: Any
) -> tuple[Any, dict[str, list[int]], dict[str, str]]:
    """Run a declared suite on one frame: the GX result, the failing rows per rule, and the rules that could
    not run."""
    errored = dict(declared.unbuilt)
    result = declared.definition.run(
        batch_parameters={"dataframe": frame},
        result_format={"result_format": "COMPLETE", "unexpected_index_column_names": [ROW_KEY]},
        run_id=run_id,
    )
    failed: dict[str, list[int]] = {}
    for expectation_result in result.results:
        if expectation_result.success:
            continue
        rule_id = expectation_result.expectation_config.meta["rule_id"]
        details = expectation_result.result or {}
        exception = raised_exception(expectation_result.exception_info)
        if exception is not None:
            errored[rule_id] = f"the expectation raised: {exception}"
        elif "unexpected_index_list" not in details:
            errored[rule_id] = "the expectation failed without naming the failing rows"
        else:
            failed[rule_id] = [int(entry[ROW_KEY]) for entry in details["unexpected_index_list"] or []]
    return result, failed, errored


def run_frame(
    context: Any, source: Any, frame_name: str, frame: pd.DataFrame, frame_rules: list[Rule], run_id: Any
) -> tuple[Any, dict[str, list[int]], dict[str, str]]:
    """One frame's suite: the GX result, the failing rows per rule, and the rules that could not run."""
    return run_declared(declare_suite(context, source, frame_name, frame_rules), frame, run_id)


class NightSuites:
    """The night's one GX context: each frame's suite is declared once, then run on the night's frames part by
    part (``run``), a part being some of the night's submissions. Every part runs under its own run identifier
    (the night's run name, its own run time), so each part's result keeps its own Data Docs page in the night's
    one site; ``pages`` renders the site once, after the last part."""

    def __init__(self, rules: list[Rule], docs_dir: Path | None = None, run_name: str | None = None) -> None:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

        from expectations.data_docs import open_context, quiet_context

        self.rules = rules
        self.docs_dir = docs_dir
        self.run_name = run_name
        self.context = open_context(docs_dir) if docs_dir is not None else quiet_context()
        self.source = self.context.data_sources.add_pandas("chibo_night")
        self.declared: dict[str, DeclaredSuite] = {}
        self.results: list[Any] = []  # every part's result of every frame, in the order they ran
        self.last_run_time: Any = None

    def next_run_id(self) -> Any:
        """The night's run name with a run time later than the previous part's (a page per part and frame)."""
        from datetime import timedelta

        from great_expectations.core.run_identifier import RunIdentifier

        from expectations.data_docs import run_identifier

        run_id = run_identifier(self.run_name)
        if self.last_run_time is not None and run_id.run_time <= self.last_run_time:
            run_id = RunIdentifier(run_name=run_id.run_name, run_time=self.last_run_time + timedelta(microseconds=1))
        self.last_run_time = run_id.run_time
        return run_id

    def declared_suite(self, frame_name: str, frame_rules: list[Rule]) -> DeclaredSuite:
        if frame_name not in self.declared:
            try:
                self.declared[frame_name] = declare_suite(self.context, self.source, frame_name, frame_rules)
            except Exception as error:  # noqa: BLE001 - the suite cannot be declared: every rule of it errors
                log.exception("the suite of frame %s could not be declared", frame_name)
                self.declared[frame_name] = DeclaredSuite(None, {}, f"the suite could not run: {describe(error)}")
        return self.declared[frame_name]

    def run(self, frames: Mapping[str, pd.DataFrame]) -> tuple[SuiteRun, dict[str, int]]:
        """Validate one part's frames (keyed by ``with_row_keys``) with their suites; also returns, per frame,
        the index in ``results`` of its result (whose page ``pages`` gives once the docs are built)."""
        run_id = self.next_run_id()
        failed: dict[str, dict[str, list[int]]] = {}
        errored: dict[str, dict[str, str]] = {}
        ran: dict[str, int] = {}
        for frame_name, frame in frames.items():
            frame_rules = [rule for rule in self.rules if rule.frame == frame_name]
            if not frame_rules or frame.empty:
                continue
            declared = self.declared_suite(frame_name, frame_rules)
            try:
                if declared.failure is not None:
                    raise SuiteNotDeclared(declared.failure)
                result, frame_failed, frame_errored = run_declared(declared, frame, run_id)
                ran[frame_name] = len(self.results)
                self.results.append(result)
            except SuiteNotDeclared as not_declared:
                frame_failed, frame_errored = {}, {rule.rule_id: str(not_declared) for rule in frame_rules}
            except Exception as error:  # noqa: BLE001 - the whole suite could not run: every rule of it errored
                log.exception("the suite of frame %s could not run", frame_name)
                why = f"the suite could not run: {describe(error)}"
                frame_failed, frame_errored = {}, {rule.rule_id: why for rule in frame_rules}
            if frame_failed:
                failed[frame_name] = frame_failed
            if frame_errored:
                errored[frame_name] = frame_errored
                for rule_id, why in frame_errored.items():
                    log.error("rule %s on frame %s could not run: %s", rule_id, frame_name, why)
            log.info("validated frame %s: %d rows, %d rules", frame_name, len(frame), len(frame_rules))
        return SuiteRun(failed, {}, errored), ran

    def pages(self) -> list[Path | None]:
        """Build the night's Data Docs (without ``docs_dir``: none) and return each result's page."""
        if self.docs_dir is None:
            return [None] * len(self.results)

        from expectations.data_docs import build_docs, result_page

        build_docs(self.context)
        return [result_page(self.context, result) for result in self.results]


class SuiteNotDeclared(RuntimeError):
    """The frame's suite could not be declared in the night's context (logged when it was tried)."""


def run_suites(
    frames: Mapping[str, pd.DataFrame], rules: list[Rule], docs_dir: Path | None = None, run_name: str | None = None
) -> SuiteRun:
    """Validate each frame with its suite in one GX context; with ``docs_dir``, build Data Docs there."""
    night = NightSuites(rules, docs_dir, run_name)
    run, ran = night.run(frames)
    if docs_dir is None:
        return run
    pages = night.pages()
    return replace(run, pages={name: page for name, index in ran.items() if (page := pages[index])})


def vietnamese_number(value: Any) -> str:
    """3792 → "3.792" (Vietnamese thousands separator); text stays as written."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "(trống)"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, numbers.Integral):
        return f"{int(value):,}".replace(",", ".")
    if isinstance(value, numbers.Real):
        number = float(value)
        if number.is_integer():
            return f"{int(number):,}".replace(",", ".")
        return f"{number:,.1f}".replace(",", " ").replace(".", ",").replace(" ", ".")
    return str(value)


def header_for(contract: Contract, sheet_name: str, field_name: str | None) -> str:
    try:
        return contract.sheet(sheet_name).field(field_name).header if field_name else ""
    except KeyError:
        return field_name or ""


def finding_for(rule: Rule, row: pd.Series, contract: Contract) -> Finding:
    sheet_name = rule.sheet
    field_name = rule.field
    value: object  # a header, a sheet name or the cell's value as the frame holds it
    if rule.frame == "columns_present":
        sheet_name = str(row["sheet"])
        field_name = str(row["field"])
        value = header_for(contract, sheet_name, field_name)
    elif rule.frame == "sheets_present":
        value = str(row["sheet"])
    elif rule.frame in {"tong_hop_detail", "tong_hop_parts", "reconciliation"}:
        field_name = str(row["field"])
        value = row.get("value")
    else:
        value = row.get(field_name) if field_name else None
    sheet_row = row.get(f"{field_name}__row") if f"{field_name}__row" in row else row.get("sheet_row")
    context = RowContext(row)
    context.update(
        value=vietnamese_number(value),
        header=header_for(contract, sheet_name, field_name),
        declared=vietnamese_number(row.get(rule.params.get("column_A", ""), None)),
        computed=vietnamese_number(row.get(rule.params.get("column_B", ""), None)),
        sheet=sheet_name,
    )
    message = rule.message.format_map(context)
    return Finding(
        submission_id=str(row["submission_id"]),
        rule_id=rule.rule_id,
        severity=rule.severity,
        sheet=sheet_name,
        sheet_row=None if sheet_row is None or pd.isna(sheet_row) else int(sheet_row),
        field=field_name,
        value=None if value is None or (isinstance(value, float) and pd.isna(value)) else str(value),
        message=message,
        fix=rule.fix,
    )


class RowContext(dict):
    """Message placeholders: the named values, else any column of the failing row, in Vietnamese format."""

    def __init__(self, row: pd.Series) -> None:
        super().__init__()
        self.row = row

    def __missing__(self, key: str) -> str:
        value = self.row.get(key)
        if key.endswith("year") and value is not None and not pd.isna(value):
            return str(int(value))  # a year is not a quantity: 2023, not 2.023
        if isinstance(value, str) and value.isdigit():
            value = int(value)
        return vietnamese_number(value)


def with_row_keys(frames: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    keyed: dict[str, pd.DataFrame] = {}
    for name, frame in frames.items():
        frame = frame.reset_index(drop=True)
        frame[ROW_KEY] = range(len(frame))
        keyed[name] = frame
    return keyed


def finding_order(finding: Finding) -> tuple[str, str, int, str]:
    return (finding.submission_id, finding.sheet, finding.sheet_row or 0, finding.rule_id)


class NightValidation:
    """The night's validation with Great Expectations, part by part: ``validate`` runs the suites on one part's
    frames (some of the night's submissions, each submission whole in one part) and keeps its findings;
    ``findings`` builds the night's Data Docs once and returns every finding, ordered by submission, sheet and
    row, each linked to the page of the suite run that found it."""

    def __init__(
        self,
        contract: Contract | None = None,
        docs_dir: Path | None = None,
        run_name: str | None = None,
        suites: NightSuites | None = None,
    ):
        """``suites``: a context whose suites a long-running process keeps declared (the portal's checker: no
        Data Docs), reused here instead of a new one."""
        self.contract = contract or load_contract()
        rules = all_rules(self.contract)
        self.rules_by_id = {rule.rule_id: rule for rule in rules}
        if suites is not None:
            suites.results.clear()  # only this validation's results are paged (none: it has no docs_dir)
        self.suites = suites if suites is not None else NightSuites(rules, docs_dir, run_name)
        self.found: list[tuple[Finding, int | None]] = []  # each finding and the result (index) that found it

    def validate(self, frames: Mapping[str, pd.DataFrame]) -> None:
        keyed = with_row_keys(frames)
        run, ran = self.suites.run(keyed)
        found = [
            (finding_for(self.rules_by_id[rule_id], keyed[frame_name].iloc[key], self.contract), ran.get(frame_name))
            for frame_name, failures in run.failed.items()
            for rule_id, keys in failures.items()
            for key in keys
        ]
        found += [
            (errored_finding(self.rules_by_id[rule_id], submission_id, f"{rule_id} on frame {frame_name}: {why}"), None)
            for frame_name, errors in run.errored.items()
            for rule_id, why in errors.items()
            for submission_id in keyed[frame_name]["submission_id"].dropna().astype(str).unique()
        ]
        missing = missing_columns([finding for finding, _ in found])
        self.found += sorted(
            ((finding, result) for finding, result in found if not is_echo(finding, missing)),
            key=lambda pair: finding_order(pair[0]),
        )

    def findings(self) -> list[Finding]:
        pages = self.suites.pages()
        linked = [
            finding if result is None or (page := pages[result]) is None else replace(finding, docs_url=page.as_uri())
            for finding, result in self.found
        ]
        return sorted(linked, key=finding_order)  # stable: each part was already in this order


def validate_frames(
    frames: Mapping[str, pd.DataFrame],
    contract: Contract | None = None,
    docs_dir: Path | None = None,
    run_name: str | None = None,
) -> list[Finding]:
    """All findings for the batch, ordered by submission, sheet and row; with ``docs_dir``, each finding
    links to the Data Docs page of the suite that found it."""
    night = NightValidation(contract, docs_dir, run_name)
    night.validate(frames)
    return night.findings()


def errored_finding(rule: Rule, submission_id: str, detail: str) -> Finding:
    """A check that could not run for a submission: an error that holds the report, with the detail for operators."""
    return Finding(
        submission_id=submission_id,
        rule_id=rule.rule_id,
        severity="error",
        sheet=rule.sheet,
        sheet_row=None,
        field=rule.field,
        value=None,
        message=ERRORED_MESSAGE.format(rule_id=rule.rule_id, sheet=rule.sheet),
        fix=ERRORED_FIX,
        errored=True,
        detail=detail,
    )


def missing_columns(findings: list[Finding]) -> set[tuple[str, str, str | None]]:
    return {(f.submission_id, f.sheet, f.field) for f in findings if f.rule_id == MISSING_COLUMN_RULE_ID}


def is_echo(finding: Finding, missing: set[tuple[str, str, str | None]]) -> bool:
    """A "value missing" finding on a row of a column that is missing altogether (named once already)."""
    where = (finding.submission_id, finding.sheet, finding.field)
    return finding.rule_id.endswith(REQUIRED_SUFFIX) and where in missing


def without_echoes(findings: list[Finding]) -> list[Finding]:
    """Drop "value missing" on every row of a column that is missing altogether: it is named once."""
    missing = missing_columns(findings)
    return [f for f in findings if not is_echo(f, missing)]
