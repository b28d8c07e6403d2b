"""Checks for the exercises of the chapter "GAN theory".

Every check returns a :class:`~genmodels.exercises.core.CheckResult` and never raises on a
wrong answer. References are computed by :mod:`genmodels.divergences` or in closed form.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from genmodels import divergences
from genmodels.exercises.core import CheckResult, check_function


def _sigmoid(u: np.ndarray) -> np.ndarray:
    """A logistic sigmoid that does not overflow: exp of a non-positive number only."""
    u = np.asarray(u, dtype=np.float64)
    e = np.exp(-np.abs(u))
    return np.where(u >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def check_jsd(function: Callable[[np.ndarray, np.ndarray, np.ndarray], Any] | None) -> CheckResult:
    """Exercise 1: ``function(p, q, x)`` -> the Jensen-Shannon divergence of two densities on a grid."""
    x = np.linspace(-10.0, 10.0, 4001)
    n = divergences.normal_pdf
    uniform = np.where((x >= 0) & (x <= 1), 1.0, 0.0)
    shifted = np.where((x >= 3) & (x <= 4), 1.0, 0.0)
    overlapping = np.where((x >= 0.5) & (x <= 1.5), 1.0, 0.0)
    pairs = [
        (n(x, 0.0, 1.0), n(x, 1.0, 1.0)),
        (n(x, 0.0, 1.0), n(x, 0.0, 1.0)),
        (n(x, -1.0, 0.5), divergences.mixture_pdf(x, [-2.0, 2.0], [0.7, 1.0], [0.3, 0.7])),
        (uniform, shifted),  # disjoint supports: log 2
        (uniform, overlapping),  # zeros on both sides: 0 log 0 = 0
    ]
    cases = [((p, q, x), divergences.jsd(p, q, x)) for p, q in pairs]
    return check_function(
        "Jensen-Shannon divergence",
        function,
        cases,
        rtol=1e-6,
        atol=1e-9,
        hint="JSD = ½ KL(p || m) + ½ KL(q || m) with m = (p + q) / 2; integrate with "
        "np.trapezoid(values, x); skip the points where the first density is 0 (0 log 0 = 0). "
        "Case 4 has disjoint supports, where the answer is log 2.",
    )


def _reference_logit(x, mu_data, std_data, mu_g, std_g) -> np.ndarray:
    return divergences.normal_logpdf(x, mu_data, std_data) - divergences.normal_logpdf(x, mu_g, std_g)


def check_optimal_logit(function: Callable[..., Any] | None) -> CheckResult:
    """Exercise 2: ``function(x, mu_data, std_data, mu_g, std_g)`` -> the logit of ``D*``
    for two Gaussians, finite even where both densities underflow to 0."""
    cases = []
    for x, params in [
        (np.linspace(-3.0, 3.0, 13), (0.0, 1.0, 1.0, 1.0)),
        (np.linspace(-4.0, 6.0, 11), (0.0, 1.0, 2.0, 1.5)),
        (np.array([-60.0, -40.0, 40.0, 60.0]), (0.0, 1.0, 1.0, 2.0)),  # both densities are 0.0
    ]:
        cases.append(((x, *params), _reference_logit(x, *params)))
    return check_function(
        "logit of the optimal discriminator",
        function,
        cases,
        rtol=1e-9,
        atol=1e-9,
        hint="D* = p_data / (p_data + p_g) = sigmoid(log p_data - log p_g): the logit is a "
        "difference of log-densities. Write log N(x; mu, std^2) = -(x - mu)^2 / (2 std^2) - "
        "log std - ½ log 2π directly; at x = 40 the densities themselves underflow to 0.",
    )


def check_generator_gradients(function: Callable[[np.ndarray], Any] | None) -> CheckResult:
    """Exercise 3: ``function(l)`` -> ``(d/dl log(1 - σ(l)), d/dl -log σ(l))``, elementwise."""
    cases = []
    for logits in (np.array([0.0]), np.linspace(-8.0, 8.0, 17), np.array([-800.0, -40.0, 40.0, 800.0])):
        cases.append(((logits,), np.stack([-_sigmoid(logits), -_sigmoid(-logits)])))
    return check_function(
        "generator-loss gradients",
        function,
        cases,
        rtol=1e-7,
        atol=1e-12,
        hint="return a pair (minimax, non_saturating) of arrays shaped like l: "
        "d/dl log(1 - σ(l)) = -σ(l) and d/dl -log σ(l) = -(1 - σ(l)) = -σ(-l). "
        "np.exp(800) overflows: use scipy.special.expit or exp of -|l| only.",
    )


def _reference_article_d(p_data: np.ndarray, p_g: np.ndarray) -> np.ndarray:
    p_data, p_g = np.asarray(p_data, float), np.asarray(p_g, float)
    ratio = np.divide(p_g, p_data, out=np.full_like(p_data, np.inf), where=p_data > 0)
    return np.maximum(0.0, 1.0 - ratio)


def check_article_discriminator(function: Callable[[np.ndarray, np.ndarray], Any] | None) -> CheckResult:
    """Exercise 4: ``function(p_data, p_g)`` -> the pointwise maximiser over ``y`` in ``[0, 1)``
    of the article's objective ``p_data * y + p_g * log(1 - y)`` (its missing log)."""
    x = np.linspace(-4.0, 4.0, 41)
    cases = [
        ((np.array([1.0, 0.5, 0.2]), np.array([0.5, 0.5, 0.4])), None),  # D = 0 where p_g >= p_data
        ((divergences.normal_pdf(x, 0.0, 1.0), divergences.normal_pdf(x, 1.0, 1.5)), None),
        ((np.array([0.3, 0.0, 0.7]), np.array([0.0, 0.2, 0.7])), None),  # p_g = 0 and p_data = 0
    ]
    cases = [(args, _reference_article_d(*args)) for args, _ in cases]
    return check_function(
        "maximiser of the article's discriminator objective",
        function,
        cases,
        rtol=1e-9,
        atol=1e-12,
        hint="f(y) = a y + b log(1 - y) is concave; f'(y) = a - b / (1 - y) vanishes at "
        "y = 1 - b / a, which lies in [0, 1) only when b <= a; otherwise f decreases on [0, 1) "
        "and the maximum is at y = 0. Where p_data = 0 the answer is 0 (mind the division).",
    )
