"""Coursework graded by nbgrader: the source and release versions of a chapter, and the whole
cycle offline (release, two submissions, autograde, feedback, export) with the scores asserted."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import grading  # noqa: E402

FIXTURE = ROOT / "tests" / "fixtures" / "grading" / "01_fixture.md"

pytest.importorskip("nbgrader", reason="nbgrader is the grading tool (requirements.txt)")


def _cells(notebook: nbformat.NotebookNode, tag: str) -> list[nbformat.NotebookNode]:
    return [cell for cell in notebook.cells if tag in cell.metadata.get("tags", [])]


def test_source_version_holds_reference_answers_and_graded_checks():
    source = grading.source_notebook(FIXTURE, points=2)
    answers, checks = _cells(source, "answer"), _cells(source, "check")
    assert len(answers) == len(checks) == 2 and not _cells(source, "solution")
    assert "sample_mean = (1 + 2 + 3 + 6) / 4" in answers[0].source
    assert answers[1].source.startswith("def softplus(u):\n    raise NotImplementedError")
    assert "return np.logaddexp(0.0, u)" in answers[1].source
    assert all("### BEGIN SOLUTION" in cell.source and "result =" not in cell.source for cell in answers)
    assert [cell.metadata.nbgrader.points for cell in checks] == [2, 2]
    assert all(cell.metadata.nbgrader.locked for cell in checks)
    assert checks[0].source.rstrip().splitlines()[-1].startswith("2 if result else 0")


@pytest.mark.parametrize("chapter", grading.book_chapters(ROOT / "book"), ids=lambda path: path.stem)
def test_every_book_chapter_has_a_source_version(chapter: Path):
    """``make student`` can release every chapter: each exercise has its answer, its graded check
    and a reference answer, and no solution cell is left in the notebook."""
    source = grading.source_notebook(chapter)
    answers, checks = _cells(source, "answer"), _cells(source, "check")
    labels = grading._EXERCISE_LABEL.findall(chapter.read_text(encoding="utf-8"))
    assert len(answers) == len(checks) == len(labels) >= 3
    assert not _cells(source, "solution")
    assert all(cell.source.count("### BEGIN SOLUTION") == 1 for cell in answers)
    assert all(cell.metadata.nbgrader.points == grading.POINTS_PER_EXERCISE for cell in checks)


def test_a_check_cell_must_end_with_its_check():
    with pytest.raises(ValueError, match="must end with the call of its check"):
        grading.graded_check_source("result = check_value('x', x, 1)", points=1)


def test_an_exercise_without_answer_and_check_cells_is_refused(tmp_path: Path):
    chapter = tmp_path / "untagged.md"
    (tmp_path / "references.bib").touch()
    chapter.write_text(FIXTURE.read_text().replace(":tags: [answer]\n", "").replace(":tags: [check]\n", ""))
    with pytest.raises(ValueError, match="lack the answer/check cells"):
        grading.source_notebook(chapter)


def _fill(release: Path, answers: dict[str, str], out: Path, delete: str = "") -> None:
    """A student's submission: the released notebook with the answer cells replaced (and the cell
    whose grade id is ``delete`` deleted)."""
    notebook = nbformat.read(release, as_version=4)
    for cell in _cells(notebook, "answer"):
        cell.source = answers[cell.metadata.nbgrader.grade_id]
    notebook.cells = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") != delete]
    out.parent.mkdir(parents=True)
    nbformat.write(notebook, out)


def _run(course: Path, *command: str) -> None:
    done = subprocess.run(
        [sys.executable, *command],
        cwd=course,
        capture_output=True,
        text=True,
        timeout=600,
        env=grading.environment(),
    )
    assert done.returncode == 0, f"{command} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"


@pytest.mark.slow
def test_release_submit_autograde_feedback_export(tmp_path: Path):
    course = tmp_path / "course"
    name = FIXTURE.stem
    # The commands of the teacher's page (book/95_teachers.md), run offline.
    # `make student` on a one-chapter book: every chapter of the folder released into the course.
    _run(
        ROOT, str(ROOT / "tools" / "grading.py"), "student", str(FIXTURE.parent), str(course), "--points", "2"
    )
    release = course / "release" / name / f"{name}.ipynb"
    released = nbformat.read(release, as_version=4)
    text = "\n".join(cell.source for cell in released.cells)
    assert "```{" not in text and "{solution" not in text  # Colab-clean: no MyST left
    setup = next(cell for cell in released.cells if cell.cell_type == "code")
    assert "GENMODELS_COMMIT" in setup.source  # the Colab setup cell pins the package
    assert "BEGIN SOLUTION" not in text and "logaddexp(0.0" not in text and "1 + 2 + 3 + 6" not in text
    assert [cell.source.strip() for cell in _cells(released, "answer")] == [
        "sample_mean = ...",
        "def softplus(u):\n    raise NotImplementedError  # your code here",
    ]

    submitted = course / "submitted"
    _fill(  # the reference answers
        release,
        {
            "fixture-ex-mean-answer": "sample_mean = (1 + 2 + 3 + 6) / 4",
            "fixture-ex-softplus-answer": "def softplus(u):\n    return np.logaddexp(0.0, u)",
        },
        submitted / "ada" / name / f"{name}.ipynb",
        delete="fixture-ex-softplus-check",  # nbgrader puts the deleted check back before grading
    )
    _fill(  # a wrong mean; a right softplus whose np.exp overflows with a RuntimeWarning
        release,
        {
            "fixture-ex-mean-answer": "sample_mean = (1 + 2 + 3 + 6) / 3",
            "fixture-ex-softplus-answer": "def softplus(u):\n"
            "    return np.where(u > 30, u, np.log1p(np.exp(u)))",
        },
        submitted / "bob" / name / f"{name}.ipynb",
    )
    (submitted / "cyd" / name).mkdir(parents=True)  # cyd hands in the release untouched
    shutil.copy(release, submitted / "cyd" / name / f"{name}.ipynb")

    _run(course, "-m", "nbgrader", "autograde", name, "--create")
    _run(course, "-m", "nbgrader", "generate_feedback", name)
    _run(course, "-m", "nbgrader", "export")
    with open(course / "grades.csv", newline="") as grades:
        scores = {
            row["student_id"]: (float(row["score"]), float(row["max_score"]))
            for row in csv.DictReader(grades)
        }
    assert scores == {"ada": (4.0, 4.0), "bob": (2.0, 4.0), "cyd": (0.0, 4.0)}

    graded = nbformat.read(course / "autograded" / "bob" / name / f"{name}.ipynb", as_version=4)
    check_outputs = [output for cell in _cells(graded, "check") for output in cell.outputs]
    assert not [output for output in check_outputs if output.output_type == "error"]
    feedback = (course / "feedback" / "bob" / name / f"{name}.html").read_text(encoding="utf-8")
    assert "❌ sample mean: got 4, which is not close enough to the expected value" in feedback
    assert "Hint: add the numbers and divide by how many there are." in feedback
    assert "most recent call last" not in feedback
    untouched = (course / "feedback" / "cyd" / name / f"{name}.html").read_text(encoding="utf-8")
    assert "not answered yet" in untouched and "most recent call last" not in untouched


def _reference(source_answer: str) -> str:
    """The reference answer inside a source answer cell (between nbgrader's delimiters)."""
    return source_answer.split("### BEGIN SOLUTION\n")[1].split("### END SOLUTION")[0]


@pytest.mark.slow
def test_a_book_chapter_grades_full_and_partial(tmp_path: Path):
    """The fastest chapter through the same cycle: the reference answers earn every point; leaving
    the first exercise unanswered costs exactly its point, with the check's message as feedback."""
    chapter = ROOT / "book" / "01_background.md"
    course, name = tmp_path / "course", chapter.stem
    _run(ROOT, str(ROOT / "tools" / "grading.py"), "release", str(course), str(chapter))
    release = course / "release" / name / f"{name}.ipynb"
    source = nbformat.read(course / "source" / name / f"{name}.ipynb", as_version=4)
    references = {
        cell.metadata.nbgrader.grade_id: _reference(cell.source) for cell in _cells(source, "answer")
    }
    first = next(iter(references))
    placeholder = _cells(nbformat.read(release, as_version=4), "answer")[0].source
    submitted = course / "submitted"
    _fill(release, references, submitted / "ada" / name / f"{name}.ipynb")
    _fill(release, {**references, first: placeholder}, submitted / "bob" / name / f"{name}.ipynb")
    _run(course, "-m", "nbgrader", "autograde", name, "--create")
    _run(course, "-m", "nbgrader", "generate_feedback", name)
    _run(course, "-m", "nbgrader", "export")
    with open(course / "grades.csv", newline="") as grades:
        scores = {row["student_id"]: float(row["score"]) for row in csv.DictReader(grades)}
    total = len(references) * grading.POINTS_PER_EXERCISE
    assert scores == {"ada": total, "bob": total - grading.POINTS_PER_EXERCISE}
    feedback = (course / "feedback" / "bob" / name / f"{name}.html").read_text(encoding="utf-8")
    assert "❌" in feedback and "not answered yet" in feedback and "most recent call last" not in feedback
