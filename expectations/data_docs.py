"""Great Expectations Data Docs in a plain folder that provincial staff can open from disk.

``open_context(docs_dir)`` gives an ephemeral GX context (validation results are kept in memory) whose only
Data Docs site is a local filesystem site rooted at ``docs_dir``. Validate with it as usual
(``ValidationDefinition.run`` stores every result in the context's validation results store), then
``build_docs(context)`` renders one page per validation run plus ``index.html``, and
``result_page(context, result)`` names the page of one run, for a ``file://`` link in an alert.

One folder per context (per night): when GX rebuilds the index it deletes from the folder every validation
page whose result is not in the context's store (``DefaultSiteIndexBuilder.build(skip_and_clean_missing=True)``,
not configurable), so a second night built into the same folder would remove the first night's pages and
break the links in its e-mails. ``night_docs_dir(root, run_name)`` names a folder per night.

GX's index lists the runs with bootstrap-table and jQuery fetched from public CDNs: without internet access
the table stays empty. ``build_docs`` therefore adds a static table of the runs to ``index.html`` (status in
words, suite, run time, link), which a small inline script removes when the CDN scripts did load.
The result pages themselves are static HTML and stay readable offline (unstyled).

Great Expectations is imported inside the functions: it takes seconds to import.
"""

from __future__ import annotations

import html
import os
import re
import urllib.parse
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from great_expectations.core.expectation_validation_result import ExpectationSuiteValidationResult
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context import AbstractDataContext
    from great_expectations.data_context.store.store import DataDocsSiteConfigTypedDict
    from great_expectations.data_context.types.resource_identifiers import ValidationResultIdentifier

SITE_NAME = "chibo"
INDEX_FILE = "index.html"
STATIC_INDEX_ID = "chibo-static-index"
STATUS_TEXT = {True: "Đạt", False: "Không đạt"}
NO_RUN_NAME = "__none__"  # how a key read back from a store names a run that had no run name


@dataclass(frozen=True)
class RunPage:
    """One validation run as listed in the static index."""

    suite_name: str
    success: bool
    run_time: datetime
    run_name: str | None
    path: Path


def quiet_context() -> AbstractDataContext:
    """An ephemeral GX context with analytics and progress bars off."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    return context


def open_context(docs_dir: Path) -> AbstractDataContext:
    """An ephemeral GX context whose one Data Docs site is the folder ``docs_dir``.

    The default ephemeral site (a temporary folder) is removed, so building writes nothing elsewhere.
    Progress bars are off.
    """
    docs_dir = Path(docs_dir).resolve()
    context = quiet_context()
    for site_name in list(context.list_data_docs_sites()):
        context.delete_data_docs_site(site_name)
    site_config: dict[str, Any] = {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
    }
    # GX's DataDocsSiteConfigTypedDict is incomplete (its own comment says so): it lacks SiteBuilder's
    # show_how_to_buttons, which GX's default site config sets too.
    context.add_data_docs_site(SITE_NAME, cast("DataDocsSiteConfigTypedDict", site_config))
    return context


def run_identifier(run_name: str | None = None) -> RunIdentifier:
    """A run id for ``ValidationDefinition.run(run_id=...)``, shared by every frame of one night.

    The run name becomes a folder of each page's path: characters that Windows or a URL would not take
    as is (an Airflow run id has ``:`` and ``+``) become ``_`` (``safe_name``).
    """
    from great_expectations.core.run_identifier import RunIdentifier

    return RunIdentifier(run_name=safe_name(run_name) if run_name else None, run_time=datetime.now(UTC))


def night_docs_dir(root: Path, run_name: str) -> Path:
    """The Data Docs folder of one night under ``root``: ``root/<run name made safe for a path>``."""
    return Path(root) / safe_name(run_name)


def safe_name(name: str) -> str:
    """A file or folder name that Windows, a URL and a shell take as is."""
    return re.sub(r"[^0-9A-Za-z_.-]", "_", name)


def docs_dir_of(context: AbstractDataContext) -> Path:
    """The folder of the context's chibo Data Docs site."""
    site = context.list_data_docs_sites().get(SITE_NAME)
    if site is None:
        raise ValueError("this GX context has no chibo Data Docs site: make it with open_context()")
    return Path(site["store_backend"]["base_directory"])


def build_docs(context: AbstractDataContext) -> Path:
    """Render the site (a page per validation run, a page per suite, the index) and return ``index.html``."""
    context.build_data_docs(site_names=[SITE_NAME])
    index = docs_dir_of(context) / INDEX_FILE
    if not index.is_file():  # GX logs a rendering error and goes on: say so here
        raise RuntimeError(f"Great Expectations wrote no Data Docs index at {index}: see its log")
    add_static_index(index, run_pages(context))
    return index


def result_page(context: AbstractDataContext, result: ExpectationSuiteValidationResult) -> Path | None:
    """The rendered page of one validation run under the docs folder, or None if it has not been built."""
    key = result_key(context, result)
    if key is None:
        return None
    return page_of(context, key)


def result_key(
    context: AbstractDataContext, result: ExpectationSuiteValidationResult
) -> ValidationResultIdentifier | None:
    """The key under which ``ValidationDefinition.run`` stored this result (suite name and run id)."""
    run_id = result.meta.get("run_id")
    if run_id is None:
        return None
    wanted = (result.suite_name, run_id.to_tuple())
    matches = [
        key
        for key in validation_keys(context)
        if (key.expectation_suite_identifier.name, key.run_id.to_tuple()) == wanted
    ]
    if len(matches) > 1:  # the same suite run twice under one run id: tell the batches apart
        batch = result.meta.get("active_batch_definition")
        matches = [key for key in matches if stored_result(context, key).meta.get("active_batch_definition") == batch]
    return matches[0] if matches else None


def validation_keys(context: AbstractDataContext) -> list[ValidationResultIdentifier]:
    """The keys of every validation result the context holds."""
    # Store.list_keys is typed for the base class (DataContextKey); a ValidationResultsStore builds every key
    # with its key class, ValidationResultIdentifier.
    return cast("list[ValidationResultIdentifier]", context.validation_results_store.list_keys())


def stored_result(context: AbstractDataContext, key: ValidationResultIdentifier) -> ExpectationSuiteValidationResult:
    """The validation result stored under ``key`` (one of ``validation_keys(context)``)."""
    result = context.validation_results_store.get(key)
    if result is None:
        raise KeyError(f"no validation result stored under {key}")
    return result


def page_of(context: AbstractDataContext, key: ValidationResultIdentifier) -> Path | None:
    urls = context.get_docs_sites_urls(resource_identifier=key, site_name=SITE_NAME, only_if_exists=True)
    url = urls[0]["site_url"] if urls else None
    return file_url_to_path(url, docs_dir_of(context)) if url else None


def file_url_to_path(url: str, base_directory: Path | None = None) -> Path:
    """GX's ``file://`` URLs join the base folder as is and the page's own path percent-quoted."""
    raw = url.removeprefix("file://")
    if base_directory is not None and raw.startswith(str(base_directory)):
        relative = raw[len(str(base_directory)) :].lstrip("/")
        return base_directory / urllib.parse.unquote(relative)
    return Path(urllib.parse.unquote(raw))


def run_pages(context: AbstractDataContext) -> list[RunPage]:
    """Every validation run of the context that has a page, newest first, failures first."""
    pages: list[RunPage] = []
    for key in validation_keys(context):
        path = page_of(context, key)
        if path is None:
            continue
        result = stored_result(context, key)
        pages.append(
            RunPage(
                suite_name=key.expectation_suite_identifier.name,
                success=bool(result.success),
                run_time=key.run_id.run_time,
                run_name=None if key.run_id.run_name in (None, NO_RUN_NAME) else key.run_id.run_name,
                path=path,
            )
        )
    return sorted(pages, key=lambda page: (page.success, -page.run_time.timestamp(), page.suite_name))


def add_static_index(index: Path, pages: list[RunPage]) -> None:
    """Put a plain HTML table of the runs at the top of GX's index, shown only when its CDN scripts fail."""
    root = index.parent
    rows = "\n".join(
        "<tr>"
        f'<td class="chibo-status">{STATUS_TEXT[page.success]}</td>'
        f'<td><a href="{html.escape(urllib.parse.quote(page.path.relative_to(root).as_posix()))}">'
        f"{html.escape(page.suite_name)}</a></td>"
        f"<td>{page.run_time.strftime('%Y-%m-%d %H:%M:%S %Z')}</td>"
        f"<td>{html.escape(page.run_name or '')}</td>"
        "</tr>"
        for page in pages
    )
    failed = sum(not page.success for page in pages)
    table = f"""
<div id="{STATIC_INDEX_ID}" style="margin:1em 3em;font-family:sans-serif">
<h2>Kết quả kiểm tra dữ liệu</h2>
<p>{len(pages)} lượt kiểm tra, {failed} không đạt.</p>
<table border="1" cellpadding="4" style="border-collapse:collapse">
<thead><tr><th>Trạng thái</th><th>Bộ quy tắc</th><th>Thời điểm chạy</th><th>Tên lượt chạy</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
</div>
"""
    # Removes the static table when GX's own table works; placed last in the body, when the CDN
    # scripts in <head> have run or failed.
    script = f"""
<script>
if (window.jQuery && window.jQuery.fn && window.jQuery.fn.bootstrapTable) {{
  document.getElementById("{STATIC_INDEX_ID}").remove();
}}
</script>
"""
    text = index.read_text(encoding="utf-8")
    if STATIC_INDEX_ID in text:  # GX rewrites the index at every build; never add the table twice
        return
    body_end = text.rfind("</body>")
    body_tag = text.find("<body")
    if body_end < 0 or body_tag < 0:
        raise ValueError(f"{index} is not a GX index page: no <body>")
    body_start = text.index(">", body_tag) + 1
    text = text[:body_start] + table + text[body_start:body_end] + script + text[body_end:]
    index.write_text(text, encoding="utf-8")
