"""The book's sources agree with each other: toc, pairs, setup cells, repository URL."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jupytext
import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text())


def _toc_files(node: object) -> list[str]:
    """Every ``file:`` / ``root:`` entry of the table of contents, depth first."""
    if isinstance(node, dict):
        found = [node[k] for k in ("root", "file") if k in node]
        return found + [f for value in node.values() for f in _toc_files(value)]
    if isinstance(node, list):
        return [f for item in node for f in _toc_files(item)]
    return []


TOC_FILES = _toc_files(TOC)
CHAPTERS = sorted(p for p in (ROOT / "book").glob("*.md") if "jupytext:" in p.read_text()[:300])


def test_toc_lists_only_existing_pages_and_every_page():
    for entry in TOC_FILES:
        assert (ROOT / f"{entry}.md").is_file(), f"_toc.yml lists {entry}, which does not exist"
    pages = {str(p.relative_to(ROOT).with_suffix("")) for p in (ROOT / "book").glob("*.md")}
    assert pages == set(TOC_FILES), f"pages not in the toc: {pages - set(TOC_FILES)}"


def test_there_are_chapters():
    assert CHAPTERS, "no jupytext chapter found in book/"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_has_a_generated_notebook_without_outputs(chapter: Path):
    """book/NN.ipynb is generated from book/NN.md (tests/test_colab_notebooks.py checks it is current)."""
    notebook_path = chapter.with_suffix(".ipynb")
    assert notebook_path.is_file(), f"{chapter.name} has no {notebook_path.name}: run `make sync`"
    assert "ipynb" not in jupytext.read(chapter).metadata.get("jupytext", {}).get("formats", ""), (
        f"{chapter.name}: delete `formats: ipynb,md:myst` from its header (the .ipynb is generated)"
    )
    stored = nbformat.read(notebook_path, as_version=4)
    assert stored.metadata.get("genmodels", {}).get("source") == f"book/{chapter.name}", (
        f"{notebook_path.name} was not made by tools/colab_notebooks.py: run `make sync`"
    )
    for cell in stored.cells:
        if cell.cell_type == "code":
            assert not cell.outputs, f"{notebook_path.name} is committed with outputs"
    assert stored.metadata.get("kernelspec", {}).get("name") == "python3"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_first_code_cell_installs_genmodels_from_the_configured_repository(chapter: Path):
    """The .md keeps the template's setup cell; the notebook's pins the package to a commit."""
    cells = [c for c in jupytext.read(chapter).cells if c.cell_type == "code"]
    setup = cells[0].source
    urls = re.findall(r'REPO_URL = "([^"]+)"', setup)
    assert urls == [CONFIG["repository"]["url"]], (
        f"{chapter.name}: the setup cell must set REPO_URL to _config.yml's repository.url"
    )
    assert 'find_spec("genmodels") is None' in setup, "the install must only run when it is missing"
    assert "pip" in setup and "git+{REPO_URL}" in setup
    notebook = nbformat.read(chapter.with_suffix(".ipynb"), as_version=4)
    generated = next(c.source for c in notebook.cells if c.cell_type == "code")
    assert re.findall(r'REPO_URL = "([^"]+)"', generated) == urls, f"{chapter.stem}.ipynb: run `make sync`"
    assert 'find_spec("genmodels") is None' in generated
    assert re.search(r'^GENMODELS_COMMIT = "[0-9a-f]{40}"', generated, re.M), (
        "the install is pinned to a commit"
    )
    assert "git+{REPO_URL}@{GENMODELS_COMMIT}" in generated and "-q" not in generated


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_has_the_template_sections(chapter: Path):
    text = chapter.read_text()
    assert "**Running time**" in text, "state the running time at the top"
    assert "**You will learn**" in text, "state the learning goals at the top"
    assert text.count("{exercise}") >= 3, "at least three exercises"
    assert text.count("{solution-start}") == text.count("{exercise}"), "one solution per exercise"
    for heading in ("## Summary", "## Exercises", "## References", "{footbibliography}"):
        assert heading in text, f"missing {heading!r}"


def test_launch_buttons_point_at_colab_and_the_repository():
    assert CONFIG["launch_buttons"]["colab_url"] == "https://colab.research.google.com"
    assert CONFIG["repository"]["url"].startswith("https://github.com/")
    assert CONFIG["html"]["use_repository_button"] is True


def test_environment_yml_uses_the_pinned_requirements():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_entries = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-r requirements.txt" in pip_entries, "environment.yml must read requirements.txt"


def test_built_pages_have_a_colab_link_for_each_chapter():
    html_dir = ROOT / "_build" / "html"
    if not html_dir.is_dir():
        pytest.fail("run `make book` first")
    repo = CONFIG["repository"]["url"].removeprefix("https://github.com/")
    for chapter in CHAPTERS:
        page = (html_dir / "book" / f"{chapter.stem}.html").read_text()
        expected = f"https://colab.research.google.com/github/{repo}/blob/main/book/{chapter.stem}.ipynb"
        assert expected in page, f"{chapter.stem}.html has no Colab link to {expected}"


def test_tables_that_cells_display_are_rendered_as_tables():
    """A Markdown table a cell displays must reach the page as a <table>, not as a paragraph of pipes
    (MyST-NB parses displayed Markdown as CommonMark unless told otherwise, and CommonMark has no tables)."""
    html_dir = ROOT / "_build" / "html"
    if not html_dir.is_dir():
        pytest.fail("run `make book` first")
    for chapter in CHAPTERS:
        page = (html_dir / "book" / f"{chapter.stem}.html").read_text()
        outputs = re.findall(r'<div class="cell_output docutils container">(.*?)</div>\s*</div>', page, re.S)
        for output in outputs:
            paragraphs = re.findall(r"<p>(.*?)</p>", output, re.S)
            assert not any(p.lstrip().startswith("|") for p in paragraphs), (
                f"{chapter.stem}.html shows a Markdown table as text: set nb_render_markdown_format: myst"
            )


def test_bibliography_keys_used_exist():
    bib = (ROOT / "book" / "references.bib").read_text()
    keys = set(re.findall(r"@\w+\{([^,]+),", bib))
    for page in (ROOT / "book").glob("*.md"):
        text = page.read_text()
        assert not re.search(r"\{cite[:}]", text), f"{page.name}: use {{footcite:p}}, not {{cite}}"
        assert "{bibliography}" not in text, f"{page.name}: use {{footbibliography}}"
        for group in re.findall(r"\{footcite(?::[a-z]+)?\}`([^`]+)`", text):
            for key in group.split(","):
                assert key.strip() in keys, f"{page.name} cites unknown key {key.strip()!r}"


def test_notebooks_are_valid_json_with_nbformat_4():
    for notebook_path in (ROOT / "book").glob("*.ipynb"):
        assert json.loads(notebook_path.read_text())["nbformat"] == 4


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_figure_cells_show_one_output(chapter: Path):
    """A captioned figure cell whose last line is an expression (an Axes, a Colorbar) shows a text
    output beside the image, and MyST-NB gives both the figure's name: "duplicate target"."""
    import ast

    for cell in jupytext.read(chapter).cells:
        if cell.cell_type != "code" or "figure" not in (cell.metadata.get("mystnb") or {}):
            continue
        body = ast.parse(cell.source).body
        last = body[-1] if body else None
        returns_none = isinstance(last, ast.Expr) and getattr(
            getattr(last.value, "func", None), "attr", ""
        ) in {
            "tight_layout",
            "show",
        }
        assert not isinstance(last, ast.Expr) or returns_none, (
            f"{chapter.name}: the figure cell ending in {cell.source.splitlines()[-1]!r} also shows that "
            "expression's value; assign it (ax = ...) or end with fig.tight_layout()"
        )
