"""The timeline of generative modelling: its data agree with the bibliography and the chapter."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import matplotlib.pyplot as plt
import pytest

from genmodels import history

ROOT = Path(__file__).resolve().parents[1]
BIB = (ROOT / "book" / "references.bib").read_text()
CHAPTER = ROOT / "book" / "01_background.md"


def test_the_timeline_is_consistent_with_the_bibliography():
    assert history.check_milestones(bib_years=history.bibliography_years(BIB)) == []


def test_the_required_milestones_have_the_right_years():
    years = {m.name: m.year for m in history.MILESTONES}
    expected = {
        "Mixture of two Gaussians": 1894,
        "Factor analysis": 1904,
        "Hidden Markov model (Baum–Welch)": 1970,
        "EM algorithm": 1977,
        "Probabilistic PCA": 1999,
        "Markov chains": 1906,
        "Monte Carlo method": 1949,
        "Metropolis algorithm (MCMC)": 1953,
        "Metropolis–Hastings": 1970,
        "Boltzmann machine": 1985,
        "Helmholtz machine": 1995,
        "Deep belief net": 2006,
        "Deep Boltzmann machine": 2009,
        "Variational autoencoder": 2013,
        "Generative adversarial net": 2014,
        "Diffusion probabilistic model": 2015,
        "Score-based model (NCSN)": 2019,
        "DDPM": 2020,
    }
    for name, year in expected.items():
        assert years.get(name) == year, f"{name}: expected {year}, got {years.get(name)}"
    families = {m.family for m in history.MILESTONES}
    assert families == set(history.FAMILIES), "every family should appear on the timeline"


def test_check_milestones_reports_each_kind_of_mistake():
    good = list(history.MILESTONES[:4])
    bib = {key: 3000 for m in good for key in m.keys}
    bib.update({key: m.year for m in good for key in m.keys})
    assert history.check_milestones(good, bib) == []

    swapped = [good[1], good[0], *good[2:]]
    assert any("not sorted" in p for p in history.check_milestones(swapped))

    duplicated = [*good, good[-1]]
    assert any("duplicate name" in p for p in history.check_milestones(duplicated))

    unknown_family = [*good[:-1], replace(good[-1], family="magic")]
    assert any("unknown family" in p for p in history.check_milestones(unknown_family))

    missing_key = [*good[:-1], replace(good[-1], keys=("nobody1999missing",))]
    assert any("not in the bibliography" in p for p in history.check_milestones(missing_key, bib))

    too_late = [*good[:-1], replace(good[-1], year=good[-1].year + 1)]
    assert any("does not match" in p for p in history.check_milestones(too_late, bib))
    too_early = [*good[:-1], replace(good[-1], year=good[-1].year - 3)]
    assert any("does not match" in p for p in history.check_milestones(too_early, bib))


def test_bibliography_years_parses_keys_and_years():
    text = """@article{a2001x,
  title = {A},
  year  = {2001}
}

@inproceedings{b2014y,
  title = {B, with a comma},
  year = 2014,
}
@misc{c_noyear, title={C}}
"""
    assert history.bibliography_years(text) == {"a2001x": 2001, "b2014y": 2014}


def test_find_bibliography_from_the_book_folder_and_from_elsewhere(tmp_path):
    assert history.find_bibliography(ROOT / "book") == ROOT / "book" / "references.bib"
    assert history.find_bibliography(ROOT) == ROOT / "book" / "references.bib"
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "references.bib").write_text("@misc{x2000, year={2000}}")
    nested = tmp_path / "deep" / "er"
    nested.mkdir(parents=True)
    assert history.find_bibliography(nested) == tmp_path / "book" / "references.bib"


def test_draw_timeline_has_one_row_and_one_dot_per_milestone():
    ax = history.draw_timeline()
    n = len(history.MILESTONES)
    assert len(ax.get_yticks()) == n
    dots = sum(len(c.get_offsets()) for c in ax.collections)
    assert dots == n
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0].startswith("1894") and "Mixture" in labels[0]
    assert any(label.startswith("1906") and "Markov" in label for label in labels)
    # the compressed scale keeps the order of years and is invertible
    forward, inverse = history._compress_before(1980.0, 4.0)
    years = [1906.0, 1953.0, 1979.0, 1980.0, 2014.0]
    mapped = forward(years)
    assert list(mapped) == sorted(mapped)
    assert inverse(mapped) == pytest.approx(years)
    plt.close(ax.figure)


@pytest.mark.skipif(not CHAPTER.exists(), reason="the background chapter is not written yet")
def test_the_chapter_cites_every_milestone():
    cited = {
        key.strip()
        for group in re.findall(r"\{(?:foot)?cite(?::[a-z]+)?\}`([^`]+)`", CHAPTER.read_text())
        for key in group.split(",")
    }
    for m in history.MILESTONES:
        for key in m.keys:
            assert key in cited, f"{m.name}: {key} is on the timeline but never cited in the chapter"
