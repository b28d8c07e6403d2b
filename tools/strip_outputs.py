"""Remove outputs and execution counts from notebooks, in place: the repo keeps them clean.

Usage: python tools/strip_outputs.py book/*.ipynb
"""

from __future__ import annotations

import sys

import nbformat


def strip(path: str) -> bool:
    """Strip one notebook; return True when the file changed."""
    notebook = nbformat.read(path, as_version=4)
    changed = False
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        if cell.get("outputs") or cell.get("execution_count") is not None:
            cell["outputs"], cell["execution_count"] = [], None
            changed = True
    if changed:
        nbformat.write(notebook, path)
    return changed


if __name__ == "__main__":
    for notebook_path in sys.argv[1:]:
        if strip(notebook_path):
            print(f"stripped {notebook_path}")
