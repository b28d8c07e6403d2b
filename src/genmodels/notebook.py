"""Helpers for the chapters' cells: show library code on the page, glue numbers into the prose.

Both work in any Jupyter front end. ``glue`` uses ``myst_nb.glue`` when MyST-NB is installed
(the book build), so ``{glue:text}`name``` in the prose shows the value; elsewhere (Colab,
plain Jupyter) there are no glue roles, so it prints ``name = value`` for the reader to find
the number the prose refers to by its name.
"""

from __future__ import annotations

import inspect
from typing import Any


def show(obj: Any) -> None:
    """Display the source code of a function, class or method, syntax-highlighted.

    Raises:
        TypeError: ``obj`` has no Python source (a builtin, a number, ...).
    """
    from IPython.display import Code, display

    try:
        source = inspect.getsource(obj)
    except (TypeError, OSError) as error:
        raise TypeError(f"show() needs a Python function or class, got {type(obj).__name__}") from error
    display(Code(source, language="python"))


def glue(name: str, value: Any, display: bool = True) -> Any:
    """Make ``value`` available to the prose as ``{glue:text}`name``` and return it.

    A NumPy or TensorFlow scalar is converted to a Python number first (``{glue:text}`x:.2f```
    cannot format ``np.float64(...)``). With MyST-NB present the value is glued (and shown when
    ``display`` is true); without it ``name = value`` is printed (the generated Colab notebooks
    show glued numbers by name).
    """
    if not name.isidentifier():
        raise ValueError(f"glue name {name!r} must be a Python identifier (letters, digits, _)")
    if getattr(value, "shape", None) == () and hasattr(value, "item"):
        value = value.item()  # a NumPy/TensorFlow scalar: MyST-NB formats only Python numbers
    try:
        from myst_nb import glue as myst_glue
    except ImportError:
        print(f"{name} = {value}")
        return value
    myst_glue(name, value, display=display)
    return value
