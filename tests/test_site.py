"""The built website works offline: every page loads in Chromium from 127.0.0.1 alone.

Needs a built site (`make book`, i.e. `jupyter-book build .`) and /usr/bin/chromium.
Run with `pytest -m site tests/test_site.py`. One browser serves the whole session and
the pages are visited one after another. `BOOK_HTML_DIR` points at another build.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from playwright.sync_api import Browser

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from site_browser import (
    REPO,
    SITE_DIR,
    PageReport,
    browser,
    count_image_outputs,
    count_math_nodes,
    drive_latent_explorers,
    html_pages,
    new_context,
    open_page,
    serve,
)

pytestmark = pytest.mark.site

NOT_BUILT = f"no built site in {SITE_DIR}: run `make book` first"
# TeX delimiters that must not survive typesetting (searched outside code and math).
RAW_TEX = ("\\(", "\\)", "\\[", "\\]", "$$", "\\begin{")


def _pages() -> list[str]:
    """Every page but index.html, which only redirects (see test_index_redirects...)."""
    if not SITE_DIR.is_dir():
        return []
    return [page for page in html_pages(SITE_DIR) if page != "index.html"]


# With no site the list is empty, which pytest would turn into a skip: keep one
# placeholder so that the test runs and fails with NOT_BUILT instead.
PAGES = _pages() or ["(site not built)"]


@dataclass
class Site:
    """The served site and the browser looking at it."""

    base_url: str
    chromium: Browser


@pytest.fixture(scope="session")
def site() -> Iterator[Site | None]:
    """One local server and one Chromium for all the tests (None when nothing is built)."""
    if not (SITE_DIR / "index.html").is_file():
        yield None
        return
    with serve(SITE_DIR) as base_url, browser() as chromium:
        yield Site(base_url, chromium)


def _need(site: Site | None) -> Site:
    """The site, or a failure (not a skip) telling how to build it."""
    if site is None:
        pytest.fail(NOT_BUILT, pytrace=False)
    return site


def problems(report: PageReport, math_nodes: int, image_outputs: int) -> list[str]:
    """Everything wrong with a loaded page; ``math_nodes``/``image_outputs`` from its source."""
    facts = report.facts
    found = [f"external request (aborted): {url}" for url in report.external]
    found += [f"failed request: {failure}" for failure in report.failed]
    found += report.console_errors
    if math_nodes:
        if not facts["mathjax_version"]:
            found.append("the page has math but MathJax did not load")
        if facts["mjx_containers"] < math_nodes:
            found.append(f"{facts['mjx_containers']} typeset formulas for {math_nodes} math nodes")
        found += [f"math not typeset: {text!r}" for text in facts["untypeset"]]
    found += [f"MathJax error: {error!r}" for error in facts["merrors"]]
    found += [f"raw TeX delimiter {raw!r} visible" for raw in RAW_TEX if raw in facts["text"]]
    found += [f"image not loaded: {image['src']}" for image in facts["images"] if image["natural_width"] == 0]
    figures = [i for i in facts["images"] if i["in_cell_output"] and i["natural_width"] > 0]
    if image_outputs and not figures:
        found.append(f"the notebook has {image_outputs} image outputs but no figure shows")
    if facts["widget_views_rendered"] < facts["widget_views"]:
        found.append(f"{facts['widget_views_rendered']} of {facts['widget_views']} widgets rendered")
    return found


def test_site_is_built() -> None:
    """The build produced the landing page and at least one chapter."""
    assert (SITE_DIR / "index.html").is_file(), NOT_BUILT
    assert any(page.startswith("book/") for page in PAGES), f"no chapter pages in {SITE_DIR}"


def test_index_redirects_to_preface(site: Site | None) -> None:
    """index.html sends the reader to the root page of _toc.yml (the preface)."""
    site = _need(site)
    root = yaml.safe_load((REPO / "_toc.yml").read_text(encoding="utf-8"))["root"]
    target = f"{site.base_url}{root}.html"
    with new_context(site.chromium) as context:
        page = context.new_page()
        page.goto(f"{site.base_url}index.html")
        page.wait_for_url(target, timeout=10_000)
        assert page.locator("article h1").first.is_visible()


@pytest.mark.parametrize("path", PAGES)
def test_page(site: Site | None, path: str) -> None:
    """The page loads offline, without errors, with its math typeset and figures shown."""
    site = _need(site)
    source = SITE_DIR / path
    with open_page(site.chromium, site.base_url + path) as (_, report):
        found = problems(report, count_math_nodes(source), count_image_outputs(SITE_DIR, path))
    assert not found, f"{path}:\n  " + "\n  ".join(found)


def _has_explorer(page: str) -> bool:
    path = SITE_DIR / page
    return path.is_file() and "latent-explorer" in path.read_text(encoding="utf-8")


# Pages with a kernel-free latent explorer (the VAE chapter); a placeholder fails when none is built.
EXPLORER_PAGES = [page for page in PAGES if _has_explorer(page)] or ["(no page with a latent explorer)"]


@pytest.mark.parametrize("path", EXPLORER_PAGES)
def test_static_latent_explorer_responds_to_its_sliders(site: Site | None, path: str) -> None:
    """Without a kernel, moving a slider of the pre-rendered latent explorer changes the image."""
    site = _need(site)
    assert (SITE_DIR / path).is_file(), "no built page has a latent explorer (the VAE chapter has one)"
    with open_page(site.chromium, site.base_url + path) as (page, report):
        explorers = drive_latent_explorers(page)
    assert explorers, f"{path}: no explorer found"
    for shown in explorers:
        assert all(src.startswith("data:image/png") for src in shown), "images must be inline (offline)"
        assert len(set(shown)) >= 4, f"{path}: the image did not change as the sliders moved"
    assert not report.console_errors and not report.external
