"""Hostile HTML in a submitted cell never runs: not in the GX Data Docs pages, not in the province's digest.

One real night (intake, dbt views, Great Expectations, Data Docs) takes a report whose cells hold script tags,
event handlers, ``javascript:`` links and attribute-breaking quotes; every Data Docs page of that night and the
province's digest are then opened in headless Chromium. Each payload, if it ran, would stamp the page (its
title and an attribute on ``<html>``) with a marker; the test reads the rendered DOM and finds no marker outside
text, no element the payloads would have made, and each hostile string shown literally, as text.
"""

from __future__ import annotations

import copy
import os
import re
from dataclasses import dataclass
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from alerts.digest import Alert
from alerts.nightly import digests_to_send
from chibo.config import Settings, load_settings
from contract.workbook import write_xlsx
from demo.samples import muong_khuong_2023
from expectations.data_docs import CSP_MARKER, STATIC_INDEX_ID, add_content_security_policy, night_docs_dir
from pipeline import nightly
from tests.browser import rendered_dom, visible_text
from tests.deployments import deployment_variables

RUN_ID = "scheduled__2026-01-16T02:00:00+07:00"
TODAY = date(2026, 1, 16)
MARKER = "chibo-xss"


def stamp(n: int) -> str:
    """What a payload runs: marks the page as scripted. (No alert(): it would block headless Chromium.)"""
    return f"document.title='{MARKER}-{n}';document.documentElement.setAttribute('data-{MARKER}','{n}')"


SCRIPT_TAG = f"<script>{stamp(1)}</script>"
IMG_ONERROR = f'<img src=x onerror="{stamp(2)}">'
SVG_ONLOAD = f"<svg onload={stamp(3)}>"
JAVASCRIPT_LINK = f'<a href="javascript:{stamp(4)}">bấm vào đây</a>'
JAVASCRIPT_URL = f"javascript:{stamp(5)}"
QUOTES_DOUBLE = f'"><img src=x onerror="{stamp(6)}">'
QUOTES_SINGLE = f"' onmouseover='{stamp(7)}' x='"
DUPLICATE_KEY = f"'><svg/onload={stamp(8)}>"

# Where each payload goes: every cell fails a rule, so its value is shown on the Data Docs page of the run
# (unexpected values, a duplicate key) and in the digest's problem list.
PLANTED: list[tuple[int, str, str]] = [
    (0, "branch_grade", SCRIPT_TAG),
    (1, "branch_kind", IMG_ONERROR),
    (2, "has_branch_committee", SVG_ONLOAD),
    (3, "branch_grade", JAVASCRIPT_LINK),
    (4, "branch_grade", JAVASCRIPT_URL),
    (5, "branch_kind", QUOTES_DOUBLE),
    (6, "branch_grade", QUOTES_SINGLE),
    (7, "branch_code", DUPLICATE_KEY),
    (8, "branch_code", DUPLICATE_KEY),
]
PAYLOADS = sorted({payload for _, _, payload in PLANTED})


def hostile_report() -> dict[str, Any]:
    report = copy.deepcopy(muong_khuong_2023())
    for row, field, payload in PLANTED:
        report["chi_bo"][row][field] = payload
    return report


@dataclass(frozen=True)
class Night:
    settings: Settings
    docs_dir: Path
    digests: list[Alert]


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> Night:
    base = tmp_path_factory.mktemp("hostile html")
    settings = load_settings(
        {
            **os.environ,
            **deployment_variables(base),
        }
    )
    settings.inbox.mkdir(parents=True)
    write_xlsx(settings.inbox / "lao-cai_muong-khuong_2023.xlsx", hostile_report())
    nightly.ingest(settings, RUN_ID, TODAY)
    outcomes = nightly.validate(settings, RUN_ID, TODAY)
    assert list(outcomes.values()) == ["rejected"], outcomes
    return Night(settings, night_docs_dir(settings.data_docs, RUN_ID), digests_to_send(settings, TODAY, "16/01/2026"))


class Elements(HTMLParser):
    """Every element of a DOM with its attributes (text is not an element: escaped payloads never show here)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {name: value or "" for name, value in attrs}))
        self._in_title = tag == "title"

    def handle_endtag(self, tag: str) -> None:
        self._in_title = False if tag == "title" else self._in_title

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data


def elements_of(dom: str) -> Elements:
    parser = Elements()
    parser.feed(dom)
    parser.close()
    return parser


def assert_nothing_ran(dom: str, page: str) -> None:
    parsed = elements_of(dom)
    assert MARKER not in parsed.title, f"a payload ran on {page}: its title is {parsed.title!r}"
    for tag, attributes in parsed.elements:
        for name, value in attributes.items():
            assert MARKER not in name and MARKER not in value, f"{page}: a payload made <{tag} {name}={value!r}>"
            assert not value.strip().lower().startswith("javascript:"), f"{page}: <{tag} {name}={value!r}>"


def normalized(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def data_docs_pages(docs_dir: Path) -> list[Path]:
    return sorted(docs_dir.rglob("*.html"))


def test_the_night_rendered_the_hostile_values_into_data_docs(night: Night) -> None:
    pages = data_docs_pages(night.docs_dir)
    validations = [page for page in pages if "validations" in page.parts]
    assert (night.docs_dir / "index.html") in pages and validations
    assert all(CSP_MARKER in page.read_text(encoding="utf-8") for page in pages)


def test_no_script_runs_on_any_data_docs_page_and_the_hostile_values_show_as_text(night: Night) -> None:
    shown = ""
    for page in data_docs_pages(night.docs_dir):
        dom = rendered_dom(page)
        assert_nothing_ran(dom, page.name)
        shown += normalized(visible_text(dom)) + "\n"
    for payload in PAYLOADS:
        assert normalized(payload) in shown, f"{payload!r} is not shown literally on any Data Docs page"


def test_the_static_index_shows_the_failed_run_without_any_script(night: Night) -> None:
    index = night.docs_dir / "index.html"
    assert STATIC_INDEX_ID in index.read_text(encoding="utf-8")
    text = visible_text(rendered_dom(index))
    assert "Kết quả kiểm tra dữ liệu" in text
    assert any(line.startswith("Không đạt") and "chibo.chi_bo" in line for line in text.splitlines())


def test_no_script_runs_in_the_province_digest_and_the_hostile_values_show_as_text(
    night: Night, tmp_path: Path
) -> None:
    [digest] = [d for d in night.digests if d.province == "Lào Cai"]
    page = tmp_path / "digest.html"
    page.write_text(digest.html, encoding="utf-8")
    dom = rendered_dom(page)
    assert_nothing_ran(dom, "the digest")
    shown = normalized(visible_text(dom))
    for payload in PAYLOADS:
        assert normalized(payload) in shown, f"{payload!r} is not shown literally in the digest"
    assert "BỊ TỪ CHỐI" in digest.text.upper()


def test_the_content_security_policy_alone_stops_inline_scripts_and_handlers(tmp_path: Path) -> None:
    """Defense in depth: should a value ever reach a page unescaped, the page's policy still runs none of it."""
    page = tmp_path / "page.html"
    page.write_text(
        f"<!DOCTYPE html><html><head><title>chibo</title></head><body><p>{SCRIPT_TAG}{IMG_ONERROR}{SVG_ONLOAD}</p>"
        "</body></html>",
        encoding="utf-8",
    )
    add_content_security_policy(page)
    add_content_security_policy(page)  # once only
    assert page.read_text(encoding="utf-8").count(CSP_MARKER) == 1
    dom = rendered_dom(page)
    assert MARKER not in elements_of(dom).title
    assert f"data-{MARKER}" not in dom.split("<body")[0]  # the attribute the payloads would set on <html>
