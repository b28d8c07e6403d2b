"""Write student versions of the chapters: the same notebooks without any solution.

Every solution in a chapter sits between a ``{solution-start}`` and a ``{solution-end}``
directive (sphinx-exercise's gated syntax), code cells included. This script drops those
blocks from each chapter's MyST source and writes the result as a notebook.

Usage: python tools/make_student_version.py BOOK_DIR OUT_DIR
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import jupytext

_START = re.compile(r"^(`{3,}|:{3,})\{solution-start\}")
_END = re.compile(r"^(`{3,}|:{3,})\{solution-end\}")


def strip_solutions(text: str) -> str:
    """Remove every solution block (its fences included) from a MyST document.

    Raises:
        ValueError: a solution block is opened but never closed, or closed but never opened.
    """
    kept: list[str] = []
    lines = iter(text.splitlines(keepends=True))
    for number, line in enumerate(lines, start=1):
        if _END.match(line):
            raise ValueError(f"line {number}: {{solution-end}} without {{solution-start}}")
        if not _START.match(line):
            kept.append(line)
            continue
        fence = _START.match(line).group(1)
        for inner in lines:  # skip to the end fence of the matching {solution-end}
            if _START.match(inner):
                raise ValueError(f"solution block opened near line {number} is never closed")
            if _END.match(inner):
                next(line for line in lines if line.strip() == fence)
                break
        else:
            raise ValueError(f"solution block opened at line {number} is never closed")
    return "".join(kept)


def main(book_dir: str, out_dir: str) -> None:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for source in sorted(Path(book_dir).glob("[0-9]*.md")):
        text = source.read_text(encoding="utf-8")
        if "jupytext" not in text[:400]:
            continue  # a plain page, not a notebook
        notebook = jupytext.reads(strip_solutions(text), fmt="md:myst")
        notebook.metadata.pop("jupytext", None)
        jupytext.write(notebook, out / f"{source.stem}.ipynb")
        print(f"{out / source.stem}.ipynb")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
