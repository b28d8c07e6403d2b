"""One-dimensional densities on a grid, and the divergences GAN theory is written in.

GAN theory is stated for densities: the optimal discriminator, the value of the game and the
Jensen-Shannon divergence are integrals over ``x``. In one dimension these integrals can be
computed to many digits on a fine grid, which is how the book checks every formula of the
theory (chapter "GAN theory"). Conventions:

* ``x`` is a sorted 1-D grid (strictly increasing); densities are arrays of the same shape,
  evaluated on it. Integrals use the trapezoid rule, which converges very fast for smooth
  densities that vanish at both ends of the grid.
* ``0 log 0 = 0``: points where the first density is 0 contribute nothing to a KL divergence.
  ``KL(p || q)`` is ``inf`` when ``p > 0`` somewhere ``q = 0``.

(``genmodels.densities1d`` is a different module, with log-density helpers for the
background and core-concepts chapters.)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _grid(x: object) -> np.ndarray:
    grid = np.asarray(x, dtype=np.float64)
    if grid.ndim != 1 or grid.size < 2:
        raise ValueError(f"x must be a 1-D grid of at least 2 points, got shape {grid.shape}")
    if not np.all(np.isfinite(grid)) or not np.all(np.diff(grid) > 0):
        raise ValueError("x must be finite and strictly increasing")
    return grid


def _density(p: object, grid: np.ndarray, name: str) -> np.ndarray:
    values = np.asarray(p, dtype=np.float64)
    if values.shape != grid.shape:
        raise ValueError(f"{name} must be evaluated on the grid: shape {grid.shape}, got {values.shape}")
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise ValueError(f"{name} must be finite and non-negative (a density on the grid)")
    return values


def normal_logpdf(x: object, mean: float = 0.0, std: float = 1.0) -> np.ndarray:
    """``log N(x; mean, std^2)``, finite far in the tails where the density underflows to 0."""
    if not std > 0:
        raise ValueError(f"std must be positive, got {std}")
    u = (np.asarray(x, dtype=np.float64) - mean) / std
    return -0.5 * u**2 - np.log(std) - 0.5 * np.log(2 * np.pi)


def normal_pdf(x: object, mean: float = 0.0, std: float = 1.0) -> np.ndarray:
    """The density of ``N(mean, std^2)`` at ``x``."""
    return np.exp(normal_logpdf(x, mean, std))


def mixture_pdf(
    x: object, means: Sequence[float], stds: Sequence[float], weights: Sequence[float] | None = None
) -> np.ndarray:
    """The density of a mixture of Gaussians ``sum_k w_k N(x; means[k], stds[k]^2)``.

    ``weights`` default to equal weights; they must be non-negative and sum to 1.
    """
    means, stds = np.asarray(means, float), np.asarray(stds, float)
    if means.shape != stds.shape or means.ndim != 1 or means.size == 0:
        raise ValueError("means and stds must be 1-D sequences of the same, non-zero length")
    w = np.full(means.shape, 1.0 / means.size) if weights is None else np.asarray(weights, float)
    if w.shape != means.shape or np.any(w < 0) or not np.isclose(w.sum(), 1.0):
        raise ValueError("weights must be non-negative, one per component, and sum to 1")
    return sum(wk * normal_pdf(x, m, s) for wk, m, s in zip(w, means, stds, strict=True))


def integrate(values: object, x: object) -> float:
    """``∫ values(x) dx`` on the grid ``x`` by the trapezoid rule."""
    grid = _grid(x)
    values = np.asarray(values, dtype=np.float64)
    if values.shape != grid.shape:
        raise ValueError(f"values must be evaluated on the grid: shape {grid.shape}, got {values.shape}")
    return float(np.trapezoid(values, grid))


def kl(p: object, q: object, x: object) -> float:
    """``KL(p || q) = ∫ p log(p / q) dx`` for densities on the grid ``x`` (``inf`` if ``p`` is
    positive where ``q`` is 0)."""
    grid = _grid(x)
    p, q = _density(p, grid, "p"), _density(q, grid, "q")
    if np.any((p > 0) & (q == 0)):
        return float("inf")
    positive = p > 0
    integrand = np.zeros_like(p)
    integrand[positive] = p[positive] * (np.log(p[positive]) - np.log(q[positive]))
    return integrate(integrand, grid)


def jsd(p: object, q: object, x: object) -> float:
    """Jensen-Shannon divergence ``½ KL(p || m) + ½ KL(q || m)`` with ``m = (p + q) / 2``.

    Symmetric, between 0 (``p = q``) and ``log 2`` (disjoint supports); natural log. The
    ratio ``p / m`` is computed as ``2p / (p + q)``, so a tiny ``p`` whose half underflows to
    0 cannot turn the result into ``inf``.
    """
    grid = _grid(x)
    p, q = _density(p, grid, "p"), _density(q, grid, "q")
    total = p + q  # = 2m, positive wherever p or q is

    def kl_to_mixture(r: np.ndarray) -> float:
        keep = r > 0
        integrand = np.zeros_like(r)
        integrand[keep] = r[keep] * (np.log(2.0 * r[keep]) - np.log(total[keep]))  # r log(r / m)
        return integrate(integrand, grid)

    return 0.5 * kl_to_mixture(p) + 0.5 * kl_to_mixture(q)


def gan_value(d: object, p_data: object, p_g: object, x: object, *, logits: bool = False) -> float:
    """The GAN value function written over ``x``:
    ``V(D, G) = ∫ p_data(x) log D(x) + p_g(x) log(1 - D(x)) dx``.

    This equals ``E_{x~p_data} log D(x) + E_{z~p_z} log(1 - D(G(z)))`` when ``p_g`` is the
    density of ``G(z)``. ``d`` holds the discriminator's outputs ``D(x)`` in ``[0, 1]``, or,
    with ``logits=True``, its logits ``l`` (``D = sigmoid(l)``): then ``log D = -softplus(-l)``
    and ``log(1 - D) = -softplus(l)`` stay exact where ``D`` rounds to 0 or 1. With
    probabilities the value is ``-inf`` when ``D = 0`` where ``p_data > 0`` (or ``D = 1``
    where ``p_g > 0``).
    """
    grid = _grid(x)
    p_data, p_g = _density(p_data, grid, "p_data"), _density(p_g, grid, "p_g")
    d = np.asarray(d, dtype=np.float64)
    if d.shape != grid.shape:
        raise ValueError(f"d must be evaluated on the grid: shape {grid.shape}, got {d.shape}")
    if logits:
        if np.any(np.isnan(d)):
            raise ValueError("logits must not be NaN")
        with np.errstate(over="ignore"):
            log_d, log_1m_d = -np.logaddexp(0.0, -d), -np.logaddexp(0.0, d)
    else:
        if not np.all((d >= 0) & (d <= 1)):
            raise ValueError("d must hold probabilities in [0, 1] (pass logits=True for logits)")
        if np.any((p_data > 0) & (d == 0)) or np.any((p_g > 0) & (d == 1)):
            return float("-inf")
        with np.errstate(divide="ignore"):
            log_d, log_1m_d = np.log(d), np.log1p(-d)
    integrand = np.zeros_like(d)
    real, fake = p_data > 0, p_g > 0
    integrand[real] += p_data[real] * log_d[real]
    integrand[fake] += p_g[fake] * log_1m_d[fake]
    if not np.all(np.isfinite(integrand)):
        return float("-inf")
    return integrate(integrand, grid)
