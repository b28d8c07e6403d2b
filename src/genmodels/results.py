"""Results files of the long experiments: CSV with a provenance header, found locally or downloaded.

Every experiment that takes longer than a chapter may run (the mode-collapse table, the
β sweep, the data-size sweep) is one command that writes ``book/results/<name>.csv``:
``# key: value`` comment lines (the command, date, machine, package versions and whatever
the experiment adds), then one CSV row per run. A chapter reads the file with
:func:`read_csv` (found by :func:`find_results`, downloaded in Colab) and a test re-runs
one row.
"""

from __future__ import annotations

import csv
import datetime
import io
import os
import platform
import time
from collections.abc import Sequence
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf


def provenance(command: str) -> dict[str, str]:
    """The header of a results file: command, date, machine and package versions."""
    return {
        "command": command,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
    }


def write_csv(
    rows: Sequence[dict[str, object]],
    path: str | Path,
    header: dict[str, str],
    fields: Sequence[str] | None = None,
) -> Path:
    """Write ``rows`` as CSV after ``# key: value`` comment lines holding ``header``.

    ``fields`` orders the columns (default: the keys of the first row). Raises
    ``ValueError`` when a row lacks a field or a header value spans lines.
    """
    fields = list(fields) if fields is not None else (list(rows[0]) if rows else [])
    for row in rows:
        missing = [f for f in fields if f not in row]
        if missing:
            raise ValueError(f"row {row} lacks the fields {missing}")
    for key, value in header.items():
        if "\n" in f"{key}{value}":
            raise ValueError(f"header entry {key!r} spans lines; give it on one line")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        for key, value in header.items():
            handle.write(f"# {key}: {value}\n")
        writer = csv.DictWriter(handle, fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def _parse(value: str) -> object:
    """A CSV cell as int, float or str (in that order of preference)."""
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def read_csv(path: str | Path, how_to_make: str = "") -> tuple[dict[str, str], list[dict[str, object]]]:
    """``(header, rows)`` of a file written by :func:`write_csv`; numbers parsed as int or float.

    ``how_to_make`` (e.g. ``"make experiments"``) is quoted in the error when the file is missing.
    """
    path = Path(path)
    if not path.is_file():
        hint = f": run `{how_to_make}` to create it" if how_to_make else ""
        raise FileNotFoundError(f"{path} does not exist{hint}")
    lines = path.read_text().splitlines()
    header = {}
    for line in lines:
        if not line.startswith("# "):
            break
        key, _, value = line[2:].partition(": ")
        header[key] = value
    rows = [
        {key: _parse(value) for key, value in raw.items()}
        for raw in csv.DictReader(line for line in lines if not line.startswith("#"))
    ]
    return header, rows


def find_results(name: str, repo_url: str | None = None, how_to_make: str = "make experiments") -> Path:
    """The results file ``book/results/<name>``: found locally, or downloaded from the repository.

    Looks in ``./results`` (a chapter run from ``book/``), ``./book/results`` (from the
    repository root) and the repository that holds this package (an editable install).
    Elsewhere (Colab: the package was installed by pip) it downloads the file from the
    ``main`` branch of ``repo_url`` (a GitHub URL) into the current folder.

    Raises:
        FileNotFoundError: not found locally and no ``repo_url`` given, or the download failed;
            the message names ``how_to_make``.
    """
    package_repo = Path(__file__).resolve().parents[2]
    for folder in (Path("results"), Path("book") / "results", package_repo / "book" / "results"):
        if (folder / name).is_file():
            return folder / name
    if repo_url is None:
        raise FileNotFoundError(f"{name} not found in ./results or ./book/results: run `{how_to_make}`")
    import urllib.request

    owner_repo = repo_url.rstrip("/").removesuffix(".git").split("github.com/")[-1]
    url = f"https://raw.githubusercontent.com/{owner_repo}/main/book/results/{name}"
    target = Path(name)
    try:
        urllib.request.urlretrieve(url, target)
    except OSError as error:
        raise FileNotFoundError(f"{name} is not here and downloading {url} failed: {error}") from None
    return target


def progress_bar(done: int, total: int, start: float, label: str, stream: io.TextIOBase) -> None:
    """Write a one-line text progress bar (``\\r``-refreshed) with elapsed time and time left.

    ``start`` is a :func:`time.perf_counter` reading taken when the work began.
    """
    width = 30
    filled = int(width * done / total) if total else width
    elapsed = time.perf_counter() - start
    left = elapsed / done * (total - done) if done else float("nan")
    stream.write(
        f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} runs  "
        f"{elapsed / 60:5.1f} min, ~{left / 60:4.1f} min left  {label:<28}"
    )
    stream.flush()
