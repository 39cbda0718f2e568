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

GX's index lists the runs with bootstrap-table and jQuery fetched from public CDNs, filled by an inline script:
without internet access, and always under chibo's Content-Security-Policy, that table stays empty.
``build_docs`` therefore adds a static table of the runs to ``index.html`` (status in words, suite, run time,
link). The result pages themselves are static HTML and stay readable offline (unstyled).

Submitted values are hostile until proven otherwise: a cell may hold ``<script>`` or ``<img onerror=…>``, and GX
1.24 writes the unexpected values of a result into its table cells as raw HTML (its Jinja templates are ``.j2``
files, which ``select_autoescape`` leaves unescaped; only string-template parameters are escaped). The site is
therefore rendered with chibo's own page view (``EscapingPageView``, named in the site's
``site_section_builders`` config, GX's public hook for a custom view): every plain value it is given to render
becomes text, never markup. As defense in depth every page gets a Content-Security-Policy ``<meta>``
(``content_security_policy``) that runs no inline script, no inline event handler and no ``javascript:`` link,
and loads scripts only from the exact CDN addresses of GX's own page template.

Great Expectations is imported inside the functions: it takes seconds to import.
"""

from __future__ import annotations

import functools
import html
import importlib.resources
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
ESCAPING_VIEW = "EscapingPageView"  # the page view of the site's sections (built on first use: it subclasses GX's)
CSP_MARKER = "chibo-csp"
# GX's page template pulls its scripts from these CDN addresses: the only scripts a page may load.
GX_SCRIPT_TEMPLATE = "render/view/templates/js_script_imports.j2"
STYLE_HOSTS = (
    "https://unpkg.com",
    "https://maxcdn.bootstrapcdn.com",
    "https://cdnjs.cloudflare.com",
    "https://cdn.jsdelivr.net",
)


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
        "site_section_builders": {
            section: {"view": {"module_name": __name__, "class_name": ESCAPING_VIEW}}
            for section in ("expectations", "validations", "profiling")
        },
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
    for page in docs_dir_of(context).rglob("*.html"):
        add_content_security_policy(page)
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
    """Put a plain HTML table of the runs at the top of GX's index (GX's own table needs an inline script)."""
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
    text = index.read_text(encoding="utf-8")
    if STATIC_INDEX_ID in text:  # GX rewrites the index at every build; never add the table twice
        return
    body_tag = text.find("<body")
    if body_tag < 0:
        raise ValueError(f"{index} is not a GX index page: no <body>")
    body_start = text.index(">", body_tag) + 1
    text = text[:body_start] + table + text[body_start:]
    index.write_text(text, encoding="utf-8")


@functools.cache
def gx_script_urls() -> tuple[str, ...]:
    """The CDN scripts GX's page template includes, read from the template in the GX package itself."""
    template = importlib.resources.files("great_expectations").joinpath(GX_SCRIPT_TEMPLATE)
    return tuple(re.findall(r'<script src="(https://[^"\s]+)"', template.read_text(encoding="utf-8")))


def content_security_policy() -> str:
    """No inline script, no inline event handler, no ``javascript:`` URL, no request of any kind by a script;
    scripts only from the exact CDN files of GX's template, styles from its CDNs (and GX's inline styles)."""
    return "; ".join(
        (
            "default-src 'none'",
            "script-src " + " ".join(gx_script_urls()),
            "style-src 'unsafe-inline' " + " ".join(STYLE_HOSTS),
            "font-src https://cdnjs.cloudflare.com data:",
            "img-src 'self' data:",
            "connect-src 'none'",
            "object-src 'none'",
            "frame-src 'none'",
            "base-uri 'none'",
            "form-action 'none'",
        )
    )


def add_content_security_policy(page: Path) -> None:
    """Put the policy first in the page's ``<head>``: a ``<meta>`` policy governs what follows it only."""
    text = page.read_text(encoding="utf-8")
    head = re.search(r"<head\b[^>]*>", text, re.IGNORECASE)
    if head is None:
        raise ValueError(f"{page} is not an HTML page with a <head>: it cannot get a Content-Security-Policy")
    meta = (
        f'\n<meta http-equiv="Content-Security-Policy" id="{CSP_MARKER}" '
        f'content="{html.escape(content_security_policy())}">'
    )
    if text[head.end() :].startswith(meta):  # a page GX did not rewrite at this build (never a value's text)
        return
    page.write_text(text[: head.end()] + meta + text[head.end() :], encoding="utf-8")


def escaped(value: object) -> str:
    """A value GX was handed as data (a cell, a count, a tuple of cells), as HTML text."""
    return html.escape(str(value), quote=True)


@functools.cache
def escaping_page_view() -> type:
    """GX's page view, except that a plain value given to ``render_content_block`` is escaped.

    GX hands its templates either content blocks (dicts with a ``content_block_type``, rendered by their own
    template, whose string-template parameters GX escapes) or plain values: the unexpected values of a result,
    its counts and index columns, a pair of cells. GX 1.24 returns those plain values as they are, into HTML;
    here they become text. Markdown rendering is left alone (it is not HTML).
    """
    from great_expectations.render import RenderedComponentContent
    from great_expectations.render.view import DefaultJinjaPageView
    from jinja2 import pass_context

    class EscapingPageView(DefaultJinjaPageView):
        @pass_context
        def render_content_block(
            self,
            jinja_context: Any,
            content_block: Any,
            index: Any = None,
            content_block_id: Any = None,
            render_to_markdown: bool = False,
        ) -> Any:
            if render_to_markdown or isinstance(content_block, RenderedComponentContent):
                return super().render_content_block(
                    jinja_context, content_block, index, content_block_id, render_to_markdown
                )
            if content_block is None:
                return ""
            if isinstance(content_block, dict) and "content_block_type" in content_block:
                return super().render_content_block(jinja_context, content_block, index, content_block_id)
            if isinstance(content_block, list):
                return "".join(
                    self.render_content_block(
                        jinja_context, element, position, f"{content_block_id}-{position}" if content_block_id else None
                    )
                    if is_content_block(element)
                    else f"<span>{escaped(element)}</span>"
                    for position, element in enumerate(content_block)
                )
            return escaped(content_block)

    def is_content_block(element: object) -> bool:
        return isinstance(element, RenderedComponentContent) or (
            isinstance(element, dict) and "content_block_type" in element
        )

    return EscapingPageView


def __getattr__(name: str) -> Any:
    """``EscapingPageView`` for GX's ``instantiate_class_from_config``, built on first use (GX imports slowly)."""
    if name == ESCAPING_VIEW:
        return escaping_page_view()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
