"""Open a page in headless Chromium (Debian's ``chromium``) and read it as a person would.

``screenshot_text`` renders the page (its scripts run) and returns the visible text of the rendered DOM:
scripts, styles and tags dropped, one line per block. ``screenshot`` saves a PNG of the same rendering. Both
give up after ``TIMEOUT_SECONDS``.

The browser is offline by default: every host name except localhost resolves to "not found", so a page
that pulls scripts or styles from a CDN renders as it would on a machine without internet access, the same
on every run (a DNS look-up that times out would otherwise add seconds), and no traffic leaves the machine.
Text hidden by CSS is still returned: this reads the DOM, not pixels.

``driven_chromium`` is the same browser driven by a test through Selenium and Debian's chromedriver (log in,
fill forms, upload files, click), and ``page_png`` saves the whole page it shows.
"""

from __future__ import annotations

import base64
import math
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

TIMEOUT_SECONDS = 30
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--mute-audio",
)
OFFLINE_FLAG = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost"
INVISIBLE_TAGS = {"script", "style", "noscript", "template", "head", "title"}


class BrowserMissing(RuntimeError):
    pass


class BrowserFailed(RuntimeError):
    pass


def chromium() -> str:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise BrowserMissing(
        "headless Chromium is not installed: run `apt-get update && apt-get install -y --no-install-recommends "
        "chromium` (Debian), or `make test`, which installs it"
    )


def as_url(url_or_path: str | Path) -> str:
    if isinstance(url_or_path, Path) or "://" not in url_or_path:
        return Path(url_or_path).resolve().as_uri()
    return url_or_path


def run_chromium(url_or_path: str | Path, *args: str, offline: bool = True) -> subprocess.CompletedProcess[str]:
    url = as_url(url_or_path)
    network = [OFFLINE_FLAG] if offline else []
    with tempfile.TemporaryDirectory(prefix="chibo-chromium-") as profile:
        command = [chromium(), *FLAGS, *network, f"--user-data-dir={profile}", *args, url]
        try:
            completed = subprocess.run(
                command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, stdin=subprocess.DEVNULL
            )
        except subprocess.TimeoutExpired as error:
            raise BrowserFailed(f"Chromium did not render {url} within {TIMEOUT_SECONDS} s") from error
    if completed.returncode != 0:
        raise BrowserFailed(f"Chromium failed on {url} (exit {completed.returncode}): {completed.stderr[-2000:]}")
    return completed


def rendered_dom(url_or_path: str | Path, offline: bool = True) -> str:
    """The page's DOM after Chromium has loaded it and run its scripts, as HTML."""
    return run_chromium(url_or_path, "--dump-dom", offline=offline).stdout


class _TextExtractor(HTMLParser):
    """Collects text outside script/style/head, a line break at each block-level boundary."""

    BLOCKS = {"p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "br", "table", "section", "ul", "ol"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in INVISIBLE_TAGS:
            self.hidden_depth += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")
        elif tag in {"td", "th"}:
            self.parts.append(" | ")

    def handle_endtag(self, tag: str) -> None:
        if tag in INVISIBLE_TAGS and self.hidden_depth:
            self.hidden_depth -= 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden_depth:
            self.parts.append(data)


def visible_text(dom: str) -> str:
    extractor = _TextExtractor()
    extractor.feed(dom)
    extractor.close()
    lines = (re.sub(r"[ \t\r\f\v]+", " ", line).strip(" |") for line in "".join(extractor.parts).split("\n"))
    return "\n".join(line for line in lines if line)


def screenshot_text(url_or_path: str | Path, offline: bool = True) -> str:
    """The text a person would see on the rendered page (one line per block), tags stripped after rendering."""
    return visible_text(rendered_dom(url_or_path, offline=offline))


def screenshot(url_or_path: str | Path, png: Path, width: int = 1280, height: int = 1024, offline: bool = True) -> Path:
    """A PNG of the rendered page (the first ``height`` pixels)."""
    run_chromium(url_or_path, f"--window-size={width},{height}", f"--screenshot={Path(png).resolve()}", offline=offline)
    if not png.exists():
        raise BrowserFailed(f"Chromium wrote no screenshot of {as_url(url_or_path)}")
    return png


# ------------------------------------------------------------------ a browser a test drives (Selenium)

WEBDRIVER_FLAGS = ("--headless=new", *(flag for flag in FLAGS if not flag.startswith("--headless")))


def chromedriver() -> str:
    found = shutil.which("chromedriver")
    if found:
        return found
    raise BrowserMissing(
        "chromedriver is not installed: run `apt-get update && apt-get install -y --no-install-recommends "
        "chromium chromium-driver` (Debian), or `make browser`"
    )


@contextmanager
def driven_chromium(width: int = 1280, height: int = 1800, offline: bool = True) -> Iterator[WebDriver]:
    """Debian's Chromium driven through its own chromedriver (never Selenium Manager, never a download),
    headless, offline like ``run_chromium``, with a fresh profile: no cookie from another test."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium()
    with tempfile.TemporaryDirectory(prefix="chibo-webdriver-") as profile:
        for flag in (*WEBDRIVER_FLAGS, *([OFFLINE_FLAG] if offline else []), f"--window-size={width},{height}"):
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={profile}")
        driver = webdriver.Chrome(service=Service(chromedriver()), options=options)
        driver.set_page_load_timeout(TIMEOUT_SECONDS)
        try:
            yield driver
        finally:
            driver.quit()


def page_png(driver: WebDriver, png: Path, max_height: int = 4000) -> Path:
    """A PNG of the whole page the driver shows (not only the window), as wide as the window, at most
    ``max_height`` CSS pixels tall."""
    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    width = driver.get_window_size()["width"]
    height = min(math.ceil(metrics["cssContentSize"]["height"]), max_height)
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
        },
    )
    png.parent.mkdir(parents=True, exist_ok=True)
    png.write_bytes(base64.b64decode(shot["data"]))
    return png
