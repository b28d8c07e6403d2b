"""One-dimensional densities on a grid, and the divergences the theory chapters are written in.

Maximum likelihood, the forward and reverse KL divergence, the optimal discriminator, the value
of the GAN game and the Jensen-Shannon divergence are all integrals over ``x``. In one dimension
they can be computed to many digits on a fine grid, which is how the chapters "Core concepts"
and "GAN theory" check every formula. Conventions, the same for every function here:

* ``x`` is a sorted 1-D grid (strictly increasing). A density is an array of the same shape,
  its values on the grid (not its logarithm). Integrals use the trapezoid rule, which
  converges very fast for smooth densities that vanish at both ends of the grid.
* ``0 log 0 = 0``: points where the first density is 0 contribute nothing to a KL divergence,
  and ``KL(p || q)`` is ``inf`` when ``p > 0`` somewhere ``q = 0``.
* Gaussian mixtures take their parameters in the order ``(weights, means, stds)``.
* All logarithms are natural: divergences and entropies are in nats.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

LOG_2PI = float(np.log(2 * np.pi))


# ---------------------------------------------------------------- input checks


def _grid(x: object) -> np.ndarray:
    grid = np.asarray(x, dtype=np.float64)
    if grid.ndim != 1 or grid.size < 2:
        raise ValueError(f"x must be a 1-D grid of at least 2 points, got shape {grid.shape}")
    if not np.all(np.isfinite(grid)) or not np.all(np.diff(grid) > 0):
        raise ValueError("x must be finite and strictly increasing")
    return grid


def _on_grid(values: object, grid: np.ndarray, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.shape != grid.shape:
        raise ValueError(f"{name} must be evaluated on the grid: shape {grid.shape}, got {array.shape}")
    return array


def _density(p: object, grid: np.ndarray, name: str) -> np.ndarray:
    values = _on_grid(p, grid, name)
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise ValueError(f"{name} must be finite and non-negative (a density on the grid)")
    return values


def _two_densities(
    p: object, q: object, x: object, names: tuple[str, str] = ("p", "q")
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The checked grid and two densities on it."""
    grid = _grid(x)
    return grid, _density(p, grid, names[0]), _density(q, grid, names[1])


def _positive(values: object, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if np.any(~np.isfinite(array)) or np.any(array <= 0):
        raise ValueError(f"{name} must be positive and finite, got {values!r}")
    return array


def _mixture_parameters(
    weights: Sequence[float], means: Sequence[float], stds: Sequence[float]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    weights, means = np.asarray(weights, dtype=np.float64), np.asarray(means, dtype=np.float64)
    stds = _positive(stds, "stds")
    if not (weights.shape == means.shape == stds.shape) or weights.ndim != 1 or weights.size == 0:
        raise ValueError("weights, means and stds must be 1-D sequences of the same length, not empty")
    if np.any(weights < 0) or not np.isclose(weights.sum(), 1.0):
        total = weights.sum()
        raise ValueError(f"mixture weights must be non-negative and sum to 1, they sum to {total:.6g}")
    return weights, means, stds


# ---------------------------------------------------------------- densities


def normal_logpdf(x: object, mean: float = 0.0, std: float = 1.0) -> np.ndarray:
    """``log N(x; mean, std^2)``, finite far in the tails where the density underflows to 0."""
    std = _positive(std, "std")
    u = (np.asarray(x, dtype=np.float64) - mean) / std
    return -0.5 * u**2 - np.log(std) - 0.5 * LOG_2PI


def normal_pdf(x: object, mean: float = 0.0, std: float = 1.0) -> np.ndarray:
    """The density of ``N(mean, std^2)`` at ``x``."""
    return np.exp(normal_logpdf(x, mean, std))


def mixture_logpdf(
    x: object, weights: Sequence[float], means: Sequence[float], stds: Sequence[float]
) -> np.ndarray:
    """``log sum_k w_k N(x; mu_k, s_k^2)`` of a 1-D Gaussian mixture (by logsumexp: finite in the tails)."""
    weights, means, stds = _mixture_parameters(weights, means, stds)
    x = np.asarray(x, dtype=np.float64)[..., None]
    with np.errstate(divide="ignore"):  # a weight of 0 gives log 0 = -inf, which logsumexp handles
        log_weights = np.log(weights)
    return special.logsumexp(log_weights + normal_logpdf(x, means, stds), axis=-1)


def mixture_pdf(
    x: object, weights: Sequence[float], means: Sequence[float], stds: Sequence[float]
) -> np.ndarray:
    """The density ``sum_k w_k N(x; mu_k, s_k^2)`` of a 1-D Gaussian mixture."""
    return np.exp(mixture_logpdf(x, weights, means, stds))


def mixture_moments(
    weights: Sequence[float], means: Sequence[float], stds: Sequence[float]
) -> tuple[float, float]:
    """Mean and standard deviation of a 1-D Gaussian mixture (law of total variance)."""
    w, m, s = _mixture_parameters(weights, means, stds)
    mean = float(np.sum(w * m))
    return mean, float(np.sqrt(np.sum(w * (s**2 + m**2)) - mean**2))


# ---------------------------------------------------------------- integrals on the grid


def integrate(values: object, x: object) -> float:
    """``∫ values(x) dx`` on the grid ``x`` by the trapezoid rule."""
    grid = _grid(x)
    return float(np.trapezoid(_on_grid(values, grid, "values"), grid))


def _log(density: np.ndarray) -> np.ndarray:
    """``log density`` with ``log 0 = -inf`` and no warning."""
    with np.errstate(divide="ignore"):
        return np.log(density)


def kl(
    p: object,
    q: object,
    x: object,
    *,
    log_p: object | None = None,
    log_q: object | None = None,
) -> float:
    """``KL(p || q) = ∫ p log(p / q) dx`` for densities on the grid ``x``.

    ``inf`` if ``p > 0`` where ``q = 0``. ``log_p`` / ``log_q`` optionally give exact
    logarithms (from a ``logpdf``): then tails count even where a density underflows to 0.
    """
    grid, p, q, log_p, log_q = _kl_arguments(p, q, x, log_p, log_q)
    positive = p > 0  # 0 log 0 = 0
    if np.any(positive & (log_q == -np.inf)):
        return float("inf")
    integrand = np.zeros_like(p)
    integrand[positive] = p[positive] * (log_p[positive] - log_q[positive])
    return integrate(integrand, grid)


def _kl_arguments(
    p: object, q: object, x: object, log_p: object | None, log_q: object | None
) -> tuple[np.ndarray, ...]:
    """The checked grid, densities and log-densities of :func:`kl`."""
    grid, p, q = _two_densities(p, q, x)
    log_p = _log(p) if log_p is None else _on_grid(log_p, grid, "log_p")
    log_q = _log(q) if log_q is None else _on_grid(log_q, grid, "log_q")
    return grid, p, q, log_p, log_q


def entropy(p: object, x: object) -> float:
    """Differential entropy ``H(p) = -∫ p log p dx`` on the grid ``x``."""
    grid = _grid(x)
    p = _density(p, grid, "p")
    positive = p > 0
    integrand = np.zeros_like(p)
    integrand[positive] = -p[positive] * np.log(p[positive])
    return integrate(integrand, grid)


def cross_entropy(p: object, q: object, x: object) -> float:
    """Cross-entropy ``-∫ p log q dx = H(p) + KL(p || q)``: the expected negative log-likelihood
    of q under p."""
    return entropy(p, x) + kl(p, q, x)


def kl_normal_normal(mean_p: float, std_p: float, mean_q: float, std_q: float) -> float:
    """Closed form ``KL(N(mean_p, std_p^2) || N(mean_q, std_q^2))`` of two 1-D Gaussians.

    (``genmodels.vae.gaussian_kl`` is the VAE's KL of a diagonal Gaussian to ``N(0, I)``.)
    """
    std_p, std_q = float(_positive(std_p, "std_p")), float(_positive(std_q, "std_q"))
    return float(np.log(std_q / std_p) + (std_p**2 + (mean_p - mean_q) ** 2) / (2 * std_q**2) - 0.5)


def jsd(p: object, q: object, x: object) -> float:
    """Jensen-Shannon divergence ``½ KL(p || m) + ½ KL(q || m)``, ``m = (p + q) / 2``.

    Between 0 (``p = q``) and ``log 2`` (disjoint supports). ``log(p / m)`` is computed
    as ``log 2p - log(p + q)``: a tiny ``p`` whose half underflows cannot make it ``inf``.
    """
    grid, p, q = _two_densities(p, q, x)
    total = p + q  # = 2m, positive wherever p or q is

    def kl_to_mixture(r: np.ndarray) -> float:
        keep = r > 0  # 0 log 0 = 0
        integrand = np.zeros_like(r)
        integrand[keep] = r[keep] * (np.log(2 * r[keep]) - np.log(total[keep]))
        return integrate(integrand, grid)

    return 0.5 * kl_to_mixture(p) + 0.5 * kl_to_mixture(q)


def gan_value(
    d: object,
    p_data: object,
    p_g: object,
    x: object,
    *,
    logits: bool = False,
) -> float:
    """The GAN value ``V(D, G) = ∫ p_data log D + p_g log(1 - D) dx`` on the grid ``x``.

    Equals ``E_{p_data} log D(x) + E_{p_z} log(1 - D(G(z)))`` when ``p_g`` is the density
    of ``G(z)``. ``d`` holds ``D(x)`` in ``[0, 1]``, or with ``logits=True`` the logits
    ``l`` of ``D = σ(l)``: then ``log D = -softplus(-l)`` and
    ``log(1 - D) = -softplus(l)`` stay exact where ``D`` rounds to 0 or 1. The value is
    ``-inf`` when ``D = 0`` where ``p_data > 0``, or ``D = 1`` where ``p_g > 0``.
    """
    grid, p_data, p_g = _two_densities(p_data, p_g, x, names=("p_data", "p_g"))
    log_d, log_1m_d = _log_d_and_log_1m_d(d, grid, logits)
    integrand = np.zeros_like(log_d)
    real, fake = p_data > 0, p_g > 0  # 0 log 0 = 0
    integrand[real] += p_data[real] * log_d[real]
    integrand[fake] += p_g[fake] * log_1m_d[fake]
    if not np.all(np.isfinite(integrand)):
        return float("-inf")
    return integrate(integrand, grid)


def _log_d_and_log_1m_d(d: object, grid: np.ndarray, logits: bool) -> tuple[np.ndarray, np.ndarray]:
    """``(log D, log(1 - D))`` on the grid, from probabilities or (``logits=True``) logits."""
    d = _on_grid(d, grid, "d")
    if logits:
        if np.any(np.isnan(d)):
            raise ValueError("logits must not be NaN")
        with np.errstate(over="ignore"):
            return -np.logaddexp(0.0, -d), -np.logaddexp(0.0, d)
    if not np.all((d >= 0) & (d <= 1)):
        raise ValueError("d must hold probabilities in [0, 1] (pass logits=True for logits)")
    with np.errstate(divide="ignore"):
        return np.log(d), np.log1p(-d)


# ---------------------------------------------------------------- Gaussian fits


@dataclass(frozen=True)
class GaussianFit:
    """Result of :func:`fit_gaussian`: the best ``N(mean, std^2)`` and its divergence (nats)."""

    mean: float
    std: float
    divergence: float
    direction: str
    success: bool


def fit_gaussian(
    p: np.ndarray | Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    direction: str = "forward",
    init: tuple[float, float] = (0.0, 1.0),
) -> GaussianFit:
    """The Gaussian ``q = N(m, s^2)`` minimising a KL divergence to the density ``p``.

    ``p``: the density on the grid ``x``, or a function that evaluates it.
    ``direction="forward"`` minimises ``KL(p || q)``, as maximum likelihood does: q must
    cover wherever p has mass. ``direction="reverse"`` minimises ``KL(q || p)``: q may
    ignore parts of p but must avoid places where p is small. Nelder-Mead on
    ``(m, log s)`` from ``init = (m0, s0)``; the reverse KL of a multimodal ``p`` has
    several local minima, so the result depends on ``init``.
    """
    grid, p, (m0, s0) = _fit_arguments(p, x, direction, init)

    def objective(theta: np.ndarray) -> float:
        # log q exactly: the tails of q count even where q itself underflows to 0
        log_q = normal_logpdf(grid, theta[0], float(np.exp(theta[1])))
        q = np.exp(log_q)
        forward = direction == "forward"
        value = kl(p, q, grid, log_q=log_q) if forward else kl(q, p, grid, log_p=log_q)
        return value if np.isfinite(value) else 1e300

    result = optimize.minimize(
        objective,
        np.array([m0, np.log(s0)]),
        method="Nelder-Mead",
        options={"xatol": 1e-9, "fatol": 1e-12, "maxiter": 4000},
    )
    mean, std = float(result.x[0]), float(np.exp(result.x[1]))
    return GaussianFit(mean, std, float(result.fun), direction, bool(result.success))


def _fit_arguments(
    p: object, x: object, direction: str, init: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray, tuple[float, float]]:
    """The checked grid, density on it and start ``(m0, s0)`` of :func:`fit_gaussian`."""
    if direction not in ("forward", "reverse"):
        raise ValueError(f"direction must be 'forward' or 'reverse', got {direction!r}")
    grid = _grid(x)
    density = _density(p(grid) if callable(p) else p, grid, "p")
    return grid, density, (float(init[0]), float(_positive(init[1], "initial std")))
