"""Serve the built website on 127.0.0.1 and look at it with Debian's Chromium.

Shared by ``tests/test_site.py`` (the offline browser test) and ``tools/screenshot.py``.
Playwright drives ``/usr/bin/chromium`` (``playwright install`` is never needed), every
request to another host is recorded and aborted, and :func:`open_page` waits until MathJax,
the widget manager and the images have finished before it reports what the page shows.
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Error,
    Page,
    Request,
    Response,
    sync_playwright,
)

REPO = Path(__file__).resolve().parents[1]
# `make book` builds into _build/html; BOOK_HTML_DIR points elsewhere (e.g. a private
# `jupyter-book build . --path-output /tmp/jb-site` gives /tmp/jb-site/_build/html).
SITE_DIR = Path(os.environ.get("BOOK_HTML_DIR", REPO / "_build" / "html"))
HOST = "127.0.0.1"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Schemes that never leave the machine (no request to any host).
LOCAL_SCHEMES = {"data", "blob", "about", "chrome", "chrome-extension"}
# http(s) URLs of any host but 127.0.0.1; the browser test aborts those requests.
EXTERNAL_URL = re.compile(r"^(https?|wss?)://(?!127\.0\.0\.1[:/])")
SETTLE_TIMEOUT_MS = 15_000

# Runs in the page after the load event: waits for MathJax's first typeset, the rendering
# of saved ipywidgets and every image (lazy ones are switched to eager), then returns facts.
_SETTLE_AND_INSPECT_JS = """
async (timeoutMs) => {
  const deadline = Date.now() + timeoutMs;
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const until = async (ok) => { while (!ok() && Date.now() < deadline) await sleep(25); };
  const mj = window.MathJax;
  if (mj && mj.startup && mj.startup.promise) {
    await Promise.race([mj.startup.promise, sleep(timeoutMs)]);
  }
  const views = document.querySelectorAll(
    'script[type="application/vnd.jupyter.widget-view+json"]');
  const renderedViews = () => [...document.querySelectorAll('.widget-subarea')]
    .filter((e) => e.childElementCount > 0).length;
  if (views.length) await until(() => renderedViews() >= views.length);
  for (const img of document.images) img.loading = 'eager';
  await until(() => [...document.images].every((img) => img.complete));
  const skip = 'pre, code, script, style, textarea, mjx-container, .highlight';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const text = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (!n.parentElement.closest(skip)) text.push(n.nodeValue);
  }
  const math = [...document.querySelectorAll('.math')];
  return {
    mathjax_version: (mj && mj.version) || null,
    mjx_containers: document.querySelectorAll('mjx-container').length,
    math_nodes: math.length,
    untypeset: math.filter((e) => !e.querySelector('mjx-container'))
      .map((e) => e.textContent.trim().slice(0, 80)),
    merrors: [...document.querySelectorAll('mjx-merror, [data-mml-node="merror"]')]
      .map((e) => e.getAttribute('data-mjx-error') || e.textContent.slice(0, 80)),
    text: text.join(' '),
    images: [...document.images].map((img) => ({
      src: img.currentSrc || img.src,
      natural_width: img.naturalWidth,
      in_cell_output: !!img.closest('.cell_output'),
    })),
    widget_views: views.length,
    widget_views_rendered: renderedViews(),
  };
}
"""


class _QuietHandler(SimpleHTTPRequestHandler):
    """Static file handler that does not log every request to stderr."""

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet."""


class _QuietServer(ThreadingHTTPServer):
    """HTTP server that ignores clients hanging up (a tab closed while a file was sent)."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Print tracebacks, except for connections the browser dropped."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serve ``directory`` over HTTP on 127.0.0.1 (a free port); yield the base URL."""
    handler = partial(_QuietHandler, directory=str(directory))
    server = _QuietServer((HOST, 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{HOST}:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def is_local(url: str) -> bool:
    """True when loading ``url`` does not contact any host other than 127.0.0.1."""
    parts = urlsplit(url)
    return parts.scheme in LOCAL_SCHEMES or parts.hostname == HOST


@contextmanager
def browser() -> Iterator[Browser]:
    """Start Chromium; Playwright gives it a fresh temporary profile and deletes it after."""
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@contextmanager
def new_context(chromium: Browser, width: int = 1280, height: int = 900) -> Iterator[BrowserContext]:
    """A new reader (empty cache and storage) whose requests to other hosts are aborted."""
    context = chromium.new_context(viewport={"width": width, "height": height})
    # A regex (matched inside Playwright's driver) rather than a Python callable, which
    # would cost a round trip to Python for every request of every page.
    context.route(EXTERNAL_URL, lambda route: route.abort())
    try:
        yield context
    finally:
        context.close()


@dataclass
class PageReport:
    """What happened while a page loaded, and what it shows once settled."""

    url: str
    requests: list[str] = field(default_factory=list)
    external: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)


@contextmanager
def open_page(
    chromium: Browser, url: str, width: int = 1280, height: int = 900
) -> Iterator[tuple[Page, PageReport]]:
    """Open ``url`` as a first-time reader, wait until it has settled; yield tab and report."""
    with new_context(chromium, width, height) as context:
        page = context.new_page()
        yield page, load(page, url)


def load(page: Page, url: str) -> PageReport:
    """Load ``url`` in ``page``, recording requests and errors; then let it settle and inspect."""
    report = PageReport(url)

    def on_request(request: Request) -> None:
        report.requests.append(request.url)
        if not is_local(request.url):
            report.external.append(request.url)

    def on_failed(request: Request) -> None:
        if is_local(request.url):  # external ones are aborted on purpose and listed above
            report.failed.append(f"{request.url} ({request.failure})")

    def on_response(response: Response) -> None:
        if response.status >= 400:
            report.failed.append(f"{response.url} (HTTP {response.status})")

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            report.console_errors.append(f"console: {message.text} @ {message.location}")

    def on_pageerror(error: Error) -> None:
        report.console_errors.append(f"pageerror: {error}")

    page.on("request", on_request)
    page.on("requestfailed", on_failed)
    page.on("response", on_response)
    page.on("console", on_console)
    page.on("pageerror", on_pageerror)
    page.goto(url, wait_until="load")
    report.facts = page.evaluate(_SETTLE_AND_INSPECT_JS, SETTLE_TIMEOUT_MS)
    return report


def html_pages(site_dir: Path) -> list[str]:
    """The pages of the built site, as paths relative to ``site_dir``.

    Everything under ``_static/`` is left out: those .html files are the theme's Jinja
    macro files (webpack-macros.html), copied verbatim and never linked, not pages.
    ``genindex.html`` and ``search.html`` are kept: the theme links to both.
    """
    return sorted(
        path.relative_to(site_dir).as_posix()
        for path in site_dir.rglob("*.html")
        if path.relative_to(site_dir).parts[0] != "_static"
    )


class _MathCounter(HTMLParser):
    """Counts the elements whose class list contains ``math`` (Sphinx's math markup)."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if "math" in classes:
            self.count += 1


def count_math_nodes(html_file: Path) -> int:
    """Number of math elements (``span.math``, ``div.math``) in a built HTML file."""
    parser = _MathCounter()
    parser.feed(html_file.read_text(encoding="utf-8"))
    return parser.count


def _executed_notebook(site_dir: Path, page: str) -> dict[str, Any] | None:
    """The executed notebook behind ``page``, or None for a page without code.

    With ``execute_notebooks: cache`` the outputs live only in the jupyter cache
    (``_build/.jupyter_cache``; the copy in ``_build/jupyter_execute`` has none), so the
    newest cache record of the page's source wins; otherwise the ``jupyter_execute`` copy.
    """
    stem = "/" + page.removesuffix(".html")
    cache_dir = site_dir.parent / ".jupyter_cache"
    if cache_dir.is_dir():
        from jupyter_cache import get_cache

        cache = get_cache(cache_dir)
        records = [
            record
            for record in cache.list_cache_records()
            if Path(record.uri).with_suffix("").as_posix().endswith(stem)
        ]
        if records:
            newest = max(records, key=lambda record: record.created)
            return cache.get_cache_bundle(newest.pk).nb
    notebook = (site_dir.parent / "jupyter_execute" / page).with_suffix(".ipynb")
    if notebook.is_file():
        return json.loads(notebook.read_text(encoding="utf-8"))
    return None


def count_image_outputs(site_dir: Path, page: str) -> int:
    """Number of image outputs the executed notebook behind ``page`` shows (0 if none).

    Cells tagged ``remove-output``/``remove-cell`` are not shown, so they do not count.
    """
    notebook = _executed_notebook(site_dir, page) or {}
    hidden = {"remove-output", "remove-cell"}
    return sum(
        1
        for cell in notebook.get("cells", [])
        if not hidden & set(cell.get("metadata", {}).get("tags", []))
        for output in cell.get("outputs", [])
        if any(mime.startswith("image/") for mime in output.get("data", {}))
    )


# The kernel-free latent explorers (genmodels.widgets.static_latent_explorer): move each
# range input one way and the other, as a reader's drag does, and record the image shown.
_DRIVE_EXPLORERS_JS = """
() => [...document.querySelectorAll('.latent-explorer')].map((root) => {
  const img = root.querySelector('img');
  const shown = [img.src];
  for (const input of root.querySelectorAll('input[type="range"]')) {
    for (const value of [input.min, input.max]) {
      input.value = value;
      input.dispatchEvent(new Event('input', {bubbles: true}));
      shown.push(img.src);
    }
  }
  return shown;
})
"""


def drive_latent_explorers(page: Page) -> list[list[str]]:
    """For each static latent explorer on ``page``: the image sources shown as its sliders move.

    Each list starts with the initial image, then one entry per slider position (each slider
    to its minimum, then its maximum).
    """
    return page.evaluate(_DRIVE_EXPLORERS_JS)
