"""Generate the notebooks Colab opens (book/NN_name.ipynb) from the MyST chapters (book/NN_name.md).

The ``.md`` chapters are the source: jupytext MyST notebooks that Jupyter Book renders. Colab
and plain Jupyter render only CommonMark, HTML and ``$...$`` math, so this converter rewrites
every MyST construct of a chapter into what they render, keeping the code cells as they are:

- admonitions become HTML boxes with their title (``dropdown`` ones a collapsed ``<details>``);
- ``{exercise}`` becomes a heading "Exercise N — title"; the gated solution's prose goes into a
  collapsed ``<details>``, its code cell becomes a Colab form titled "Solution to Exercise N"
  (``cellView: form`` plus ``jupyter.source_hidden``), and the setup cell makes such cells run in
  a copy of the notebook's variables, so *Run all* checks the solution without replacing the
  reader's answer;
- ``{footcite:p}`` / ``{footcite:t}`` become author–year text from book/references.bib and
  ``{footbibliography}`` the chapter's reference list;
- ``{ref}``, ``{numref}``, ``{eq}`` and ``{doc}`` become text (a link to the other chapter's
  notebook in Colab when the target is in another chapter); labelled equations get ``\\tag{N}``;
- ``{glue:text}`name``` becomes ``name`` in code font plus a note naming the cell that computes
  it (``glue("name", value)``): a glued value exists only after execution, and Colab has no glue;
- ``(label)=`` targets, ``%`` comments and ``+++`` markers disappear, a figure cell's MyST-NB
  caption becomes a "Figure N." line under the cell.

Any other directive or role raises :class:`ConversionError` naming the file and line, so a
chapter cannot ship raw MyST. The first code cell (the template's setup cell) is replaced by one
that installs ``genmodels`` pinned to the last commit that changed ``src/`` or ``pyproject.toml``
(a Colab form: its code folds under its title, what it prints stays visible).
Exercise cells carry metadata for grading tools: tags ``answer`` / ``check`` / ``solution`` and
``{"genmodels": {"exercise": label, "number": N}}``.

Usage: python tools/colab_notebooks.py book/*.md   (writes book/NN_name.ipynb; other pages are skipped)
"""

from __future__ import annotations

import codecs
import copy
import functools
import hashlib
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import jupytext
import latexcodec  # noqa: F401  (registers the "ulatex" codec used to decode names in the .bib)
import nbformat
import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.amsmath import amsmath_plugin
from mdit_py_plugins.colon_fence import colon_fence_plugin
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.myst_blocks import myst_block_plugin
from pybtex.database import BibliographyData, Entry, parse_file
from pybtex.plugin import find_plugin

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
REPO_URL: str = CONFIG["repository"]["url"]
BRANCH: str = CONFIG["repository"].get("branch", "main")
COLAB_URL = "https://colab.research.google.com/github/{repo}/blob/{branch}/book/{stem}.ipynb"
SOLUTION_TITLE = "# @title Solution to Exercise {number} (runs apart: your answer is kept)"

# The MyST block syntax the book uses, parsed the way MyST-Parser parses it.
MARKDOWN = (
    MarkdownIt("commonmark")
    .enable("table")
    .use(colon_fence_plugin)
    .use(dollarmath_plugin, allow_labels=True, allow_space=True, allow_digits=True, double_inline=True)
    .use(amsmath_plugin)
    .use(myst_block_plugin)
)
ROLE = re.compile(r"\{([A-Za-z][\w:.+-]*)\}(`+)(.*?)\2", re.S)
DIRECTIVE_INFO = re.compile(r"^\{([^}]+)\}\s*(.*)$", re.S)
EXPLICIT_TARGET = re.compile(r"^(.*?)\s*<([^<>]+)>$", re.S)

# icon, border colour, label shown when the directive has no title of its own
ADMONITION_STYLES = {
    "note": ("ℹ️", "#2196f3", "Note"),
    "seealso": ("ℹ️", "#2196f3", "See also"),
    "tip": ("💡", "#26a69a", "Tip"),
    "hint": ("💡", "#26a69a", "Hint"),
    "important": ("❗", "#7e57c2", "Important"),
    "attention": ("⚠️", "#ff9800", "Attention"),
    "caution": ("⚠️", "#ff9800", "Caution"),
    "warning": ("⚠️", "#ff9800", "Warning"),
    "danger": ("⛔", "#e53935", "Danger"),
    "error": ("⛔", "#e53935", "Error"),
}
ADMONITION_OPTIONS = {"class", "name"}
GLUE_ROLES = {"glue", "glue:", "glue:text", "glue:any", "glue:md"}
GLUE_DIRECTIVES = {"glue", "glue:", "glue:any", "glue:figure", "glue:math", "glue:md"}


class ConversionError(ValueError):
    """A chapter uses MyST syntax the converter does not know (or uses it wrongly)."""

    def __init__(self, path: Path | str, line: int | None, message: str):
        where = f"{path}:{line}" if line else f"{path}"
        super().__init__(f"{where}: {message}")


@dataclass
class Target:
    """Something a cross-reference can point at: a page, a section, an exercise, a figure, an equation."""

    stem: str  # the page's file name without .md
    kind: str  # "page", "section", "exercise", "figure", "equation" or "admonition"
    title: str
    number: int | None = None


@dataclass
class Page:
    """A page of the book: its title, whether it is a notebook chapter, its labels."""

    stem: str
    title: str
    is_notebook: bool
    labels: dict[str, Target] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# Directive options and the index of labels over the whole book
# --------------------------------------------------------------------------------------------


def split_directive(content: str) -> tuple[dict[str, object], str, int]:
    """Split a directive's content into its options and its body.

    Options are either ``:key: value`` lines or a YAML block between ``---`` lines.
    Returns (options, body, number of lines the options took).
    """
    lines = content.splitlines(keepends=True)
    if lines and lines[0].strip() == "---":
        end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
        if end is None:
            raise ValueError("a YAML options block opened with --- is never closed")
        options = yaml.safe_load("".join(lines[1:end])) or {}
        return options, "".join(lines[end + 1 :]), end + 1
    options: dict[str, object] = {}
    count = 0
    for line in lines:
        match = re.match(r"^:([\w-]+):\s*(.*?)\s*$", line)
        if not match:
            break
        options[match[1]] = match[2]
        count += 1
    return options, "".join(lines[count:]), count


def _is_directive(token: Token) -> bool:
    return token.type in ("fence", "colon_fence") and token.info.strip().startswith("{")


def _directive(token: Token) -> tuple[str, str]:
    """(name, argument) of a directive token."""
    match = DIRECTIVE_INFO.match(token.info.strip())
    return match[1].strip(), match[2].strip()


def _text_of_heading(tokens: list[Token], start: int) -> str:
    """The inline text of the first heading at or after ``start``."""
    for token in tokens[start:]:
        if token.type == "heading_open":
            return tokens[tokens.index(token) + 1].content.strip()
    return ""


def _is_notebook_chapter(text: str) -> bool:
    return "jupytext:" in text[:400]


def _front_matter_free(text: str) -> str:
    """The text with a leading YAML front matter replaced by blank lines (line numbers kept)."""
    if text.startswith("---\n"):
        end = text.index("\n---", 3) + len("\n---")
        return "\n" * text[:end].count("\n") + text[end:]
    return text


def index_page(path: Path) -> Page:
    """Title and labels of one page: sections, exercises, figures, equations, named admonitions."""
    text = path.read_text(encoding="utf-8")
    tokens = MARKDOWN.parse(_front_matter_free(text))
    title = _text_of_heading(tokens, 0) or path.stem
    page = Page(path.stem, title, _is_notebook_chapter(text))
    counters = {"exercise": 0, "figure": 0, "equation": 0}

    def add(label: str, target: Target) -> None:
        if label in page.labels:
            raise ConversionError(path, None, f"label {label!r} is defined twice")
        page.labels[label] = target

    for position, token in enumerate(tokens):
        if token.type == "myst_target":
            heading = _text_of_heading(tokens, position + 1)
            kind = "page" if heading == title else "section"
            add(token.content.strip(), Target(path.stem, kind, heading))
        elif token.type == "math_block_label":
            counters["equation"] += 1
            add(token.info.strip(), Target(path.stem, "equation", "", counters["equation"]))
        elif _is_directive(token):
            name, argument = _directive(token)
            try:
                options, _, _ = split_directive(token.content)
            except ValueError as error:
                raise ConversionError(path, token.map[0] + 1, f"{{{name}}}: {error}") from None
            if name == "exercise":
                counters["exercise"] += 1
                label = options.get("label")
                if label:
                    add(str(label), Target(path.stem, "exercise", argument, counters["exercise"]))
            elif name == "code-cell":
                figure = (options.get("mystnb") or {}).get("figure") if isinstance(options, dict) else None
                if figure and figure.get("name"):  # Sphinx numbers only figures with a name
                    counters["figure"] += 1
                    caption = str(figure.get("caption", ""))
                    add(figure["name"], Target(path.stem, "figure", caption, counters["figure"]))
            elif name == "figure" and options.get("name"):
                counters["figure"] += 1
                add(str(options["name"]), Target(path.stem, "figure", "", counters["figure"]))
            elif name == "math" and options.get("label"):
                counters["equation"] += 1
                add(str(options["label"]), Target(path.stem, "equation", "", counters["equation"]))
            elif options.get("name"):
                add(str(options["name"]), Target(path.stem, "admonition", argument))
    return page


@functools.lru_cache(maxsize=4)
def book_index(book_dir: Path) -> dict[str, Page]:
    """Every page of the book by file stem."""
    return {path.stem: index_page(path) for path in sorted(book_dir.glob("*.md")) if path.stem != "README"}


@functools.lru_cache(maxsize=4)
def bibliography(bib_path: Path) -> BibliographyData:
    return parse_file(str(bib_path))


# --------------------------------------------------------------------------------------------
# Citations
# --------------------------------------------------------------------------------------------


def _plain(latex: str) -> str:
    """A BibTeX name or field as plain text: LaTeX accents decoded, braces dropped."""
    return codecs.decode(latex, "ulatex").replace("{", "").replace("}", "")


def author_year(entry: Entry) -> tuple[str, str]:
    """("Goodfellow et al.", "2014") for an entry: sphinxcontrib-bibtex's author_year labels."""
    persons = entry.persons.get("author") or entry.persons.get("editor")
    if not persons:
        raise ValueError(f"bibliography entry {entry.key!r} has no author or editor")
    surnames = [_plain(" ".join(p.prelast_names + p.last_names)) for p in persons]
    if len(surnames) == 1:
        names = surnames[0]
    elif len(surnames) == 2:
        names = f"{surnames[0]} and {surnames[1]}"
    else:
        names = f"{surnames[0]} et al."
    return names, _plain(entry.fields.get("year", "n.d."))


def reference_list(keys: list[str], bib: BibliographyData) -> str:
    """The chapter's reference list in markdown, sorted by author and year."""
    style = find_plugin("pybtex.style.formatting", "plain")()
    formatted = {entry.key: entry for entry in style.format_entries([bib.entries[k] for k in keys])}
    items = []
    for key in sorted(keys, key=lambda k: author_year(bib.entries[k])):
        names, year = author_year(bib.entries[key])
        text = formatted[key].text.render_as("markdown").replace("\n", " ")
        text = re.sub(r"\\([.\-])", r"\1", text)
        items.append(f"- **{names} ({year})**. {text}")
    return "\n".join(items)


# --------------------------------------------------------------------------------------------
# The setup cell and its pin
# --------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def genmodels_commit(root: Path = ROOT) -> str:
    """The last commit that changed the package (src/ or pyproject.toml): what the notebooks install.

    A commit, not a version tag: it exists on GitHub as soon as main is pushed, needs no release
    step, and ``git diff <commit> HEAD -- src pyproject.toml`` checks offline that it is current.
    """
    try:
        log = subprocess.run(
            ["git", "-C", str(root), "log", "-1", "--format=%H", "--", "src", "pyproject.toml"],
            check=True,
            capture_output=True,
            text=True,
        )
    except (OSError, subprocess.CalledProcessError) as error:
        raise RuntimeError(f"cannot read the package's last commit with git in {root}: {error}") from None
    commit = log.stdout.strip()
    if not re.fullmatch(r"[0-9a-f]{40}", commit):
        raise RuntimeError("no commit changes src/ or pyproject.toml: commit the package first")
    dirty = subprocess.run(
        ["git", "-C", str(root), "status", "--porcelain", "--", "src", "pyproject.toml"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    if dirty:
        print(
            f"warning: src/ or pyproject.toml has uncommitted changes; the notebooks pin {commit[:12]},"
            " which lacks them: commit the package, then run `make sync` again",
            file=sys.stderr,
        )
    return commit


def setup_cell_source(commit: str) -> str:
    """The generated notebook's first cell: pinned install, visible errors, no restart needed."""
    return f'''\
# @title Setup: installs genmodels, pinned to the commit this notebook was built with
import importlib
import importlib.util
import site
import subprocess
import sys

from IPython import get_ipython

REPO_URL = "{REPO_URL}"
GENMODELS_COMMIT = "{commit}"  # written by tools/colab_notebooks.py
if importlib.util.find_spec("genmodels") is None:
    try:
        install = subprocess.run(
            [sys.executable, "-m", "pip", "install", f"genmodels @ git+{{REPO_URL}}@{{GENMODELS_COMMIT}}"],
            check=True,
            capture_output=True,
            text=True,
        )
    except subprocess.CalledProcessError as error:
        print(error.stdout, error.stderr, sep="\\n")
        raise RuntimeError("pip could not install genmodels: its output is printed above") from None
    print(install.stdout.strip().rpartition("\\n")[2])  # "Successfully installed ..."
    importlib.invalidate_caches()  # the new package is importable without restarting the kernel
    if importlib.util.find_spec("genmodels") is None:  # pip chose the user site, not yet on sys.path
        site.addsitedir(site.getusersitepackages())

import genmodels

print("genmodels", genmodels.__version__, "from", genmodels.__path__[0])


def run_solutions_apart(lines: list[str]) -> list[str]:
    """Run each solution cell in a copy of the notebook's variables: your answers stay yours."""
    if lines and lines[0].startswith("# @title Solution"):
        return [f"exec({{''.join(lines)!r}}, dict(globals()))\\n"]
    return lines


shell = get_ipython()
if shell is not None:  # in IPython (Colab, Jupyter); once, even when this cell runs again
    transformers = shell.input_transformers_cleanup
    transformers[:] = [t for t in transformers if getattr(t, "__name__", "") != "run_solutions_apart"]
    transformers.append(run_solutions_apart)'''


def pinned_commit(setup_source: str) -> str | None:
    """The commit a generated setup cell installs, or None."""
    match = re.search(r'^GENMODELS_COMMIT = "([0-9a-f]{40})"', setup_source, re.M)
    return match[1] if match else None


# --------------------------------------------------------------------------------------------
# Converting one chapter
# --------------------------------------------------------------------------------------------


@dataclass
class Segment:
    """A run of converted markdown that becomes one cell."""

    text: str
    metadata: dict = field(default_factory=dict)


class ChapterConverter:
    """Turns the cells of one MyST chapter into the cells of its reader notebook."""

    def __init__(self, md_path: Path, pages: dict[str, Page], bib: BibliographyData):
        self.path = md_path
        self.name = f"{md_path.parent.name}/{md_path.name}"
        self.stem = md_path.stem
        self.pages = pages
        self.labels = {label: t for page in pages.values() for label, t in page.labels.items()}
        self.bib = bib
        self.cited: list[str] = []
        self.exercise: tuple[str, int] | None = None  # (label, number) of the current exercise
        self.solution: tuple[str, int] | None = None  # set between solution-start and solution-end
        self.glued: list[str] = []

    def fail(self, line: int | None, message: str) -> ConversionError:
        return ConversionError(self.name, line, message)

    # ---- inline: roles ------------------------------------------------------------------------

    def inline(self, text: str, line: int) -> str:
        """Convert the roles of a run of markdown, leaving code spans and math untouched."""
        out: list[str] = []
        i = 0
        while i < len(text):
            char = text[i]
            if char == "\\":
                out.append(text[i : i + 2])
                i += 2
                continue
            if char == "`":
                run = re.match(r"`+", text[i:])[0]
                end = re.compile(rf"(?<!`){run}(?!`)").search(text, i + len(run))
                stop = end.end() if end else i + len(run)
                out.append(text[i:stop])
                i = stop
                continue
            if char == "$":
                delimiter = "$$" if text.startswith("$$", i) else "$"
                end = text.find(delimiter, i + len(delimiter))
                stop = end + len(delimiter) if end > 0 else i + len(delimiter)
                out.append(text[i:stop])
                i = stop
                continue
            if char == "{":
                if text.startswith("{{", i):
                    raise self.fail(line + text[:i].count("\n"), "MyST substitution {{...}} is not supported")
                match = ROLE.match(text, i)
                if match:
                    out.append(self.role(match[1], match[3], line + text[:i].count("\n")))
                    i = match.end()
                    continue
            out.append(char)
            i += 1
        return "".join(out)

    def role(self, name: str, content: str, line: int) -> str:
        if name in ("footcite", "footcite:p", "footcite:t"):
            return self.cite(content, textual=name == "footcite:t", line=line)
        if name in ("ref", "numref", "eq", "doc"):
            return self.reference(name, content, line)
        if name in GLUE_ROLES:
            glue_name = content.split(":", 1)[0].strip()
            self.glued.append(glue_name)
            return f"`{glue_name}`"
        if name == "math":
            return f"${content}$"
        raise self.fail(line, f"unknown role {{{name}}}: teach tools/colab_notebooks.py to convert it")

    def cite(self, content: str, textual: bool, line: int) -> str:
        parts = []
        for key in (k.strip() for k in content.split(",")):
            if key not in self.bib.entries:
                raise self.fail(line, f"citation key {key!r} is not in book/references.bib")
            if key not in self.cited:
                self.cited.append(key)
            names, year = author_year(self.bib.entries[key])
            parts.append(f"{names} ({year})" if textual else f"{names}, {year}")
        return "; ".join(parts) if textual else f"({'; '.join(parts)})"

    def link(self, text: str, stem: str) -> str:
        """``text`` linking to another page: its Colab notebook, or its source on GitHub."""
        if stem == self.stem:
            return text
        if self.pages[stem].is_notebook:
            repo = REPO_URL.removeprefix("https://github.com/")
            return f"[{text}]({COLAB_URL.format(repo=repo, branch=BRANCH, stem=stem)})"
        return f"[{text}]({REPO_URL}/blob/{BRANCH}/book/{stem}.md)"

    def reference(self, role: str, content: str, line: int) -> str:
        explicit = EXPLICIT_TARGET.match(content)
        text, label = (explicit[1].strip(), explicit[2].strip()) if explicit else (None, content.strip())
        if role == "doc":
            target_path = (
                (self.path.parent / label).resolve() if not label.startswith("/") else ROOT / label[1:]
            )
            stem = target_path.with_suffix("").name if target_path.suffix == ".md" else target_path.name
            if stem not in self.pages or target_path.parent != self.path.parent.resolve():
                raise self.fail(line, f"{{doc}} target {label!r} is not a page of the book")
            return self.link(text or self.pages[stem].title, stem)
        target = self.labels.get(label)
        if target is None:
            raise self.fail(line, f"{{{role}}} target {label!r} is not defined in any page of the book")
        elsewhere = "" if target.stem == self.stem else f" of {self.pages[target.stem].title}"
        if role == "eq":
            if target.kind != "equation":
                raise self.fail(line, f"{{eq}} target {label!r} is not a labelled equation")
            return self.link(f"({target.number}){elsewhere}", target.stem)
        if text is None:
            if target.kind == "equation":
                text = f"equation ({target.number}){elsewhere}"
            elif target.kind == "exercise":
                text = f"Exercise {target.number}{elsewhere}"
            elif target.kind == "figure":
                text = f"Figure {target.number}{elsewhere}" if role == "numref" else target.title
            elif target.kind == "page":
                text = target.title
            elif target.kind == "section":
                text = f"“{target.title}”{elsewhere}"
            else:
                raise self.fail(
                    line, f"{{{role}}}`{label}` needs an explicit text: {{{role}}}`text <{label}>`"
                )
        elif role == "numref" and target.number is not None:
            text = text.replace("%s", str(target.number)).replace("{number}", str(target.number))
        return self.link(text, target.stem)

    # ---- blocks: directives, targets, labelled math -------------------------------------------

    def blocks(self, text: str, line: int, nested: bool = False) -> list[Segment]:
        """Convert a markdown cell (or a directive's body) into segments, one per output cell."""
        lines = text.splitlines(keepends=True)
        tokens = MARKDOWN.parse(text)
        segments: list[Segment] = []
        buffer: list[str] = []
        position = 0

        def flush() -> None:
            joined = "".join(buffer).strip("\n")
            buffer.clear()
            if not joined.strip():
                return
            if self.solution and not nested:
                label, number = self.solution
                joined = (
                    f"<details>\n<summary><b>Solution to Exercise {number}</b> (click to show)</summary>\n\n"
                    f"{joined}\n\n</details>"
                )
                segments.append(Segment(joined, self.exercise_metadata("solution", label, number)))
            else:
                segments.append(Segment(joined))

        for token in tokens:
            if token.map is None:
                continue
            start, end = token.map
            if token.level > 0:
                if _is_directive(token) or token.type in ("myst_target", "math_block_label"):
                    raise self.fail(line + start, "MyST syntax inside a list or quote is not supported")
                continue
            special = _is_directive(token) or token.type in (
                "math_block_label",
                "myst_target",
                "myst_line_comment",
                "myst_block_break",
                "fence",
                "code_block",
                "colon_fence",
                "math_block",
                "amsmath",
            )
            if not special:
                continue
            buffer.append(self.inline("".join(lines[position:start]), line + position))
            position = end
            if token.type in ("myst_target", "myst_line_comment", "myst_block_break"):
                continue
            if token.type in ("fence", "code_block", "math_block", "amsmath") and not _is_directive(token):
                buffer.append("".join(lines[start:end]))
            elif token.type == "math_block_label":
                number = self.labels[token.info.strip()].number
                buffer.append(f"$$\n{token.content.strip()}\n\\tag{{{number}}}\n$$\n")
            elif token.type == "colon_fence" and not _is_directive(token):
                raise self.fail(line + start, f"a ::: fence without a {{directive}}: {token.info!r}")
            else:
                name, argument = _directive(token)
                if name in ("exercise", "solution-start", "solution-end", "footbibliography") and nested:
                    raise self.fail(line + start, f"{{{name}}} must not be nested in another directive")
                if name in ("exercise", "solution-start", "solution-end"):
                    flush()
                    segments.extend(self.exercise_directive(name, argument, token, line + start))
                else:
                    # A blank line after it: an HTML block ends only at a blank line.
                    buffer.append(self.directive(name, argument, token, line + start) + "\n")
        buffer.append(self.inline("".join(lines[position:]), line + position))
        flush()
        return segments

    def body(self, token: Token, line: int, name: str) -> tuple[dict[str, object], str]:
        """Options and converted body of a directive that cannot contain exercises or cells."""
        try:
            options, body, option_lines = split_directive(token.content)
        except ValueError as error:
            raise self.fail(line, f"{{{name}}}: {error}") from None
        converted = self.blocks(body, line + 1 + option_lines, nested=True)
        return options, "\n\n".join(segment.text for segment in converted)

    def directive(self, name: str, argument: str, token: Token, line: int) -> str:
        if name == "admonition" or name in ADMONITION_STYLES:
            options, body = self.body(token, line, name)
            unknown = set(options) - ADMONITION_OPTIONS
            if unknown:
                raise self.fail(line, f"{{{name}}}: unknown option(s) {sorted(unknown)}")
            classes = str(options.get("class", "")).replace(",", " ").split()
            kind = (
                name
                if name in ADMONITION_STYLES
                else next((c for c in classes if c in ADMONITION_STYLES), "note")
            )
            icon, colour, label = ADMONITION_STYLES[kind]
            title = self.inline(argument, line) if argument else label
            if name == "admonition" and not argument:
                raise self.fail(line, "{admonition} needs a title")
            if "dropdown" in classes:
                return f"<details>\n<summary><b>{icon} {title}</b></summary>\n\n{body}\n\n</details>\n"
            return (
                f'<div style="border-left: 4px solid {colour}; padding: 0.1em 1em; margin: 1em 0">\n\n'
                f"**{icon} {title}**\n\n{body}\n\n</div>\n"
            )
        if name == "footbibliography":
            if not self.cited:
                return ""
            return reference_list(self.cited, self.bib) + "\n"
        if name == "math":
            options, _ = self.body(token, line, name)
            _, body, _ = split_directive(token.content)
            label = options.get("label")
            tag = f"\n\\tag{{{self.labels[str(label)].number}}}" if label else ""
            return f"$$\n{body.strip()}{tag}\n$$\n"
        if name in GLUE_DIRECTIVES:
            options, _ = self.body(token, line, name)
            self.glued.append(argument)
            caption = f" {self.inline(str(options['caption']), line)}" if options.get("caption") else ""
            return f"*(`{argument}` is shown by the cell that computes it.)*{caption}\n"
        if name in ("code-block", "code", "sourcecode"):
            options, code, _ = split_directive(token.content)
            unknown = set(options) - {
                "linenos",
                "lineno-start",
                "caption",
                "name",
                "emphasize-lines",
                "dedent",
            }
            if unknown:
                raise self.fail(line, f"{{{name}}}: unknown option(s) {sorted(unknown)}")
            if "linenos" in options or "lineno-start" in options:  # CommonMark has no line numbers
                first = int(options.get("lineno-start") or 1)
                code_lines = code.rstrip("\n").split("\n")
                width = len(str(first + len(code_lines) - 1))
                code = "".join(f"{first + i:>{width}}  {text}\n" for i, text in enumerate(code_lines))
            caption = (
                f"**{self.inline(str(options['caption']), line)}**\n\n" if options.get("caption") else ""
            )
            fence = "`" * max([3, *(len(run) + 1 for run in re.findall(r"`{3,}", code))])
            return f"{caption}{fence}{argument}\n{code.rstrip()}\n{fence}\n"
        if name == "code-cell":
            raise self.fail(line, "a {code-cell} inside markdown: jupytext did not split it (indented?)")
        raise self.fail(line, f"unknown directive {{{name}}}: teach tools/colab_notebooks.py to convert it")

    def exercise_metadata(self, tag: str, label: str, number: int) -> dict:
        return {"tags": [tag], "genmodels": {"exercise": label, "number": number}}

    def exercise_directive(self, name: str, argument: str, token: Token, line: int) -> list[Segment]:
        if name == "exercise":
            if self.solution:
                raise self.fail(line, "{exercise} inside a solution: close it with {solution-end}")
            options, body = self.body(token, line, name)
            unknown = set(options) - {"label", "class", "nonumber"}
            if unknown:
                raise self.fail(line, f"{{exercise}}: unknown option(s) {sorted(unknown)}")
            if not options.get("label"):
                raise self.fail(line, "{exercise} needs a :label: (the grading tools key on it)")
            label = str(options["label"])
            number = self.labels[label].number
            title = f" — {self.inline(argument, line)}" if argument else ""
            text = f"### Exercise {number}{title}\n\n{body}".rstrip()
            self.exercise = (label, number)
            return [Segment(text, self.exercise_metadata("exercise", label, number))]
        if name == "solution-start":
            options, _ = self.body(token, line, name)
            unknown = set(options) - {"label", "class"}
            if unknown:
                raise self.fail(line, f"{{solution-start}}: unknown option(s) {sorted(unknown)}")
            target = self.labels.get(argument)
            if target is None or target.kind != "exercise" or target.stem != self.stem:
                raise self.fail(
                    line, f"{{solution-start}} names {argument!r}, not an exercise of this chapter"
                )
            if self.solution:
                raise self.fail(line, "{solution-start} inside another solution")
            self.solution = (argument, target.number)
            return []
        if not self.solution:
            raise self.fail(line, "{solution-end} without {solution-start}")
        self.solution = None
        return []

    # ---- cells -----------------------------------------------------------------------------

    def code_cell(self, cell: nbformat.NotebookNode, line: int) -> list[nbformat.NotebookNode]:
        metadata = copy.deepcopy(dict(cell.metadata))
        figure = (metadata.pop("mystnb", None) or {}).get("figure")
        tags = list(metadata.get("tags", []))
        source = cell.source
        if "hide-input" in tags:
            metadata["jupyter"] = {"source_hidden": True}
        if self.solution:
            label, number = self.solution
            if "answer" in tags or "check" in tags:
                raise self.fail(line, "an answer or check cell inside a solution")
            metadata["tags"] = [*tags, "solution"]
            metadata["genmodels"] = {"exercise": label, "number": number}
            metadata["cellView"] = "form"
            metadata["jupyter"] = {"source_hidden": True}
            source = SOLUTION_TITLE.format(number=number) + "\n" + source
        elif "answer" in tags or "check" in tags:
            if self.exercise is None:
                raise self.fail(line, "an answer or check cell before any {exercise}")
            label, number = self.exercise
            metadata["genmodels"] = {"exercise": label, "number": number}
        cells = [nbformat.v4.new_code_cell(source, metadata=metadata)]
        if figure:
            name = figure.get("name")
            number = self.labels[name].number if name else None
            caption = self.inline(str(figure.get("caption", "")), line)
            heading = f"**Figure {number}.**" if number else "**Figure.**"
            cells.append(nbformat.v4.new_markdown_cell(f"{heading} {caption}".strip()))
        return cells

    def convert(self, notebook: nbformat.NotebookNode, text: str, commit: str) -> list[nbformat.NotebookNode]:
        cells: list[nbformat.NotebookNode] = []
        search_from = 0
        seen_code = False
        for cell in notebook.cells:
            found = text.find(cell.source, search_from) if cell.source else -1
            if found >= 0:
                search_from = found + len(cell.source)
            line = text.count("\n", 0, found if found >= 0 else search_from) + 1
            if cell.cell_type == "code":
                if not seen_code:
                    seen_code = True
                    if 'REPO_URL = "' not in cell.source or 'find_spec("genmodels")' not in cell.source:
                        raise self.fail(line, "the first code cell must be the template's setup cell")
                    # A Colab form: its title shows, its code folds; what it prints stays visible.
                    form = {"cellView": "form", "jupyter": {"source_hidden": True}}
                    cells.append(nbformat.v4.new_code_cell(setup_cell_source(commit), metadata=form))
                    continue
                cells.extend(self.code_cell(cell, line))
            elif cell.cell_type == "markdown":
                self.glued = []
                for segment in self.blocks(cell.source, line):
                    text_out = segment.text
                    if self.glued:
                        names = ", ".join(f"`{name}`" for name in dict.fromkeys(self.glued))
                        text_out += (
                            f"\n\n<small>The numbers in code font ({names}) are printed as"
                            " `name = value` by the code cells that compute them"
                            ' (`glue("name", value)`); the book\'s website shows the values here.</small>'
                        )
                        self.glued = []
                    cells.append(nbformat.v4.new_markdown_cell(text_out, metadata=segment.metadata))
            else:
                raise self.fail(line, f"a {cell.cell_type} cell: only markdown and code cells are converted")
        if self.solution:
            raise self.fail(None, f"the solution of {self.solution[0]!r} is never closed by {{solution-end}}")
        if self.cited and not any("{footbibliography}" in c.source for c in notebook.cells):
            raise self.fail(None, "the chapter cites works but has no {footbibliography}")
        return cells


def _stable_ids(cells: list[nbformat.NotebookNode]) -> None:
    """Cell ids derived from the cells' content, so regenerating a notebook does not change them."""
    seen: dict[str, int] = {}
    for cell in cells:
        digest = hashlib.sha1(f"{cell.cell_type}\n{cell.source}".encode()).hexdigest()[:12]
        seen[digest] = seen.get(digest, 0) + 1
        cell["id"] = digest if seen[digest] == 1 else f"{digest}-{seen[digest]}"


def build_reader_notebook(md_path: Path, commit: str | None = None) -> nbformat.NotebookNode:
    """The notebook Colab opens for one chapter, built from its MyST source (no outputs).

    Args:
        md_path: a jupytext MyST chapter, e.g. ``book/05_gan_code.md``.
        commit: the genmodels commit the setup cell installs; by default :func:`genmodels_commit`.

    Raises:
        ConversionError: the chapter uses a directive or role the converter does not know.
    """
    md_path = Path(md_path).resolve()
    text = md_path.read_text(encoding="utf-8")
    if not _is_notebook_chapter(text):
        raise ConversionError(md_path.name, 1, "not a jupytext notebook chapter (no jupytext header)")
    source = jupytext.reads(text, fmt="md:myst")
    if "ipynb" in source.metadata.get("jupytext", {}).get("formats", ""):
        raise ConversionError(
            md_path.name,
            3,
            "the jupytext header pairs this chapter with its .ipynb (formats: ipynb,md:myst): delete that"
            " line. The .ipynb is generated from the .md; paired, `jupytext --sync` would overwrite the"
            " .md with the generated notebook whenever the .ipynb is newer",
        )
    converter = ChapterConverter(
        md_path, book_index(md_path.parent), bibliography(md_path.parent / "references.bib")
    )
    cells = converter.convert(source, text, commit or genmodels_commit())
    _stable_ids(cells)
    metadata = {
        "kernelspec": source.metadata.get("kernelspec", {}),
        "language_info": {"name": "python"},
        "genmodels": {"source": f"book/{md_path.name}", "generator": "tools/colab_notebooks.py"},
    }
    return nbformat.v4.new_notebook(cells=cells, metadata=metadata)


def write_reader_notebook(md_path: Path) -> bool:
    """Write book/NN_name.ipynb beside its chapter; return True when the file changed."""
    notebook_path = Path(md_path).with_suffix(".ipynb")
    new = nbformat.writes(build_reader_notebook(md_path)) + "\n"
    if notebook_path.is_file() and notebook_path.read_text(encoding="utf-8") == new:
        return False
    notebook_path.write_text(new, encoding="utf-8")
    return True


def main(paths: list[str]) -> None:
    """Convert every chapter given; report every failure, then exit with status 1 if any."""
    if not paths:
        sys.exit(__doc__)
    failures = []
    for path in map(Path, paths):
        if not _is_notebook_chapter(path.read_text(encoding="utf-8")):
            print(f"skipped {path} (a page, not a notebook chapter)")
            continue
        try:
            if write_reader_notebook(path):
                print(f"wrote {path.with_suffix('.ipynb')}")
        except ConversionError as error:
            failures.append(str(error))
            print(f"error: {error}", file=sys.stderr)
    if failures:
        sys.exit(f"{len(failures)} chapter(s) not converted")


if __name__ == "__main__":
    main(sys.argv[1:])
