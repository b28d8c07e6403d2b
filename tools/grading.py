"""Coursework with nbgrader: turn chapters into graded assignments, release them, grade submissions.

A chapter's exercises follow CONTRIBUTING.md item 6: an ``answer`` cell (the placeholder the
student replaces), a ``check`` cell (calls a ``genmodels.exercises`` check, which prints ✅ or
what is wrong with a hint) and a gated solution. The chapter is first converted by
``tools/colab_notebooks.py``, so a released notebook is the Colab notebook without its solutions.
This tool maps the exercises onto nbgrader's model:

- the answer cell becomes an *autograded answer* cell; in the instructor's **source** version it
  holds the placeholder followed by the reference solution between ``### BEGIN SOLUTION`` and
  ``### END SOLUTION`` (the solution's explanation as comments), and nbgrader's release keeps only
  the placeholder;
- the check cell becomes a locked *autograder test* cell worth ``points``: it prints the check's
  message and evaluates to the points earned, which nbgrader reads as partial credit (an answer
  never raises, so the student's *Run all* goes on past a wrong answer, and the feedback is the
  check's own message);
- the solution cells are left out of both versions (the reference code is in the source's
  answer cell).

Course directory (nbgrader's layout; one assignment per chapter, named after it)::

    COURSE/nbgrader_config.py                      written here: timeouts, the answer stub
    COURSE/source/NN_name/NN_name.ipynb            instructor version (written here)
    COURSE/release/NN_name/NN_name.ipynb           student version (``nbgrader generate_assignment``)
    COURSE/submitted/STUDENT/NN_name/NN_name.ipynb what students hand in (copied by the teacher)
    COURSE/autograded/..., COURSE/feedback/...     ``nbgrader autograde`` / ``generate_feedback``

Usage:
    python tools/grading.py release COURSE book/NN_name.md [...]   source + nbgrader release
    python tools/grading.py student BOOK_DIR COURSE                  every chapter (``make student``)
Then, inside COURSE: ``nbgrader autograde NN_name``, ``nbgrader generate_feedback NN_name``,
``nbgrader export`` (writes grades.csv).
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
from nbformat import NotebookNode

sys.path.insert(0, str(Path(__file__).resolve().parent))
import colab_notebooks  # a sibling tool: the notebooks Colab opens

POINTS_PER_EXERCISE = 1
CELL_TIMEOUT_SECONDS = 900  # the longest training cell of a chapter on 2 CPU cores, with margin
SCHEMA_VERSION = 3  # nbgrader's cell-metadata schema

CONFIG = f"""\
# nbgrader configuration of this course directory (written by tools/grading.py).
c = get_config()  # noqa: F821
# The release keeps the book's placeholder that precedes each solution region: no extra stub.
c.ClearSolutions.code_stub = {{"python": ""}}
# Chapters train models: allow long cells, and keep grading when a student's cell fails.
c.Execute.timeout = {CELL_TIMEOUT_SECONDS}
c.Execute.allow_errors = True
# A check cell a student deleted (or whose metadata an editor dropped) is put back before grading.
c.OverwriteCells.add_missing_cells = True
"""

_FENCE = r"(?:`{3,}|:{3,})"
_EXERCISE_LABEL = re.compile(rf"^{_FENCE}\{{exercise\}}.*\n(?::[\w-]+:.*\n)*?:label:[ \t]*(\S+)", re.M)


def reader_notebook(md_path: str | Path) -> NotebookNode:
    """The chapter as Colab opens it (``tools/colab_notebooks.py``): MyST turned into CommonMark and
    HTML, solutions as hidden cells, exercise cells tagged answer/check/solution and numbered."""
    return colab_notebooks.build_reader_notebook(Path(md_path))


def _tags(cell: NotebookNode) -> set[str]:
    return set(cell.metadata.get("tags", []))


def _exercise(cell: NotebookNode) -> dict:
    info = cell.metadata.get("genmodels", {})
    if "exercise" not in info:
        raise ValueError(f"an exercise cell has no genmodels exercise metadata: {cell.source[:80]!r}")
    return info


def _answer_part(solution_code: str) -> str:
    """The reference answer without its closing self-check (``result = <check>; print; assert``)."""
    statements = ast.parse(solution_code).body
    lines = solution_code.splitlines()
    for statement in reversed(statements):
        if (
            isinstance(statement, ast.Assign)
            and isinstance(statement.value, ast.Call)
            and [getattr(target, "id", None) for target in statement.targets] == ["result"]
        ):
            return "\n".join(lines[: statement.lineno - 1]).rstrip()
    return solution_code.rstrip()


_HTML_WRAPPER = re.compile(r"^\s*(</?details>|<summary>.*</summary>)\s*$")


def _as_comment(markdown: str) -> str:
    """A solution's explanation as Python comments (without the reader notebook's <details>)."""
    lines = [line for line in markdown.strip().splitlines() if not _HTML_WRAPPER.match(line)]
    return "\n".join(f"# {line}".rstrip() for line in "\n".join(lines).strip().splitlines())


def _without_form_title(code: str) -> str:
    """Code without the ``# @title`` line that makes a solution a Colab form."""
    lines = code.splitlines()
    return "\n".join(lines[1:] if lines and lines[0].startswith("# @title") else lines)


def graded_check_source(check_code: str, points: float) -> str:
    """The check cell as an nbgrader test: the check's message printed, the points earned as the
    cell's value (nbgrader's partial credit). The check call must be the cell's last statement."""
    statements = ast.parse(check_code).body
    last = statements[-1] if statements else None
    call = last.value if isinstance(last, ast.Expr) else None
    if isinstance(call, ast.Call) and getattr(call.func, "id", None) == "print" and len(call.args) == 1:
        call = call.args[0]
    if not isinstance(call, ast.Call):
        raise ValueError(f"a check cell must end with the call of its check, got:\n{check_code}")
    lines = check_code.splitlines()
    before = "\n".join(lines[: last.lineno - 1]).rstrip()
    check_call = ast.get_source_segment(check_code, call)
    body = "\n".join("    " + line for line in f"result = {check_call}".splitlines())
    graded = (
        "import warnings\n\n"
        "with warnings.catch_warnings():  # nbgrader gives no points to a cell that writes to stderr\n"
        '    warnings.simplefilter("ignore")\n'
        f"{body}\n"
        "print(result)\n"
        f"{points:g} if result else 0  # your points for this exercise (nbgrader reads this number)"
    )
    return f"{before}\n\n{graded}" if before else graded


def source_notebook(md_path: str | Path, points: float = POINTS_PER_EXERCISE) -> NotebookNode:
    """The instructor's version of a chapter, in nbgrader's source format.

    Each exercise's answer cell holds the book's placeholder followed by the reference solution
    (between nbgrader's solution delimiters) and its check cell is a locked test worth ``points``;
    the solution cells are dropped. Raises ValueError when an exercise lacks an answer, a check
    or a solution code cell.
    """
    notebook = reader_notebook(md_path)
    solutions: dict[str, list[NotebookNode]] = {}
    for cell in notebook.cells:
        if "solution" in _tags(cell):
            solutions.setdefault(_exercise(cell)["exercise"], []).append(cell)
    kept: list[NotebookNode] = []
    seen: dict[str, set[str]] = {}
    for cell in notebook.cells:
        tags = _tags(cell)
        if "solution" in tags:
            continue
        if cell.cell_type == "code" and tags & {"answer", "check"}:
            label = _exercise(cell)["exercise"]
            role = "answer" if "answer" in tags else "check"
            if role in seen.setdefault(label, set()):
                raise ValueError(f"{md_path}: exercise {label} has more than one {role} cell")
            seen[label].add(role)
            cell.metadata["nbgrader"] = {
                "grade": role == "check",
                "solution": role == "answer",
                "locked": role == "check",
                "grade_id": f"{label}-{role}",
                "schema_version": SCHEMA_VERSION,
            }
            if role == "check":
                cell.metadata["nbgrader"]["points"] = points
                cell.source = graded_check_source(cell.source, points)
            else:
                cell.source = _with_reference_solution(md_path, label, cell.source, solutions.get(label, []))
        kept.append(cell)
    for label, roles in seen.items():
        if roles != {"answer", "check"}:
            raise ValueError(f"{md_path}: exercise {label} needs one answer and one check cell")
    labels = _EXERCISE_LABEL.findall(Path(md_path).read_text(encoding="utf-8"))
    if sorted(seen) != sorted(labels):
        missing = sorted(set(labels) - set(seen)) or "(none found)"
        raise ValueError(
            f"{md_path}: exercises {missing} lack the answer/check cells of CONTRIBUTING.md item 6"
        )
    notebook.cells = kept
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return notebook


def _with_reference_solution(md_path: str | Path, label: str, placeholder: str, cells: list) -> str:
    code = [cell.source for cell in cells if cell.cell_type == "code"]
    if not code:
        raise ValueError(f"{md_path}: exercise {label} has no solution code cell")
    notes = [_as_comment(cell.source) for cell in cells if cell.cell_type == "markdown"]
    reference = [note for note in notes if note] + [
        _answer_part(_without_form_title(source)) for source in code
    ]
    return "\n".join([placeholder.rstrip(), "### BEGIN SOLUTION", *reference, "### END SOLUTION"])


def write_course_config(course: Path) -> None:
    """Write ``nbgrader_config.py`` into the course directory."""
    course.mkdir(parents=True, exist_ok=True)
    (course / "nbgrader_config.py").write_text(CONFIG, encoding="utf-8")


def environment() -> dict[str, str]:
    """This environment with its ``bin`` first on PATH: nbgrader runs ``alembic`` (its database
    migrations) by name, which fails when the venv is not activated."""
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}


def nbgrader(course: Path, *arguments: str) -> None:
    """Run ``nbgrader ARGUMENTS`` inside the course directory (raises on failure)."""
    command = [sys.executable, "-m", "nbgrader", *arguments]
    subprocess.run(command, cwd=course, check=True, env=environment())


def release(course: Path, chapter: Path, points: float = POINTS_PER_EXERCISE) -> Path:
    """Write the chapter's source version into ``course`` and release it with nbgrader.

    Returns the released notebook, ``course/release/NN_name/NN_name.ipynb``.
    """
    write_course_config(course)
    assignment = chapter.stem
    source_dir = course / "source" / assignment
    source_dir.mkdir(parents=True, exist_ok=True)
    nbformat.write(source_notebook(chapter, points), source_dir / f"{assignment}.ipynb")
    nbgrader(course, "generate_assignment", assignment, "--force")
    return course / "release" / assignment / f"{assignment}.ipynb"


def book_chapters(book_dir: Path) -> list[Path]:
    """The chapters of the book with exercises (jupytext notebooks with ``{exercise}`` directives)."""
    chapters = []
    for path in sorted(book_dir.glob("[0-9]*.md")):
        text = path.read_text(encoding="utf-8")
        if text.startswith("---\njupytext:") and _EXERCISE_LABEL.search(text):
            chapters.append(path)
    return chapters


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    one = commands.add_parser("release", help="release the given chapters into COURSE")
    one.add_argument("course", type=Path)
    one.add_argument("chapters", type=Path, nargs="+")
    one.add_argument("--points", type=float, default=POINTS_PER_EXERCISE, help="points per exercise")
    every = commands.add_parser("student", help="release every chapter with exercises into COURSE")
    every.add_argument("book_dir", type=Path)
    every.add_argument("course", type=Path)
    every.add_argument("--points", type=float, default=POINTS_PER_EXERCISE, help="points per exercise")
    arguments = parser.parse_args(argv)
    chapters = arguments.chapters if arguments.command == "release" else book_chapters(arguments.book_dir)
    for chapter in chapters:
        print(release(arguments.course.resolve(), chapter.resolve(), arguments.points))


if __name__ == "__main__":
    main()
