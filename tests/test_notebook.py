"""genmodels.notebook: show() and glue() behave the same with and without MyST-NB."""

from __future__ import annotations

import builtins
import sys

import pytest

from genmodels import notebook


def test_show_displays_the_source(capsys):
    notebook.show(notebook.glue)
    assert "def glue(" in capsys.readouterr().out


def test_show_refuses_what_has_no_source():
    with pytest.raises(TypeError, match="needs a Python function"):
        notebook.show(3)


def test_glue_returns_the_value_and_rejects_bad_names():
    assert notebook.glue("spread", 1.5, display=False) == 1.5
    with pytest.raises(ValueError, match="identifier"):
        notebook.glue("two words", 1)


def test_glue_without_myst_nb_prints_name_and_value(monkeypatch, capsys):
    real_import = builtins.__import__

    def no_myst_nb(name, *args, **kwargs):
        if name.startswith("myst_nb"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "myst_nb", raising=False)
    monkeypatch.setattr(builtins, "__import__", no_myst_nb)
    assert notebook.glue("value", 42) == 42
    assert capsys.readouterr().out == "value = 42\n"
    assert notebook.glue("spread", 4.5, display=False) == 4.5
    assert capsys.readouterr().out == "spread = 4.5\n"


def test_glue_turns_numpy_scalars_into_python_numbers():
    import numpy as np

    value = notebook.glue("ratio", np.float64(2.5), display=False)
    assert type(value) is float and value == 2.5
    assert type(notebook.glue("count", np.int64(3), display=False)) is int
