"""A timeline of generative modelling: the data, a consistency check, and the figure.

Each :class:`Milestone` names its primary reference(s) by BibTeX key in
``book/references.bib``. ``year`` is the year of first public appearance (a preprint
counts), so it may precede the year of the venue in the bibliography by a little, never
follow it; :func:`check_milestones` verifies that, the ordering and the families.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

# family -> colour. "sampling tool" marks probability methods that are not generative models.
FAMILIES: dict[str, str] = {
    "sampling tool": "#7f7f7f",
    "latent variable (statistical)": "#17becf",
    "energy-based": "#8c564b",
    "latent variable (variational)": "#1f77b4",
    "adversarial (implicit)": "#d62728",
    "autoregressive": "#2ca02c",
    "normalising flow": "#9467bd",
    "diffusion / score-based": "#ff7f0e",
}

# A preprint may appear this many years before the venue year of its bibliography entry.
MAX_PREPRINT_LEAD = 2


@dataclass(frozen=True)
class Milestone:
    """One entry of the timeline.

    Attributes:
        year: year of first public appearance (journal, proceedings or preprint).
        name: short name shown on the figure.
        keys: BibTeX keys of the primary reference(s) in ``book/references.bib``.
        description: one line on what it contributed.
        family: one of :data:`FAMILIES`.
    """

    year: int
    name: str
    keys: tuple[str, ...]
    description: str
    family: str


# fmt: off
MILESTONES: tuple[Milestone, ...] = (
    Milestone(1894, "Mixture of two Gaussians", ("pearson1894contributions",),
              "Pearson: a two-component normal mixture fitted to crab measurements",
              "latent variable (statistical)"),
    Milestone(1904, "Factor analysis", ("spearman1904general",),
              "Spearman: test scores explained by one hidden common factor", "latent variable (statistical)"),
    Milestone(1906, "Markov chains", ("markov1906extension",),
              "Markov: law of large numbers for dependent variables (chains of trials)", "sampling tool"),
    Milestone(1948, "n-gram text generation", ("shannon1948mathematical",),
              "Shannon samples English-like text from Markov (n-gram) models", "autoregressive"),
    Milestone(1949, "Monte Carlo method", ("metropolis1949monte",),
              "Metropolis & Ulam: estimate integrals with random samples", "sampling tool"),
    Milestone(1953, "Metropolis algorithm (MCMC)", ("metropolis1953equation",),
              "Metropolis et al.: sample a Boltzmann distribution with a Markov chain", "sampling tool"),
    Milestone(1970, "Metropolis–Hastings", ("hastings1970monte",),
              "Hastings: asymmetric proposals; MCMC becomes a statistical tool", "sampling tool"),
    Milestone(1970, "Hidden Markov model (Baum–Welch)", ("baum1970maximization",),
              "Baum et al.: maximum likelihood for a Markov chain seen through noise",
              "latent variable (statistical)"),
    Milestone(1977, "EM algorithm", ("dempster1977em",),
              "Dempster, Laird & Rubin: one fitting rule for every latent-variable model",
              "latent variable (statistical)"),
    Milestone(1984, "Gibbs sampler", ("geman1984gibbs",),
              "Geman & Geman: update one variable at a time from its conditional", "sampling tool"),
    Milestone(1985, "Boltzmann machine", ("ackley1985boltzmann",),
              "Ackley, Hinton & Sejnowski: energy-based network with hidden units", "energy-based"),
    Milestone(1995, "Helmholtz machine", ("dayan1995helmholtz",),
              "Dayan et al.: generative net + recognition net (wake-sleep)", "latent variable (variational)"),
    Milestone(1999, "Probabilistic PCA", ("tipping1999ppca",),
              "Tipping & Bishop: PCA as a linear-Gaussian latent-variable model",
              "latent variable (statistical)"),
    Milestone(2002, "Contrastive divergence", ("hinton2002cd",),
              "Hinton: a cheap learning rule for RBMs / products of experts", "energy-based"),
    Milestone(2006, "Deep belief net", ("hinton2006dbn",),
              "Hinton, Osindero & Teh: stacked RBMs trained greedily, layer by layer", "energy-based"),
    Milestone(2009, "Deep Boltzmann machine", ("salakhutdinov2009dbm",),
              "Salakhutdinov & Hinton: undirected, several hidden layers", "energy-based"),
    Milestone(2011, "NADE", ("larochelle2011nade",),
              "Larochelle & Murray: neural autoregressive density estimator", "autoregressive"),
    Milestone(2013, "Variational autoencoder", ("kingma2014vae", "rezende2014stochastic"),
              "Kingma & Welling (arXiv 2013, ICLR 2014); Rezende et al. (ICML 2014)",
              "latent variable (variational)"),
    Milestone(2014, "Generative adversarial net", ("goodfellow2014gan",),
              "Goodfellow et al.: a generator trained against a discriminator", "adversarial (implicit)"),
    Milestone(2014, "NICE", ("dinh2015nice",),
              "Dinh et al.: invertible coupling layers, exact likelihood", "normalising flow"),
    Milestone(2015, "MADE", ("germain2015made",),
              "Germain et al.: masked autoencoder as an autoregressive model", "autoregressive"),
    Milestone(2015, "Diffusion probabilistic model", ("sohldickstein2015diffusion",),
              "Sohl-Dickstein et al.: learn to reverse a gradual noising process", "diffusion / score-based"),
    Milestone(2016, "PixelRNN / PixelCNN", ("vandenoord2016pixelrnn",),
              "van den Oord et al.: images pixel by pixel", "autoregressive"),
    Milestone(2016, "Real NVP", ("dinh2017realnvp",),
              "Dinh et al.: affine coupling flows for images", "normalising flow"),
    Milestone(2017, "Transformer", ("vaswani2017attention",),
              "Vaswani et al.: self-attention; generates one token at a time", "autoregressive"),
    Milestone(2018, "Glow", ("kingma2018glow",),
              "Kingma & Dhariwal: invertible 1x1 convolutions", "normalising flow"),
    Milestone(2019, "Score-based model (NCSN)", ("song2019score",),
              "Song & Ermon: learn the score of noised data, sample by Langevin", "diffusion / score-based"),
    Milestone(2020, "DDPM", ("ho2020ddpm",),
              "Ho et al.: denoising diffusion with high image quality", "diffusion / score-based"),
    Milestone(2020, "GPT-3", ("brown2020gpt3",),
              "Brown et al.: a 175-billion-parameter autoregressive transformer", "autoregressive"),
    Milestone(2021, "Latent diffusion", ("rombach2022ldm",),
              "Rombach et al.: diffusion in an autoencoder's latent space (text-to-image)",
              "diffusion / score-based"),
)
# fmt: on

_ENTRY = re.compile(r"@\w+\s*\{\s*([^,\s]+)\s*,(.*?)(?=\n@|\Z)", re.S)
_YEAR = re.compile(r"\byear\s*=\s*[{\"]?\s*(\d{4})")


def bibliography_years(bibtex: str) -> dict[str, int]:
    """``{key: year}`` for every entry of a BibTeX text (entries without a year are skipped)."""
    years = {}
    for key, body in _ENTRY.findall(bibtex):
        match = _YEAR.search(body)
        if match:
            years[key] = int(match.group(1))
    return years


def find_bibliography(start: str | Path = ".") -> Path | None:
    """``references.bib`` in ``start``, in ``start/book`` or in a parent folder; None if absent."""
    start = Path(start).resolve()
    for folder in (start, *start.parents):
        for candidate in (folder / "references.bib", folder / "book" / "references.bib"):
            if candidate.is_file():
                return candidate
    return None


def check_milestones(
    milestones: Sequence[Milestone] = MILESTONES,
    bib_years: Mapping[str, int] | None = None,
) -> list[str]:
    """Everything that is wrong with a timeline, as sentences; an empty list means it is fine.

    Checks: sorted by year; unique names; known families; at least one reference each;
    and, when ``bib_years`` is given, that every key exists and that the milestone's year
    is at most ``MAX_PREPRINT_LEAD`` years before the bibliography's year, never after it.
    """
    problems = []
    years = [m.year for m in milestones]
    if years != sorted(years):
        first = next(i for i in range(1, len(years)) if years[i] < years[i - 1])
        problems.append(
            f"not sorted: {milestones[first].name} ({years[first]}) comes after {years[first - 1]}"
        )
    names = [m.name for m in milestones]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"duplicate name: {name}")
    for m in milestones:
        if m.family not in FAMILIES:
            problems.append(f"{m.name}: unknown family {m.family!r}")
        if not m.keys:
            problems.append(f"{m.name}: no reference")
        if bib_years is None:
            continue
        for key in m.keys:
            if key not in bib_years:
                problems.append(f"{m.name}: key {key!r} is not in the bibliography")
            elif not 0 <= bib_years[key] - m.year <= MAX_PREPRINT_LEAD:
                problems.append(
                    f"{m.name}: year {m.year} does not match {key} ({bib_years[key]}); a preprint may "
                    f"precede its venue by at most {MAX_PREPRINT_LEAD} years"
                )
    return problems


def _compress_before(pivot: float, factor: float):
    """A monotone piecewise-linear axis scale: years before ``pivot`` shrink by ``factor``."""

    def forward(x):
        x = np.asarray(x, dtype=float)
        return np.where(x < pivot, pivot + (x - pivot) / factor, x)

    def inverse(y):
        y = np.asarray(y, dtype=float)
        return np.where(y < pivot, pivot + (y - pivot) * factor, y)

    return forward, inverse


def draw_timeline(
    milestones: Sequence[Milestone] = MILESTONES,
    ax: Axes | None = None,
    compress_before: float = 1980.0,
    factor: float = 4.0,
) -> Axes:
    """One row per milestone (oldest at the top), a dot at its year coloured by family.

    The year axis is linear after ``compress_before`` and ``factor`` times compressed
    before it, so that 1894-1980 does not crowd out 2006-2021.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(7.2, 0.3 * len(milestones) + 1.0))
    rows = np.arange(len(milestones))
    ax.set_xscale("function", functions=_compress_before(compress_before, factor))
    for family, colour in FAMILIES.items():
        chosen = [i for i, m in enumerate(milestones) if m.family == family]
        if chosen:
            ax.scatter(
                [milestones[i].year for i in chosen], rows[chosen], s=45, color=colour, label=family, zorder=3
            )
    for row, m in zip(rows, milestones, strict=True):
        ax.plot([1890, m.year], [row, row], color="0.88", lw=0.8, zorder=1)
    ax.set_yticks(rows, [f"{m.year}  {m.name}" for m in milestones], fontsize=9)
    ax.set_ylim(len(milestones) - 0.5, -0.5)
    ticks = [1894, 1949, 1977, 1995, 2005, 2010, 2015, 2020]
    ax.set_xticks(ticks, [str(t) for t in ticks], fontsize=7.5)
    ax.set_xlim(1890, 2024)
    ax.axvspan(1890, compress_before, color="0.96", zorder=0)
    ax.set_xlabel(f"year of first publication (axis compressed {factor:g}× before {compress_before:g})")
    ax.grid(axis="x", color="0.9", lw=0.6)
    ax.legend(loc="lower left", fontsize=8, frameon=True, title="family", title_fontsize=8)
    return ax
