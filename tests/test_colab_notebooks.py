"""The notebooks Colab opens are generated from the chapters and read as a book there.

book/NN_name.ipynb is built from book/NN_name.md by tools/colab_notebooks.py (``make sync``).
These tests check the generated notebooks (no MyST left, same code, complete reference lists,
up to date, pinned to the current package) and the converter itself on small documents.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import jupytext
import nbformat
import pytest
from markdown_it import MarkdownIt

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import colab_notebooks as cn  # noqa: E402

CHAPTERS = sorted(p for p in (ROOT / "book").glob("*.md") if "jupytext:" in p.read_text()[:400])
COMMONMARK = MarkdownIt("commonmark")
SOLUTION_TITLE = re.compile(r"^# @title Solution to Exercise \d+\b.*\n")


def _pin(notebook: nbformat.NotebookNode) -> str | None:
    """The commit the notebook's setup cell (its first code cell) installs."""
    return cn.pinned_commit(next(c.source for c in notebook.cells if c.cell_type == "code"))


def _stored(chapter: Path) -> nbformat.NotebookNode:
    notebook_path = chapter.with_suffix(".ipynb")
    assert notebook_path.is_file(), f"{chapter.name} has no {notebook_path.name}: run `make sync`"
    return nbformat.read(notebook_path, as_version=4)


def myst_remnants(markdown: str) -> list[str]:
    """MyST-only syntax left in a markdown cell, found in its CommonMark rendering."""
    html = COMMONMARK.render(markdown)
    found = []
    if 'class="language-{' in html:
        found.append("a fenced block whose info string starts with { (a directive)")
    found += [f"role {m}" for m in re.findall(r"\{[A-Za-z][\w:.-]*\}<code>", html)]
    found += [f"target {m}" for m in re.findall(r"(?m)(?:^|<p>)\([\w.:-]+\)=\s*(?:$|</p>)", html)]
    found += ["::: fence" for _ in re.findall(r"(?m)(?:^|<p>):::", html)]
    found += ["labelled $$ block" for _ in re.findall(r"\$\$ *\([\w.:-]+\)", html)]
    found += ["+++ marker" for _ in re.findall(r"(?m)(?:^|<p>)\+\+\+", html)]
    return found


def test_remnant_finder_finds_each_kind_of_myst_syntax():
    assert myst_remnants("```{admonition} T\n:class: tip\nx\n```")
    assert myst_remnants("see {ref}`label` here")
    assert myst_remnants("(ch-x)=\n# Title")
    assert myst_remnants(":::{note}\nx\n:::")
    assert myst_remnants("$$\nx\n$$ (eq-x)")
    assert myst_remnants("text\n\n+++\n\nmore")
    assert not myst_remnants(
        "# Title\n\n`{ref}` in code, $x^{2}$ and (parentheses)= nothing.\n\n```python\nx = {}\n```"
    )


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_markdown_cells_have_no_myst_syntax(chapter: Path):
    for number, cell in enumerate(_stored(chapter).cells):
        if cell.cell_type == "markdown":
            remnants = myst_remnants(cell.source)
            assert not remnants, f"{chapter.stem}.ipynb cell {number} shows raw MyST in Colab: {remnants}"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_code_cells_equal_the_sources_code_cells(chapter: Path):
    source = [c.source for c in jupytext.read(chapter).cells if c.cell_type == "code"]
    stored = [c for c in _stored(chapter).cells if c.cell_type == "code"]
    assert len(stored) == len(source), f"{chapter.stem}: code cells added or lost: run `make sync`"
    assert cn.pinned_commit(stored[0].source), "the first code cell must be the generated, pinned setup cell"
    assert stored[0].metadata["cellView"] == "form", "the setup code folds under its title in Colab"
    for cell, original in zip(stored[1:], source[1:], strict=True):
        code = cell.source
        if "solution" in cell.metadata.get("tags", []):
            assert SOLUTION_TITLE.match(code), "a solution cell starts with its Colab form title"
            code = SOLUTION_TITLE.sub("", code, count=1)
        assert code == original, f"{chapter.stem}: a code cell differs from the .md: run `make sync`"
        assert not cell.outputs and cell.execution_count is None, "committed with outputs"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_every_cited_work_is_in_the_notebooks_reference_list(chapter: Path):
    bib = cn.bibliography(ROOT / "book" / "references.bib")
    keys = {
        k.strip()
        for group in re.findall(r"\{footcite(?::[a-z]+)?\}`([^`]+)`", chapter.read_text())
        for k in group.split(",")
    }
    cells = _stored(chapter).cells
    references = next((c.source for c in reversed(cells) if c.source.startswith("## References")), "")
    assert references or not keys, f"{chapter.stem}.ipynb has no reference list"
    for key in keys:
        names, year = cn.author_year(bib.entries[key])
        title = cn._plain(bib.entries[key].fields["title"])
        assert f"**{names} ({year})**" in references, f"{key} is cited but not listed"
        unescaped = re.sub(r"\\(.)", r"\1", references)  # the list is markdown: \( stands for (
        assert title.lower()[:40] in unescaped.lower(), f"{key}: its title is missing from the list"
    assert references.count("\n- **") == len(keys), "works listed that are not cited"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_generated_notebook_is_up_to_date_with_its_chapter(chapter: Path):
    stored = _stored(chapter)
    fresh = cn.build_reader_notebook(chapter, commit=_pin(stored))

    def cells(notebook):
        return [(c.cell_type, c.source, dict(c.metadata)) for c in notebook.cells]

    assert cells(fresh) == cells(stored), (
        f"{chapter.stem}.ipynb is older than {chapter.name}: run `make sync`"
    )
    assert stored.metadata == fresh.metadata


def _git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True)


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_setup_cell_pins_the_current_package(chapter: Path):
    commit = _pin(_stored(chapter))
    assert commit, f"{chapter.stem}.ipynb: the setup cell pins no commit: run `make sync`"
    if _git("cat-file", "-e", f"{commit}^{{commit}}").returncode != 0:
        shallow = _git("rev-parse", "--is-shallow-repository").stdout.strip() == "true"
        if shallow:  # .ci/run unshallows when it can; a clone without history cannot check the pin
            pytest.skip(f"shallow clone without {commit[:12]}: run `git fetch --unshallow` to check the pin")
        pytest.fail(f"{chapter.stem}.ipynb pins {commit}, which is not a commit of this repository")
    diff = _git("diff", "--stat", commit, "HEAD", "--", "src", "pyproject.toml").stdout
    assert not diff, (
        f"{chapter.stem}.ipynb installs genmodels at {commit[:12]}, but src/ or pyproject.toml changed"
        f" since:\n{diff}\nCommit the package, run `make sync` and commit the regenerated book/*.ipynb."
    )


# ---- the setup cell, run outside a notebook with a fake pip ------------------------------------

FAKE_PIP = """#!/bin/sh
# Stands in for `python -m pip install SPEC`: records SPEC, "installs" genmodels by copying it.
echo "$4" > "$FAKE_PIP_LOG"
if [ -n "$FAKE_PIP_FAIL" ]; then echo "ERROR: No matching distribution (fake)" >&2; exit 1; fi
mkdir -p "$FAKE_PIP_TARGET"
touch -r "$FAKE_PIP_TARGET" "$FAKE_PIP_LOG.stamp"
cp -r "$GENMODELS_SRC" "$FAKE_PIP_TARGET/genmodels"
# Keep the folder's mtime, as a file system with coarse timestamps would: only
# importlib.invalidate_caches() then makes Python look at the folder again.
touch -r "$FAKE_PIP_LOG.stamp" "$FAKE_PIP_TARGET"
echo "Successfully installed genmodels-0.1.0"
"""

DRIVER = """
import os, sys
# Hide this environment's genmodels (an editable install of the checkout): Colab has none.
sys.path[:] = [p for p in sys.path if not os.path.isdir(os.path.join(p or ".", "genmodels"))]
sys.path.insert(0, {site_dir!r})  # an (empty) site-packages folder that is on sys.path from the start
sys.executable = {fake!r}
import importlib.util
assert importlib.util.find_spec("genmodels") is None
exec(compile({setup!r}, "setup-cell", "exec"))
"""


def _run_setup_cell(tmp_path: Path, user_site: bool = False, fail: bool = False):
    commit = "0123456789abcdef0123456789abcdef01234567"
    fake = tmp_path / "python"
    fake.write_text(FAKE_PIP)
    fake.chmod(0o755)
    site_dir = tmp_path / "site-packages"
    site_dir.mkdir()
    env = {**os.environ, "PYTHONUSERBASE": str(tmp_path / "userbase"), "FAKE_PIP_LOG": str(tmp_path / "log")}
    env["GENMODELS_SRC"] = str(ROOT / "src" / "genmodels")
    if user_site:
        user_site_dir = subprocess.run(
            [sys.executable, "-c", "import site; print(site.getusersitepackages())"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        env["FAKE_PIP_TARGET"] = user_site_dir
    else:
        env["FAKE_PIP_TARGET"] = str(site_dir)
    if fail:
        env["FAKE_PIP_FAIL"] = "1"
    driver = DRIVER.format(site_dir=str(site_dir), fake=str(fake), setup=cn.setup_cell_source(commit))
    result = subprocess.run(
        [sys.executable, "-c", driver], env=env, capture_output=True, text=True, timeout=120
    )
    spec = (tmp_path / "log").read_text().strip() if (tmp_path / "log").exists() else None
    return result, spec, commit, env["FAKE_PIP_TARGET"]


@pytest.mark.parametrize("user_site", [False, True], ids=["site-packages", "user-site"])
def test_setup_cell_installs_the_pinned_commit_and_imports_it_without_restart(
    tmp_path: Path, user_site: bool
):
    result, spec, commit, target = _run_setup_cell(tmp_path, user_site=user_site)
    assert result.returncode == 0, result.stderr
    assert spec == f"genmodels @ git+{cn.REPO_URL}@{commit}"
    assert "Successfully installed genmodels-0.1.0" in result.stdout
    assert f"genmodels 0.1.0 from {target}/genmodels" in result.stdout


def test_setup_cell_shows_pips_error_when_the_install_fails(tmp_path: Path):
    result, _, _, _ = _run_setup_cell(tmp_path, fail=True)
    assert result.returncode != 0
    assert "ERROR: No matching distribution (fake)" in result.stdout
    assert "RuntimeError: pip could not install genmodels" in result.stderr


def test_setup_cell_is_ruff_clean(tmp_path: Path):
    cell = tmp_path / "setup.py"
    cell.write_text(cn.setup_cell_source("0" * 40) + "\n")
    ruff = Path(sys.executable).with_name("ruff")  # the ruff of the environment running the tests
    for command in (["check", "--ignore", "E402"], ["format", "--check"]):
        result = subprocess.run([str(ruff), *command, str(cell)], capture_output=True, text=True, cwd=ROOT)
        assert result.returncode == 0, result.stdout + result.stderr


def test_solution_cells_run_apart_from_the_readers_answer_in_a_kernel():
    """In IPython, the setup cell makes solution cells run in a copy of the notebook's variables."""
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(kernel_name="python3")
    outputs: list[str] = []

    def run(code: str) -> None:
        reply = client.execute_interactive(
            code, timeout=60, output_hook=lambda m: outputs.append(m["content"].get("text", ""))
        )
        assert reply["content"]["status"] == "ok", reply["content"]

    try:
        run(cn.setup_cell_source("0" * 40))
        run("answer = 'mine'")
        run(cn.SOLUTION_TITLE.format(number=1) + "\nanswer = 'solution'\nprint('solution sees', answer)")
        run("print('reader keeps', answer)")
        run(cn.setup_cell_source("0" * 40))  # running the setup cell again registers it once
        run(
            "print(sum(t.__name__ == 'run_solutions_apart' for t in"
            " get_ipython().input_transformers_cleanup if hasattr(t, '__name__')))"
        )
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    text = "".join(outputs)
    assert "solution sees solution" in text and "reader keeps mine" in text
    assert text.rstrip().endswith("1")


# ---- the converter on small documents ----------------------------------------------------------

HEADER = """---
jupytext:
  text_representation: {extension: .md, format_name: myst}
kernelspec: {display_name: Python 3, language: python, name: python3}
---
"""
SETUP = (
    '```{code-cell} ipython3\nREPO_URL = "x"\nif importlib.util.find_spec("genmodels") is None:\n'
    "    pass\n```\n"
)


def _convert(
    tmp_path: Path, body: str, name: str = "01_test.md", header: str = HEADER
) -> nbformat.NotebookNode:
    book = tmp_path / "book"
    book.mkdir(exist_ok=True)
    (book / "references.bib").write_text(
        "@article{doe2020x, author = {Doe, Jane and Roe, Rick and Poe, Pat}, title = {A study},"
        " year = {2020}, journal = {J}}\n"
        "@book{smith1999y, author = {Smith, Ann}, title = {A book}, year = {1999}, publisher = {P}}\n"
    )
    path = book / name
    path.write_text(header + "(ch-test)=\n# Test chapter\n\n" + SETUP + textwrap.dedent(body))
    cn.book_index.cache_clear()
    cn.bibliography.cache_clear()
    return cn.build_reader_notebook(path, commit="0" * 40)


def _markdown(notebook: nbformat.NotebookNode) -> str:
    return "\n\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")


def test_a_chapter_paired_with_its_ipynb_is_refused(tmp_path: Path):
    """Paired, `jupytext --sync` would overwrite the .md source with the generated notebook."""
    paired = HEADER.replace("jupytext:\n", "jupytext:\n  formats: ipynb,md:myst\n")
    with pytest.raises(cn.ConversionError, match=r"pairs this chapter with its \.ipynb"):
        _convert(tmp_path, "\nText.\n", header=paired)


def test_unknown_directive_fails_loudly_with_file_line_and_name(tmp_path: Path):
    with pytest.raises(cn.ConversionError, match=r"book/01_test\.md:17: unknown directive \{frobnicate\}"):
        _convert(tmp_path, "\nSome text.\n\n```{frobnicate} arg\nbody\n```\n")


def test_unknown_directive_inside_an_admonition_fails_loudly(tmp_path: Path):
    with pytest.raises(cn.ConversionError, match=r"unknown directive \{margin\}"):
        _convert(tmp_path, "\n````{admonition} Title\n:class: note\n```{margin}\nx\n```\n````\n")


def test_unknown_role_fails_loudly_with_file_line_and_name(tmp_path: Path):
    with pytest.raises(cn.ConversionError, match=r"book/01_test\.md:16: unknown role \{kbd\}"):
        _convert(tmp_path, "\nPress\n{kbd}`Ctrl` now.\n")


def test_unknown_citation_key_and_label_fail_loudly(tmp_path: Path):
    with pytest.raises(cn.ConversionError, match=r"'nobody2000' is not in book/references\.bib"):
        _convert(tmp_path, "\nSee {footcite:p}`nobody2000`.\n\n```{footbibliography}\n```\n")
    with pytest.raises(cn.ConversionError, match="'no-such-label' is not defined"):
        _convert(tmp_path, "\nSee {ref}`no-such-label`.\n")


def test_roles_in_code_spans_and_math_are_left_alone(tmp_path: Path):
    text = _markdown(_convert(tmp_path, "\nWrite `{ref}`x`` and $\\{a\\}$ verbatim.\n"))
    assert "`{ref}`x``" in text and "$\\{a\\}$" in text


def test_admonitions_become_titled_html_boxes_and_dropdowns_details(tmp_path: Path):
    text = _markdown(
        _convert(
            tmp_path,
            """
        ```{admonition} Keeping checkpoints in Colab
        :class: note
        Mount **Drive**.
        ```

        ````{admonition} Errata — article §1, topic
        :class: warning
        Wrong.
        ````

        :::{admonition} Proof
        :class: dropdown
        Because.
        :::
        """,
        )
    )
    assert "**ℹ️ Keeping checkpoints in Colab**" in text and "Mount **Drive**." in text
    assert "**⚠️ Errata — article §1, topic**" in text and "#ff9800" in text
    assert "<details>\n<summary><b>ℹ️ Proof</b></summary>\n\nBecause.\n\n</details>" in text
    assert text.count("<div") == text.count("</div>") == 2


def test_citations_become_author_year_and_the_reference_list_is_written(tmp_path: Path):
    text = _markdown(
        _convert(
            tmp_path,
            """
        As shown {footcite:p}`doe2020x,smith1999y`; {footcite:t}`smith1999y` disagrees.

        ## References

        ```{footbibliography}
        ```
        """,
        )
    )
    assert "As shown (Doe et al., 2020; Smith, 1999); Smith (1999) disagrees." in text
    assert "- **Doe et al. (2020)**. Jane Doe, Rick Roe, and Pat Poe. A study." in text
    assert "- **Smith (1999)**. Ann Smith. *A book*." in text


def test_labelled_equations_are_numbered_and_references_become_text(tmp_path: Path):
    text = _markdown(
        _convert(
            tmp_path,
            """
        (sec-a)=
        ## Section A

        $$
        a = b
        $$ (eq-a)

        By {eq}`eq-a`, see {ref}`sec-a`, {ref}`this part <sec-a>` and {numref}`fig-x`.

        ```{code-cell} ipython3
        ---
        mystnb:
          figure:
            caption: A figure of {math}`x`.
            name: fig-x
        ---
        print(1)
        ```
        """,
        )
    )
    assert "$$\na = b\n\\tag{1}\n$$" in text and "(sec-a)=" not in text
    assert "By (1), see “Section A”, this part and Figure 1." in text
    assert "**Figure 1.** A figure of $x$." in text


def test_references_to_other_chapters_link_to_their_colab_notebooks(tmp_path: Path):
    _convert(tmp_path, "\n(sec-b)=\n## Part B\n", name="02_other.md")
    text = _markdown(_convert(tmp_path, "\nSee {ref}`sec-b` and {doc}`02_other`.\n"))
    repo = cn.REPO_URL.removeprefix("https://github.com/")
    link = f"https://colab.research.google.com/github/{repo}/blob/{cn.BRANCH}/book/02_other.ipynb"
    assert f"[“Part B” of Test chapter]({link})" in text and f"[Test chapter]({link})" in text


def test_glue_roles_are_named_with_a_note_that_a_cell_prints_them(tmp_path: Path):
    text = _markdown(_convert(tmp_path, "\nThe loss is {glue:text}`final_loss:.3f` nats.\n"))
    assert "The loss is `final_loss` nats." in text
    assert "(`final_loss`) are printed as `name = value` by the code cells that compute them" in text


def test_exercises_are_numbered_and_solutions_hidden_with_grading_metadata(tmp_path: Path):
    notebook = _convert(
        tmp_path,
        """
        ## Exercises

        ```{exercise} First
        :label: ex-one
        Do it.
        ```

        ```{code-cell} ipython3
        :tags: [answer]
        answer = ...
        ```

        ```{code-cell} ipython3
        :tags: [check]
        print(answer)
        ```

        ````{solution-start} ex-one
        :class: dropdown
        ````
        The method.

        ```{code-cell} ipython3
        answer = 42
        ```

        ````{solution-end}
        ````

        ## Summary
        """,
    )
    cells = notebook.cells
    exercise = next(c for c in cells if c.source.startswith("### Exercise 1 — First"))
    answer, check = (next(c for c in cells if t in c.metadata.get("tags", [])) for t in ("answer", "check"))
    solution_md, solution_code = (c for c in cells if "solution" in c.metadata.get("tags", []))
    expected = {"exercise": "ex-one", "number": 1}
    for cell in (exercise, answer, check, solution_md, solution_code):
        assert cell.metadata["genmodels"] == expected
    assert solution_md.source.startswith("<details>\n<summary><b>Solution to Exercise 1</b>")
    assert "The method." in solution_md.source and solution_md.source.endswith("</details>")
    assert solution_code.source == cn.SOLUTION_TITLE.format(number=1) + "\nanswer = 42"
    assert solution_code.metadata["cellView"] == "form"
    assert solution_code.metadata["jupyter"] == {"source_hidden": True}
    assert cells[-1].source == "## Summary" and "solution" not in str(cells[-1].metadata)


def test_only_named_figures_are_numbered_as_sphinx_numbers_them(tmp_path: Path):
    cells = _convert(
        tmp_path,
        """
        ```{code-cell} ipython3
        ---
        mystnb:
          figure:
            caption: Unnamed.
        ---
        print(1)
        ```

        ```{code-cell} ipython3
        ---
        mystnb:
          figure:
            caption: Named.
            name: fig-named
        ---
        print(2)
        ```

        See {numref}`fig-named`.
        """,
    ).cells
    sources = [c.source for c in cells if c.cell_type == "markdown"]
    assert "**Figure.** Unnamed." in sources and "**Figure 1.** Named." in sources
    assert "See Figure 1." in sources
    assert not any("mystnb" in c.metadata for c in cells)


def test_colon_fenced_solutions_and_links_to_pages_that_are_not_notebooks(tmp_path: Path):
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "90_errata.md").write_text("# Errata appendix\n")
    cells = _convert(
        tmp_path,
        """
        See {doc}`90_errata`.

        :::{exercise}
        :label: ex-c
        Q.
        :::

        :::{solution-start} ex-c
        :::
        Why.
        ```{code-cell} ipython3
        x = 1
        ```
        :::{solution-end}
        :::
        """,
    ).cells
    sources = [c.source for c in cells]
    assert f"See [Errata appendix]({cn.REPO_URL}/blob/{cn.BRANCH}/book/90_errata.md)." in sources
    assert "### Exercise 1\n\nQ." in sources
    assert any(s.startswith("<details>") and "Why." in s for s in sources)
    assert cn.SOLUTION_TITLE.format(number=1) + "\nx = 1" in sources


def test_a_solution_never_closed_fails_loudly(tmp_path: Path):
    with pytest.raises(cn.ConversionError, match="never closed"):
        _convert(
            tmp_path, "\n```{exercise}\n:label: ex-d\nQ.\n```\n\n````{solution-start} ex-d\n````\nWhy.\n"
        )
