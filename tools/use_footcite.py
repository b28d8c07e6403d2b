"""Turn {cite} roles and {bibliography} blocks of the given pages into footnote citations.

Each page keeps its own reference list ({footbibliography}); unlike {bibliography} with a
docname filter, a work cited on several pages then gives no "duplicate citation" warning.

Usage: python tools/use_footcite.py book/NN_name.md ...
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

_ROLE = re.compile(r"\{cite(:[a-z]+)?\}`")
_BLOCK = re.compile(r"```\{bibliography\}[^`]*?```", re.S)


def convert(text: str) -> str:
    text = _ROLE.sub(lambda m: "{footcite" + (m.group(1) or ":p") + "}`", text)
    return _BLOCK.sub("```{footbibliography}\n```", text)


if __name__ == "__main__":
    for name in sys.argv[1:]:
        path = Path(name)
        path.write_text(convert(path.read_text()))
