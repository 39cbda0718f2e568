"""The hand-written docs name only things that exist, and the imports point the way the package map says.

Every name a hand-written doc sets in backticks is checked when it looks like something of ours:
- a path of the repository (``pipeline/nightly.py``, ``dbt_project/``, ``chibo.yaml``, ``guards.py``);
- a Python reference (``pipeline.nightly``, ``raw.ensure_schema``, ``Completeness.deadline_for``,
  ``python -m chibo.format_docs``, ``from demo.samples import …`` in a code block);
- a function or class (``warm_up()``, ``UnreadableReport``), against every ``def`` and ``class`` that ``ast``
  finds in the repository's packages, with the parameter names of a signature written out
  (``write_expected(connection, provinces, years, deadline)``);
- a dbt model (``fct_members``, ``stg_raw__*``, ``stg_raw__submissions.committee_level``) or macro
  (``{{ complete_sum(...) }}``);
- a rule id (``tong_hop.matches_detail``, ``tep.khong_doc_duoc``, ``<sheet>.khoa_trung``) against the
  whole generated catalogue;
- a warehouse relation (``raw.submissions``, ``raw.submission_sheets.fields_found``, ``marts.fct_data_quality``);
- a ``chibo.yaml`` setting (``alerts.recipients``, ``publish.keep_versions``);
- a ``chibo`` sub-command or ``make`` target;
- any other bare identifier (``validate_pending``, ``PROVINCE_YEAR_COLUMNS``): it must occur somewhere in
  the code, the dbt project or the configuration.
- a relative link ``[text](target)``.
Prose, values, Vietnamese text and runtime paths (``var/…``, ``archive/<sha256>…``) are not checked.
"""

from __future__ import annotations

import ast
import builtins
import posixpath
import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
THIS_FILE = Path(__file__).resolve()

HAND_WRITTEN_DOCS = (
    "README.md",
    "docs/architecture.md",
    "docs/operations.md",
    "docs/adding-a-column.md",
    "docs/analyst-guide.md",
    "docs/dbt-models.md",
    "docs/completeness.md",
    "docs/administrative-units.md",
    "docs/legacy-encodings.md",
    "docs/history-generator.md",
    "docs/benchmarks.md",
    "docs/portal.md",
    "docs/official-forms.md",
)  # docs/data-quality.md and docs/submission-format.md are generated (and tested against their generators)

# The shipped product, in the order of the package map in docs/architecture.md.
PRODUCT_PACKAGES = (
    "contract",
    "reading",
    "units",
    "warehouse",
    "ingestion",
    "expectations",
    "alerts",
    "pipeline",
    "portal",
    "chibo",
    "dags",
)
OUTSIDE_THE_PRODUCT = ("demo", "tests", "benchmarks")
PYTHON_PACKAGES = PRODUCT_PACKAGES + OUTSIDE_THE_PRODUCT

SKIPPED_DIRS = {
    ".git", ".venv", "var", "__pycache__", ".mypy_cache", ".ruff_cache", ".hypothesis", ".pytest_cache",
    "chibo.egg-info", "target", "logs", "dbt_packages", "node_modules", ".ci",
}  # fmt: skip
CHECKED_EXTENSIONS = {"py", "yaml", "yml", "sql", "md", "toml", "lock", "cfg", "ini", "txt"}
# Where a name a doc gives may be found (besides Makefile and Dockerfile): code, configuration, the demo's CSV.
TOKEN_SUFFIXES = {".py", ".sql", ".yml", ".yaml", ".toml", ".lock", ".csv"}
FILE_EXTENSIONS = CHECKED_EXTENSIONS | {
    "json", "db", "duckdb", "xlsx", "xlsm", "xls", "ods", "csv", "zip", "eml", "html", "parquet", "cpp", "h",
}  # fmt: skip
WAREHOUSE_SCHEMAS = {"raw", "staging", "intermediate", "marts"}

# Names the docs rightly use that are not ours; each says whose it is.
NOT_OURS = {
    "dbtRunner",  # dbt-core's programmatic runner (dbt.cli.main)
    "SmtpHook",  # Airflow SMTP provider's hook
    "SmtpNotifier",  # Airflow SMTP provider's notifier
    "ExpectColumnValuesToMatchRegex",  # a Great Expectations expectation
    "ExpectColumnPairValuesToBeEqual",  # a Great Expectations expectation
    "dag.test",  # Airflow's DAG.test(), what `chibo run` calls
    "AdminUnit",  # vietnamadminunits' unit class
    "wardType",  # a column of vietnamadminunits' data
    "convert_address",  # vietnamadminunits' address converter (never called by chibo)
    "query",  # vietnamadminunits.database.query
    "py.typed",  # the PEP 561 marker file of typed packages
    "SingleByteTables",  # UniKey VnConv's charset tables (source of legacy_text's tables)
    "DoubleByteTables",  # idem
    "STARTTLS",  # the SMTP command
    "SMTP_SSL",  # smtplib's implicit-TLS client
    "viparse",  # PyPI packages weighed and rejected in docs/legacy-encodings.md
    "vniencoder",
    "bogo",
    "tcvn3",  # package names looked for on PyPI and not found (docs/legacy-encodings.md)
    "vnconv",
    "unikey",
}
# Python roots of other projects, whose attributes are not checked.
OTHER_PYTHON_ROOTS = {"airflow", "dbt", "duckdb", "pendulum", "great_expectations", "vietnam_provinces", "pandas"}
# Commands of other tools, left unchecked when a span starts with them.
OTHER_COMMANDS = ("airflow ", "pip ", "dbt ", "duckdb ", "uv ", "git ", "source ", "docker ")
# The worked example of docs/adding-a-column.md adds a field that does not exist (yet): its names are skipped.
HYPOTHETICAL = {"docs/adding-a-column.md": ("members_youth_union",)}


# --- what exists ---------------------------------------------------------------------------------------------


@dataclass
class ModuleInfo:
    names: set[str] = field(default_factory=set)
    classes: dict[str, set[str]] = field(default_factory=dict)


def _repo_files() -> list[Path]:
    found = []
    stack = [REPO]
    while stack:
        folder = stack.pop()
        for entry in folder.iterdir():
            if entry.is_dir():
                if entry.name not in SKIPPED_DIRS:
                    stack.append(entry)
            else:
                found.append(entry)
    return found


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _defined_names(body: list[ast.stmt]) -> set[str]:
    names: set[str] = set()
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
        elif isinstance(node, ast.If | ast.Try):  # TYPE_CHECKING blocks, optional imports
            names |= _defined_names(node.body)
    return names


@dataclass
class Known:
    files: list[str]
    modules: dict[str, ModuleInfo]
    modules_by_suffix: dict[str, list[str]]
    classes: dict[str, list[set[str]]]
    defs: set[str]
    parameters: dict[str, set[str]]
    tokens: set[str]
    models: dict[str, Path]
    macros: set[str]
    rule_ids: set[str]
    sheets: dict[str, set[str]]
    raw_tables: dict[str, set[str]]
    settings: set[str]
    setting_sections: set[str]
    subcommands: set[str]
    make_targets: set[str]


@cache
def known() -> Known:
    from contract.model import load_contract
    from expectations.rules import all_rules, system_rules
    from warehouse.raw import all_tables

    files = _repo_files()
    relative = sorted(str(p.relative_to(REPO)) for p in files)

    modules: dict[str, ModuleInfo] = {}
    classes: dict[str, list[set[str]]] = defaultdict(list)
    defs: set[str] = set()
    parameters: dict[str, set[str]] = defaultdict(set)
    for path in files:
        top = path.relative_to(REPO).parts[0]
        if path.suffix != ".py" or top not in PYTHON_PACKAGES or path == THIS_FILE:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        info = ModuleInfo(names=_defined_names(tree.body))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                defs.add(node.name)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                arguments = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
                parameters[node.name] |= {a.arg for a in arguments}
            elif isinstance(node, ast.ClassDef):  # a dataclass's fields are its parameters
                parameters[node.name] |= {
                    n.target.id for n in node.body if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)
                }
            if isinstance(node, ast.ClassDef):
                attributes = _defined_names(node.body)
                classes[node.name].append(attributes)
                if node in tree.body:
                    info.classes[node.name] = attributes
        modules[_module_name(path)] = info
    for name in list(modules):  # a package's submodules are names of the package
        parent, _, child = name.rpartition(".")
        if parent in modules:
            modules[parent].names.add(child)
    modules_by_suffix: dict[str, list[str]] = defaultdict(list)
    for name in modules:
        parts = name.split(".")
        for start in range(len(parts)):
            modules_by_suffix[".".join(parts[start:])].append(name)

    token_sources = [
        p
        for p in files
        if p != THIS_FILE
        and p.relative_to(REPO).parts[0] != "tests"
        and (p.suffix in TOKEN_SUFFIXES or p.name in {"Makefile", "Dockerfile"})
    ]
    tokens: set[str] = set()
    for path in token_sources:
        tokens |= set(re.findall(r"\w+", path.read_text(encoding="utf-8", errors="replace")))

    models = {p.stem: p for p in (REPO / "dbt_project" / "models").rglob("*.sql")}
    macros = set()
    for path in (REPO / "dbt_project").rglob("*.sql"):
        macros |= set(re.findall(r"\{%-?\s*(?:macro|test)\s+(\w+)\s*\(", path.read_text(encoding="utf-8")))

    contract = load_contract()
    rule_ids = {rule.rule_id for rule in [*all_rules(contract), *system_rules()]}
    sheets = {sheet.name: {f.name for f in sheet.fields} for sheet in contract.sheets}
    raw_tables = {name: set(columns) for name, columns in all_tables(contract).items()}
    for path in files:  # reference tables are written by their own modules: raw.ref_*
        if path.suffix == ".py" and path.relative_to(REPO).parts[0] in PRODUCT_PACKAGES:
            for table in re.findall(r"\bref_[a-z_]+\b", path.read_text(encoding="utf-8")):
                raw_tables.setdefault(table, set())

    config_document = yaml.safe_load((REPO / "chibo.yaml").read_text(encoding="utf-8"))
    settings = set(re.findall(r"[\"'](\w+)[\"']", (REPO / "chibo" / "config.py").read_text(encoding="utf-8")))

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                settings.add(str(key))
                walk(value)

    walk(config_document)
    cli = (REPO / "chibo" / "cli.py").read_text(encoding="utf-8")
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    return Known(
        files=relative,
        modules=modules,
        modules_by_suffix=dict(modules_by_suffix),
        classes=dict(classes),
        defs=defs,
        parameters=dict(parameters),
        tokens=tokens,
        models=models,
        macros=macros,
        rule_ids=rule_ids,
        sheets=sheets,
        raw_tables=raw_tables,
        settings=settings,
        setting_sections=set(config_document),
        subcommands=set(re.findall(r"add_parser\(\s*\"([\w-]+)\"", cli)),
        make_targets=set(re.findall(r"^([\w-]+):", makefile, flags=re.M)),
    )


# --- resolving one name ----------------------------------------------------------------------------------------


def _in_module(module: str, rest: list[str]) -> bool:
    info = known().modules[module]
    if not rest:
        return True
    if rest[0] not in info.names:
        return False
    if len(rest) == 1:
        return True
    return len(rest) == 2 and rest[1] in info.classes.get(rest[0], set())


def python_reference_exists(dotted: str) -> bool:
    """A module (by its full name or its last parts: ``reader`` is ``reading.reader``), a name in it, a class
    attribute (``Settings.completeness``), or a name of another project (stdlib, Airflow, dbt …)."""
    parts = dotted.split(".")
    if dotted in NOT_OURS or parts[0] in OTHER_PYTHON_ROOTS:
        return True
    if parts[0] in sys.stdlib_module_names and parts[0] not in PYTHON_PACKAGES:
        return True
    for cut in range(len(parts), 0, -1):
        for module in known().modules_by_suffix.get(".".join(parts[:cut]), []):
            if _in_module(module, parts[cut:]):
                return True
    if len(parts) == 2:
        return any(parts[1] in attributes for attributes in known().classes.get(parts[0], []))
    return False


def _model_has_column(model: str, column: str) -> bool:
    path = known().models[model]
    texts = [path.read_text(encoding="utf-8")] + [p.read_text(encoding="utf-8") for p in path.parent.glob("*.yml")]
    return any(re.search(rf"\b{re.escape(column)}\b", text) for text in texts)


def relation_exists(parts: list[str]) -> bool:
    """``raw.table[.column]`` from the raw schema's definition; ``marts.model[.column]`` and the other dbt
    schemas from the model files."""
    schema, name, *column = parts
    if len(column) > 1:
        return False
    if schema == "raw":
        columns = known().raw_tables.get(name)
        return columns is not None and (not column or not columns or column[0] in columns)
    path = known().models.get(name)
    in_schema = path is not None and (schema == "marts") == (path.parent.name == "marts")
    return in_schema and (not column or _model_has_column(name, column[0]))


def dotted_exists(text: str) -> bool:
    parts = text.split(".")
    k = known()
    if text in k.rule_ids:
        return True
    if len(parts) == 2 and parts[1] in k.sheets.get(parts[0], set()):  # sheet.field of the contract
        return True
    if parts[0] in WAREHOUSE_SCHEMAS and relation_exists(parts):
        return True
    if len(parts) == 2 and parts[0] in k.models and _model_has_column(parts[0], parts[1]):
        return True
    if parts[0] in k.setting_sections and all(part in k.settings for part in parts):
        return True
    return python_reference_exists(text)


def path_problem(text: str) -> str | None:
    """None when the path exists or is not the repository's (runtime folders, other projects' files)."""
    k = known()
    path = text.rstrip("/")
    if not path or path.startswith(("..", "/", "~")) or re.search(r"[<>*…]", path):
        return None
    first = path.split("/")[0]
    extension = path.rsplit(".", 1)[1] if "." in path.split("/")[-1] else ""
    top_level = {p.split("/")[0] for p in k.files}
    if first in top_level and (first != path or extension in CHECKED_EXTENSIONS or text.endswith("/")):
        if extension and extension not in CHECKED_EXTENSIONS:
            return None  # e.g. docs/index.html inside the published snapshot
        exists = path in k.files or any(f.startswith(path + "/") for f in k.files)
        return None if exists else "no such file or folder in the repository"
    if extension in CHECKED_EXTENSIONS:
        if any(f == path or f.endswith("/" + path) for f in k.files):
            return None
        return "no such file in the repository"
    return None


def callable_problem(name: str, arguments: str = "") -> str | None:
    if "." in name:
        return None if dotted_exists(name) else "no such module, function, class or attribute"
    if name in NOT_OURS or hasattr(builtins, name):
        return None
    if name not in known().defs:
        return "no def or class of that name"
    # a signature written out with parameter names (`write_expected(connection, provinces, years, deadline)`)
    names = [re.sub(r"=.*", "", a).strip() for a in arguments.split(",") if a.strip() not in {"", "*", "...", "…"}]
    if names and all(re.fullmatch(IDENTIFIER, n) for n in names):
        unknown = [n for n in names if n not in known().parameters.get(name, set())]
        if unknown:
            return f"{name} has no parameter {', '.join(unknown)}"
    return None


def command_problem(text: str) -> str | None:
    words = text.split()
    k = known()
    if words[0] in {"python", "python3"} or words[0].endswith("/python"):
        if len(words) >= 3 and words[1] == "-m":
            module = words[2]
            if module.split(".")[0] not in PYTHON_PACKAGES or module in k.modules:
                return None
            return f"no module {module}"
        return None
    if words[0] == "chibo" or words[0].endswith("/chibo"):
        if len(words) >= 2 and re.fullmatch(r"[a-z-]+", words[1]) and words[1] not in k.subcommands:
            return f"no chibo sub-command {words[1]}"
        return None
    if words[0] == "make":
        if len(words) >= 2 and words[1] not in k.make_targets:
            return f"no make target {words[1]}"
        return None
    if words[0] == "pytest":
        for word in words[1:]:
            if "/" in word and (problem := path_or_test_problem(word)):
                return problem
    return None


def path_or_test_problem(text: str) -> str | None:
    path, _, test = text.partition("::")
    if problem := path_problem(path):
        return problem
    if test:
        tree = ast.parse((REPO / path).read_text(encoding="utf-8"))
        if test not in {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.ClassDef)}:
            return f"no test {test} in {path}"
    return None


IDENTIFIER = r"[A-Za-z_]\w*"
DOTTED = rf"{IDENTIFIER}(?:\.{IDENTIFIER})+"


def span_problem(text: str) -> str | None:
    """Why a backticked span names something that does not exist, or None (exists, or not checkable)."""
    k = known()
    text = text.strip()
    if not text or text in NOT_OURS:
        return None
    if " " in text:
        if text.startswith(OTHER_COMMANDS):
            return None
        if re.match(r"(python3?|\S*/python|chibo|\S*/chibo|make|pytest) ", text):
            return command_problem(text)
        if macro := re.match(r"\{\{\s*(\w+)\(", text):
            return None if macro.group(1) in k.macros else "no dbt macro of that name"
        if call := re.match(rf"({IDENTIFIER}(?:\.{IDENTIFIER})*)\(([^()]*)\)", text):
            return callable_problem(call.group(1), call.group(2))
        if call := re.match(rf"({IDENTIFIER}(?:\.{IDENTIFIER})*)\(", text):
            return callable_problem(call.group(1))
        return None
    if call := re.fullmatch(rf"({IDENTIFIER}(?:\.{IDENTIFIER})*)\((.*)\)", text):
        return callable_problem(call.group(1), call.group(2))
    if "::" in text:
        return path_or_test_problem(text)
    last = text.rstrip("/").rsplit("/", 1)[-1]
    if "/" in text or ("." in last and last.rsplit(".", 1)[1] in FILE_EXTENSIONS):
        return path_problem(text)
    if "/" not in text and (REPO / text).exists():  # Dockerfile, Makefile, .venv …
        return None
    if re.fullmatch(r"\.[a-z_]+", text):  # the end of generated rule ids: `.so_nguyen`
        return None if any(r.endswith(text) for r in k.rule_ids) else "no rule id ends so"
    if "<" in text and re.fullmatch(r"[\w.<>]+", text) and "." in text:  # `<sheet>.<field>.bat_buoc`
        pattern = re.sub(r"<\w+>", r"[^.]+", text.replace(".", r"\."))
        return None if any(re.fullmatch(pattern, r) for r in k.rule_ids) else "no rule id of that form"
    if re.fullmatch(r"(stg|int|fct|dim)_[\w]*\*", text):  # `stg_raw__*`
        prefix = text[:-1]
        return None if any(m.startswith(prefix) for m in k.models) else "no dbt model of that form"
    setting = re.sub(r"(\[.*\]|:)$", "", text)
    if re.fullmatch(DOTTED, setting):
        return None if dotted_exists(setting) else "no such rule, relation, setting, module or attribute"
    if re.fullmatch(r"(stg|int|fct|dim)_\w+", text):
        return None if text in k.models else "no dbt model of that name"
    if re.fullmatch(r"[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)+|[a-z]+[A-Z]\w*", text):  # CamelCase, camelCase
        return None if text in k.defs or hasattr(builtins, text) else "no class of that name"
    if re.fullmatch(r"[a-z_][a-z0-9_]*|[A-Z][A-Z0-9_]*", text):
        return None if text in k.tokens or text in k.defs else "occurs nowhere in the code or configuration"
    return None


# --- reading a doc ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    doc: str
    line: int
    text: str


FENCE = re.compile(r"^\s*(```|~~~)\s*(\w*)")
SHELL_FENCES = {"sh", "bash", "console", "shell"}


def references(doc: str, markdown: str) -> list[Reference]:
    """Backticked spans outside code blocks; commands and Python imports inside them."""
    found: list[Reference] = []
    prose: list[str] = []
    fence: str | None = None
    for number, line in enumerate(markdown.splitlines(), start=1):
        opening = FENCE.match(line)
        if fence is None and opening:
            fence = opening.group(2)
            prose.append("")
            continue
        if fence is not None:
            if opening and not opening.group(2):
                fence = None
            else:
                found += _references_in_code(doc, number, line, fence)
            prose.append("")
            continue
        prose.append(line)
    text = "\n".join(prose)
    for match in re.finditer(r"`([^`]+)`", text):
        found.append(Reference(doc, text.count("\n", 0, match.start()) + 1, " ".join(match.group(1).split())))
    outside_spans = re.sub(r"`[^`]*`", lambda span: re.sub(r"\S", " ", span.group()), text)
    for link in re.finditer(r"\]\(([^)\s#]+)[^)]*\)", outside_spans):  # [text](target)
        target = link.group(1)
        if not re.match(r"[a-z]+:", target):  # http:, mailto: …
            resolved = posixpath.normpath(posixpath.join(posixpath.dirname(doc), target))
            found.append(Reference(doc, text.count("\n", 0, link.start()) + 1, resolved))
    return sorted(found, key=lambda ref: ref.line)


def _references_in_code(doc: str, number: int, line: str, language: str) -> list[Reference]:
    found = []
    imported = re.match(r"\s*from ([\w.]+) import (.+)", line) if language == "python" else None
    if imported and imported.group(1).split(".")[0] in PYTHON_PACKAGES:
        module = imported.group(1)
        found.append(Reference(doc, number, module))
        for name in re.findall(r"\w+", imported.group(2).split("#")[0]):
            found.append(Reference(doc, number, f"{module}.{name}"))
    if language in SHELL_FENCES:
        for command in re.finditer(r"(?:^|[\s$;&|])((?:\S*/)?(?:python3?|chibo|make) [^;&|#]*)", line):
            found.append(Reference(doc, number, command.group(1).strip()))
    return found


def problems(doc: str, markdown: str) -> list[str]:
    skipped = HYPOTHETICAL.get(doc, ())
    return [
        f"{ref.doc}:{ref.line}: `{ref.text}`: {problem}"
        for ref in references(doc, markdown)
        if not any(name in ref.text for name in skipped)
        if (problem := span_problem(ref.text))
    ]


@pytest.mark.parametrize("doc", HAND_WRITTEN_DOCS)
def test_every_name_a_doc_gives_exists(doc: str) -> None:
    found = problems(doc, (REPO / doc).read_text(encoding="utf-8"))
    assert not found, "names in the docs that the code does not have:\n" + "\n".join(found)


def test_a_wrong_name_is_caught() -> None:
    planted = """\
Intake lives in `ingestion/nowhere.py` and `ingestion/intake.py`; see `pipeline.nightly.no_such_step`,
`pipeline.nightly.ingest`, `no_such_helper()`, `warm_up()`, `NoSuchClass`, `UnreadableReport`, the mart
`fct_no_such_mart` and `fct_members`, the rules `tong_hop.khong_co_quy_tac` and `tong_hop.matches_detail`,
`raw.no_such_table`, `raw.submissions`, `raw.submissions.no_such_column`, `marts.fct_province_year`,
`alerts.no_such_setting`, `alerts.operators`, `chibo frobnicate`, `chibo validate FILE`, `make nothing`,
`never_written_anywhere`, `validate_pending`, `docs/nowhere.md`, `stg_raw__submissions.no_such_column`,
[a link](../docs/gone.md), [another](architecture.md), [the web](https://example.org/x.md),
`write_expected(connection, provinces, years, deadline)` and `write_expected(connection, regions)`.

```sh
.venv/bin/python -m contract.no_docs
```

```python
from demo.history_generator import generate_history, no_such_generator
```
"""
    found = problems("docs/planted.md", planted)
    flagged = {line.split("`")[1] for line in found}
    assert flagged == {
        "ingestion/nowhere.py",
        "pipeline.nightly.no_such_step",
        "no_such_helper()",
        "NoSuchClass",
        "fct_no_such_mart",
        "tong_hop.khong_co_quy_tac",
        "raw.no_such_table",
        "raw.submissions.no_such_column",
        "alerts.no_such_setting",
        "chibo frobnicate",
        "make nothing",
        "never_written_anywhere",
        "docs/nowhere.md",
        "stg_raw__submissions.no_such_column",
        ".venv/bin/python -m contract.no_docs",
        "demo.history_generator.no_such_generator",
        "docs/gone.md",
        "write_expected(connection, regions)",
    }
    assert found[0].startswith("docs/planted.md:1: `ingestion/nowhere.py`")


# --- the package map -----------------------------------------------------------------------------------------

# docs/architecture.md, "Package map": a package imports only packages of a lower layer. Packages of one layer
# never import each other. chibo/config.py (settings) is a layer of its own; the rest of chibo/ is the top. The
# portal's database (portal/store.py) sits below the night, which reads its decisions; the web application above.
LAYERS = (
    {"chibo.errors"},
    {"contract"},
    {"reading"},
    {"chibo.config"},
    {"units"},
    {"warehouse"},
    {"ingestion", "expectations", "alerts", "chibo.deployment", "portal.store"},
    {"pipeline"},
    {"dags", "portal"},
    {"chibo"},
)
# Imports against the map that the code has today (to be removed, not added to).
KNOWN_EXCEPTIONS: set[tuple[str, str]] = set()
# The one product module that may import the demo: `chibo sample` writes the sample inbox.
MAY_IMPORT_DEMO = {"chibo.cli"}


def _package_of(module: str) -> str:
    modules = {"chibo.config", "chibo.errors", "chibo.deployment", "portal.store"}
    return module if module in modules else module.split(".")[0]


def _layer_of(module: str) -> int | None:
    return next((rank for rank, layer in enumerate(LAYERS) if _package_of(module) in layer), None)


def _imports() -> dict[str, set[str]]:
    """Every module of the repository's packages and the modules of ours it imports, anywhere in the file."""
    imported: dict[str, set[str]] = defaultdict(set)
    for path in _repo_files():
        top = path.relative_to(REPO).parts[0]
        if path.suffix != ".py" or top not in PYTHON_PACKAGES:
            continue
        module = _module_name(path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            imported[module] |= {name for name in names if name.split(".")[0] in PYTHON_PACKAGES}
    return imported


def test_imports_point_the_way_the_package_map_says() -> None:
    wrong = []
    for module, targets in _imports().items():
        source = _layer_of(module)
        if source is None:  # demo, tests, benchmarks: outside the product
            continue
        for target in targets:
            if _package_of(module) == _package_of(target):
                continue  # within one package
            if target.split(".")[0] in OUTSIDE_THE_PRODUCT:
                if target.split(".")[0] == "demo" and module in MAY_IMPORT_DEMO:
                    continue
                wrong.append(f"{module} imports {target}, which is not part of the product")
                continue
            rank = _layer_of(target)
            if rank is not None and rank >= source and (module, target) not in KNOWN_EXCEPTIONS:
                wrong.append(f"{module} (layer {source}) imports {target} (layer {rank})")
    assert not wrong, "\n".join(sorted(wrong))


def test_known_exceptions_to_the_map_still_exist() -> None:
    imports = _imports()
    gone = [f"{m} no longer imports {t}" for m, t in KNOWN_EXCEPTIONS if t not in imports.get(m, set())]
    assert not gone, "remove from KNOWN_EXCEPTIONS: " + "; ".join(gone)


def test_validation_and_intake_do_not_import_each_other() -> None:
    imports = _imports()
    for module, targets in imports.items():
        tops = {t.split(".")[0] for t in targets}
        if module.startswith("expectations"):
            assert not tops & {"ingestion", "pipeline"}, module
        if module.startswith("ingestion"):
            assert not tops & {"expectations", "pipeline", "alerts"}, module


def test_the_dag_file_imports_only_pendulum_and_the_airflow_sdk_at_module_level() -> None:
    for path in (REPO / "dags").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        roots = set()
        for node in tree.body:
            if isinstance(node, ast.Import):
                roots |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                roots.add(node.module)
        others = {r for r in roots if r.split(".")[0] not in sys.stdlib_module_names and r != "__future__"}
        assert others <= {"pendulum", "airflow.sdk"}, (path.name, others)
