"""Screenshot one page of the built website, served from 127.0.0.1 like the site tests do.

    python tools/screenshot.py book/00_preface.html /tmp/preface.png [--width 1280] [--full-page]

PAGE is relative to the built site (``_build/html``, or ``BOOK_HTML_DIR``; a path that
starts with the site folder works too). The shot is taken once MathJax, the widgets and the
images have settled; requests to other hosts are blocked and listed, as are page errors.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from site_browser import SITE_DIR, browser, open_page, serve


def _relative_page(page: str, site_dir: Path) -> str:
    """``page`` relative to ``site_dir`` (accepts both relative and site-prefixed paths)."""
    path = Path(page)
    if path.exists() and path.resolve().is_relative_to(site_dir.resolve()):
        return path.resolve().relative_to(site_dir.resolve()).as_posix()
    return path.as_posix()


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, take the screenshot, report what went wrong on the page."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("page", help="page of the built site, e.g. book/00_preface.html")
    parser.add_argument("out", type=Path, help="PNG file to write")
    parser.add_argument("--width", type=int, default=1280, help="viewport width (px)")
    parser.add_argument("--height", type=int, default=900, help="viewport height (px)")
    parser.add_argument("--full-page", action="store_true", help="the whole page, not the top")
    parser.add_argument("--site", type=Path, default=SITE_DIR, help="built site folder")
    args = parser.parse_args(argv)

    page_path = _relative_page(args.page, args.site)
    if not (args.site / page_path).is_file():
        print(f"no page {page_path} in {args.site} (run `make book` first?)", file=sys.stderr)
        return 2
    with (
        serve(args.site) as base_url,
        browser() as chromium,
        open_page(chromium, base_url + page_path, args.width, args.height) as (page, report),
    ):
        page.screenshot(path=str(args.out), full_page=args.full_page)
    for line in report.external + report.failed + report.console_errors:
        print(f"warning: {line}", file=sys.stderr)
    facts = report.facts
    print(
        f"{args.out}: {facts['mjx_containers']} formulas typeset, "
        f"{sum(image['natural_width'] > 0 for image in facts['images'])} images loaded"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
