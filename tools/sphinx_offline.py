"""Sphinx extension for an offline website (``sphinx.local_extensions`` in ``_config.yml``).

1. Sphinx 7.4 emits every inline ``<script>`` that an extension adds after the builder has
   started twice (the builder keeps it under the name ``None``, the registry re-adds it as
   ``''``). sphinx-thebe's inline ``const THEBE_JS_URL = ...`` then throws "Identifier
   'THEBE_JS_URL' has already been declared" on every page; the repeats are dropped here.
2. A page that would load a script or stylesheet from another host is a warning (an error
   under ``jupyter-book build -W``): vendor the file into ``book/static/`` instead.
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)


def _asset_key(asset: Any) -> tuple[str, int, tuple[tuple[str, str], ...]]:
    """What makes two script/stylesheet entries the same tag."""
    return (
        getattr(asset, "filename", asset) or "",
        getattr(asset, "priority", 500),
        tuple(sorted(getattr(asset, "attributes", {}).items())),
    )


def _offline_assets(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """Drop repeated asset entries of this page; warn about assets from other hosts."""
    for name in ("script_files", "css_files"):
        assets = context.get(name)
        if not assets:
            continue
        seen: set[tuple[str, int, tuple[tuple[str, str], ...]]] = set()
        unique = []
        for asset in assets:
            key = _asset_key(asset)
            if key not in seen:
                seen.add(key)
                unique.append(asset)
            url = key[0]
            if "://" in url:
                logger.warning(
                    "%s loads %s from another host: vendor it into book/static/",
                    pagename,
                    url,
                    type="offline",
                    subtype="cdn",
                )
        assets[:] = unique  # the same list the template renders


def setup(app: Sphinx) -> dict[str, Any]:
    """Run after the other extensions have added their per-page assets."""
    app.connect("html-page-context", _offline_assets, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
