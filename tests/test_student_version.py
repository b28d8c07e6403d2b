"""The student version of a chapter keeps the exercises and drops every solution."""

from __future__ import annotations

import sys
from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

from make_student_version import main, strip_solutions  # noqa: E402

DOC = """intro
```{exercise} One
:label: ex-one
Do it.
```

```{code-cell} ipython3
answer = ...
```

````{solution-start} ex-one
:class: dropdown
````
The secret method.
```{code-cell} ipython3
answer = 42
```
````{solution-end}
````
outro
"""


def test_strip_solutions_removes_text_code_and_fences():
    out = strip_solutions(DOC)
    assert "secret" not in out and "answer = 42" not in out and "solution" not in out
    assert "answer = ..." in out and out.startswith("intro") and out.rstrip().endswith("outro")


def test_unclosed_solution_is_an_error():
    with pytest.raises(ValueError, match="never closed"):
        strip_solutions(DOC.replace("````{solution-end}\n````\n", ""))


def test_student_notebooks_of_the_book(tmp_path: Path):
    main(str(ROOT / "book"), str(tmp_path))
    chapters = [p for p in (ROOT / "book").glob("[0-9]*.md") if "jupytext" in p.read_text()[:400]]
    assert chapters
    for chapter in chapters:
        student = jupytext.read(tmp_path / f"{chapter.stem}.ipynb")
        text = "\n".join(cell.source for cell in student.cells)
        full = chapter.read_text()
        assert "{solution-start}" not in text and "{solution-end}" not in text
        assert text.count("{exercise}") == full.count("{exercise}") >= 3
        assert len(student.cells) < len(jupytext.read(chapter).cells)
