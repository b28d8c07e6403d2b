"""Checks for the exercises of the chapter "Core concepts".

Every check returns a :class:`~genmodels.exercises.core.CheckResult`; none raises on a wrong
answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import special, stats

from genmodels import densities
from genmodels.exercises.core import CheckResult, check_function, describe_error, not_a_function


def _reference_posterior(x: np.ndarray, priors: np.ndarray, means: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """p(y = k | x) for Gaussian classes N(means[k], cov) with prior priors[k], via logsumexp."""
    x, means = np.atleast_2d(x), np.atleast_2d(means)
    precision = np.linalg.inv(cov)
    diff = x[:, None, :] - means[None, :, :]
    log_joint = -0.5 * np.einsum("nki,ij,nkj->nk", diff, precision, diff) + np.log(priors)
    return np.exp(log_joint - special.logsumexp(log_joint, axis=1, keepdims=True))


def check_posterior(function: Callable[..., Any] | None) -> CheckResult:
    """Exercise 1: ``function(x, priors, means, cov)`` -> ``p(y = k | x)``, shape ``(N, K)``, for
    K Gaussian classes sharing one covariance."""
    rng = np.random.default_rng(5)
    two = (np.array([0.6, 0.4]), np.array([[-1.0, 0.0], [1.0, 0.5]]), np.array([[1.0, 0.3], [0.3, 0.5]]))
    three = (
        np.array([0.2, 0.5, 0.3]),
        np.array([[0.0, 2.0], [-2.0, -1.0], [2.0, -1.0]]),
        np.array([[0.8, 0.0], [0.0, 0.8]]),
    )
    far = np.array([[40.0, -35.0], [-60.0, 10.0]])  # exp(log-density) underflows to 0 here
    cases = []
    for x, params in [
        (rng.normal(size=(6, 2)), two),
        (rng.normal(scale=2.0, size=(8, 2)), three),
        (far, two),
    ]:
        cases.append(((x, *params), _reference_posterior(x, *params)))
    return check_function(
        "posterior of a Gaussian class model",
        function,
        cases,
        rtol=1e-6,
        atol=1e-9,
        hint="p(y=k|x) = π_k N(x; μ_k, Σ) / Σ_j π_j N(x; μ_j, Σ). Compute log π_k + log N(x; μ_k, Σ) "
        "for every class and normalise with scipy.special.logsumexp (or softmax): in case 3 the "
        "densities themselves are 0.0 in floating point, and 0/0 is NaN.",
    )


def check_kl_normal_normal(function: Callable[[float, float, float, float], Any] | None) -> CheckResult:
    """Exercise 2: ``function(m1, s1, m2, s2)`` -> ``KL(N(m1, s1²) || N(m2, s2²))`` in closed form."""
    params = [
        (0.0, 1.0, 0.0, 1.0),
        (0.0, 1.0, 1.0, 1.0),
        (1.0, 0.5, -1.0, 2.0),
        (-1.0, 2.0, 1.0, 0.5),
        (3.0, 0.1, 3.0, 1.0),
    ]
    cases = [(p, densities.kl_normal_normal(*p)) for p in params]
    return check_function(
        "KL between two Gaussians",
        function,
        cases,
        rtol=1e-8,
        atol=1e-10,
        hint="KL(p||q) = E_p[log p - log q]; with log N(x; m, s²) = -(x-m)²/(2s²) - log s - ½ log 2π "
        "and E_p[(x - m2)²] = s1² + (m1 - m2)², you get log(s2/s1) + (s1² + (m1-m2)²)/(2 s2²) - ½. "
        "It is not symmetric: cases 3 and 4 swap p and q.",
    )


def _reference_moment_match(weights, means, stds) -> np.ndarray:
    w, m, s = (np.asarray(v, dtype=float) for v in (weights, means, stds))
    mean = np.sum(w * m)
    return np.array([mean, np.sqrt(np.sum(w * (s**2 + m**2)) - mean**2)])


def check_forward_kl_fit(function: Callable[..., Any] | None) -> CheckResult:
    """Exercise 3: ``function(weights, means, stds)`` -> ``(m, s)`` of the Gaussian that minimises
    ``KL(p || N(m, s²))`` for the 1-D Gaussian mixture ``p``."""
    mixtures = [
        ([0.5, 0.5], [-2.0, 2.0], [0.5, 0.5]),
        ([1.0], [0.7], [1.3]),
        ([0.2, 0.3, 0.5], [-4.0, 0.0, 3.0], [0.3, 1.0, 0.6]),
    ]
    cases = [
        ((np.array(w), np.array(m), np.array(s)), _reference_moment_match(w, m, s)) for w, m, s in mixtures
    ]
    return check_function(
        "forward-KL Gaussian fit",
        function,
        cases,
        rtol=1e-8,
        atol=1e-10,
        hint="minimising KL(p||q) over Gaussians q matches the moments: m = E_p[x] and s² = Var_p[x]. "
        "For a mixture, E[x] = Σ w_k μ_k and E[x²] = Σ w_k (s_k² + μ_k²); return (m, s) with s the "
        "standard deviation, not the variance.",
    )


def check_logistic_generator(function: Callable[[np.ndarray], Any] | None) -> CheckResult:
    """Exercise 4: a deterministic ``G`` with ``G(z) ~ Logistic(0, 1)`` when ``z ~ N(0, 1)``."""
    name = "a generator for the logistic distribution"
    if (feedback := not_a_function(name, function)) is not None:
        return feedback
    n = 20_000
    z = np.random.default_rng(2024).standard_normal(n)
    extreme = np.array([-9.0, -6.0, 0.0, 6.0, 9.0])
    try:
        with np.errstate(all="ignore"):
            x = np.asarray(function(z.copy()), dtype=np.float64)
            x_again = np.asarray(function(z.copy()), dtype=np.float64)
            x_extreme = np.asarray(function(extreme.copy()), dtype=np.float64)
    except NotImplementedError:
        return CheckResult(name, False, "not answered yet: the function still raises NotImplementedError.")
    except Exception as error:
        return CheckResult(name, False, f"calling G(z) raised {describe_error(error)}.")
    if x.shape != z.shape:
        return CheckResult(
            name, False, f"G should map z of shape {z.shape} to x of the same shape, got {x.shape}."
        )
    if not np.array_equal(x, x_again, equal_nan=True):
        return CheckResult(
            name,
            False,
            "G(z) gave different outputs for the same z: a generator is a deterministic function; "
            "all the randomness must come from z.",
        )
    hint = (
        "push z through the normal CDF Φ to get u ~ Uniform(0, 1), then through the logistic "
        "quantile function log(u / (1 - u)). For |z| = 9, Φ(z) rounds to 1 and 1 - u to 0: use "
        "scipy.special.log_ndtr, log u - log(1 - u) = log_ndtr(z) - log_ndtr(-z)."
    )
    if not np.all(np.isfinite(x_extreme)):
        return CheckResult(name, False, f"G(±6) or G(±9) is not finite. Hint: {hint}")
    statistic = float(stats.kstest(x, stats.logistic.cdf).statistic)
    critical = 1.63 / np.sqrt(n)  # Kolmogorov-Smirnov at the 1% level
    if statistic > critical:
        return CheckResult(
            name,
            False,
            f"the samples do not follow Logistic(0, 1): the largest gap between their CDF and the "
            f"logistic CDF is {statistic:.4f} (a correct G stays below {critical:.4f}). Hint: {hint}",
        )
    return CheckResult(
        name, True, f"passed: deterministic, and the KS distance is {statistic:.4f} < {critical:.4f}."
    )


def _gaussian_classes_log_likelihood(x: np.ndarray, y: np.ndarray, priors, means, covs) -> float:
    """Average ``log p(x, y)`` of labelled points under Gaussian classes, one covariance per class."""
    total = 0.0
    for k in range(len(priors)):
        chosen = x[y == k]
        total += np.sum(np.log(priors[k]) + stats.multivariate_normal(means[k], covs[k]).logpdf(chosen))
    return float(total / len(x))


def _reference_separate_fit(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    classes = np.arange(y.max() + 1)
    priors = np.array([np.mean(y == k) for k in classes])
    means = np.array([x[y == k].mean(axis=0) for k in classes])
    covs = np.array([np.cov(x[y == k].T, bias=True) for k in classes])
    return priors, means, covs


def _sample_unequal_classes(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two classes whose covariances differ (a wide, tilted one and a narrow one)."""
    y = (rng.random(n) < 0.45).astype(int)
    chol = [np.linalg.cholesky(np.array([[2.0, 1.2], [1.2, 1.5]])), np.linalg.cholesky(0.15 * np.eye(2))]
    means = np.array([[0.0, 0.0], [1.5, -0.5]])
    noise = rng.standard_normal((n, 2))
    x = np.where(y[:, None] == 0, noise @ chol[0].T, noise @ chol[1].T) + means[y]
    return x, y


def check_separate_covariances(function: Callable[[np.ndarray, np.ndarray], Any] | None) -> CheckResult:
    """Exercise 5: ``function(x, y)`` -> ``(priors, means, covs)``, the maximum-likelihood fit of
    Gaussian classes with one covariance per class (``covs`` of shape ``(K, d, d)``)."""
    name = "Gaussian classes with their own covariances"
    if (feedback := not_a_function(name, function)) is not None:
        return feedback
    rng = np.random.default_rng(42)
    x_train, y_train = _sample_unequal_classes(600, rng)
    x_test, y_test = _sample_unequal_classes(20_000, rng)
    hint = (
        "fit each class on its own points: its frequency, its mean, and its covariance with 1/N_k "
        "(np.cov(points.T, bias=True), or centred.T @ centred / N_k); stack the K covariances "
        "into an array of shape (K, d, d)."
    )
    reference = _reference_separate_fit(x_train, y_train)
    cases = [((x_train.copy(), y_train.copy()), np.concatenate([r.ravel() for r in reference]))]

    def flattened(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        priors, means, covs = function(x, y)
        return np.concatenate([np.ravel(v) for v in (priors, means, covs)])

    result = check_function(name, flattened, cases, rtol=1e-8, atol=1e-10, hint=hint)
    if not result:
        return result
    shared_cov = sum(
        reference[0][k] * reference[2][k] for k in range(len(reference[0]))
    )  # the pooled covariance: the chapter's model
    separate = _gaussian_classes_log_likelihood(x_test, y_test, *reference)
    shared = _gaussian_classes_log_likelihood(x_test, y_test, reference[0], reference[1], [shared_cov] * 2)
    return CheckResult(
        name,
        True,
        f"passed: on 20,000 test points the average log p(x, y) is {separate:.3f} nats with one "
        f"covariance per class, {shared:.3f} with the shared one.",
    )
