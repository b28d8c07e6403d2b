"""Checks for the exercises of the chapter "VAE theory".

Each check calls the reader's function on a few cases, compares with a reference computed
here, and never raises: a wrong answer becomes a :class:`~genmodels.exercises.core.CheckResult`
with what is wrong and a hint. When a wrong answer matches a classic mistake (a forgotten
``1/2``, ``sigma^2`` or ``- log k``), the hint names that mistake.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy.special import logsumexp

from genmodels.exercises.core import (
    CheckResult,
    _as_array,
    call_answer,
    check_function,
    not_a_function,
)


def _named_mistake(
    function: Callable[..., Any], cases: Sequence[tuple[tuple[Any, ...], dict[str, Any]]]
) -> str | None:
    """The name of the first classic mistake whose values the reader's answers reproduce.

    ``cases`` holds ``(args, {mistake description: value that mistake gives})``; a mistake is
    named only when it explains every case. Exceptions mean "no diagnosis" (never raised).
    """
    candidates: dict[str, bool] = {}
    for args, mistakes in cases:
        try:
            answer = _as_array(function(*args))
        except Exception:
            return None
        for description, value in mistakes.items():
            want = np.asarray(value, dtype=np.float64)
            same = answer is not None and answer.shape == want.shape and np.allclose(answer, want, rtol=1e-6)
            candidates[description] = candidates.get(description, True) and bool(same)
    return next((description for description, ok in candidates.items() if ok), None)


def _with_diagnosis(result: CheckResult, mistake: str | None) -> CheckResult:
    """``result``, with the named mistake added to the message of a failed check."""
    if result.passed or mistake is None:
        return result
    return CheckResult(result.name, False, f"{result.message} It looks like {mistake}.")


# ---------------------------------------------------------------- exercise 1: the Gaussian KL


def _kl(mean: np.ndarray, log_var: np.ndarray) -> np.ndarray:
    return 0.5 * np.sum(np.exp(log_var) + mean**2 - 1.0 - log_var, axis=-1)


def check_kl_to_standard_normal(function: Callable[[np.ndarray, np.ndarray], Any] | None) -> CheckResult:
    """Exercise: ``function(mean, log_var)`` -> ``KL(N(mean, diag exp(log_var)) || N(0, I))``.

    Inputs have shape ``(..., k)``; the answer has shape ``(...)`` (summed over the last axis).
    """
    rng = np.random.default_rng(21)
    inputs = [
        (np.zeros(3), np.zeros(3)),
        (np.array([1.0, -2.0]), np.array([0.0, 0.0])),
        (np.zeros(2), np.log(np.array([4.0, 0.25]))),
        (rng.normal(size=(5, 4)), rng.normal(size=(5, 4))),
    ]
    cases = [(args, _kl(*args)) for args in inputs]
    result = check_function(
        "KL to the standard normal",
        function,
        cases,
        rtol=1e-6,
        atol=1e-9,
        hint="per latent dimension the KL is 0.5 * (sigma^2 + mu^2 - 1 - log sigma^2) with "
        "sigma^2 = exp(log_var); sum over the LAST axis only, so a batch (N, k) gives (N,).",
    )
    mistakes = [
        (
            args,
            {
                "the factor 1/2 is missing": 2 * _kl(*args),
                "the '- 1' is missing (the KL of equal Gaussians must be 0)": _kl(*args)
                + 0.5 * args[0].shape[-1],
                "log_var was used as the standard deviation or the variance": 0.5
                * np.sum(args[1] + args[0] ** 2 - 1.0 - np.log(np.abs(args[1]) + 1e-300), axis=-1),
                "exp(log_var / 2) (the standard deviation) was used where exp(log_var) belongs": 0.5
                * np.sum(np.exp(args[1] / 2) + args[0] ** 2 - 1.0 - args[1], axis=-1),
            },
        )
        for args in inputs[1:]
    ]
    return _with_diagnosis(result, None if result.passed else _named_mistake(function, mistakes))


# ---------------------------------------------------------------- exercise 2: the PPCA posterior


def _posterior(x: np.ndarray, W: np.ndarray, b: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    M = W.T @ W + sigma**2 * np.eye(W.shape[1])
    return np.linalg.solve(M, W.T @ (x - b)), sigma**2 * np.linalg.inv(M)


def check_ppca_posterior(
    function: Callable[[np.ndarray, np.ndarray, np.ndarray, float], Any] | None,
) -> CheckResult:
    """Exercise: ``function(x, W, b, sigma)`` -> ``(mean (k,), cov (k, k))`` of ``p(z|x)``."""
    name = "PPCA posterior"
    if (feedback := not_a_function(name, function)) is not None:
        return feedback
    rng = np.random.default_rng(22)
    inputs = []
    for d, k, sigma in ((3, 1, 0.5), (5, 2, 0.8), (4, 3, 1.5)):
        inputs.append((rng.normal(size=d), rng.normal(size=(d, k)), rng.normal(size=d), sigma))
    for number, args in enumerate(inputs, start=1):
        x, W, b, sigma = args
        answer, feedback = call_answer(name, function, args, number)
        if feedback is not None:
            return feedback
        if not (isinstance(answer, (tuple, list)) and len(answer) == 2):
            return CheckResult(name, False, "return a pair (mean, cov): `return mean, cov`.")
        mean, cov = (_as_array(a) for a in answer)
        want_mean, want_cov = _posterior(*args)
        M = W.T @ W + sigma**2 * np.eye(W.shape[1])
        if mean is None or mean.shape != want_mean.shape:
            got = None if mean is None else mean.shape
            return CheckResult(
                name, False, f"case {number}: the mean must have shape {want_mean.shape}, got {got}."
            )
        if cov is None or cov.shape != want_cov.shape:
            got = None if cov is None else cov.shape
            return CheckResult(
                name, False, f"case {number}: the covariance must be {want_cov.shape}, got {got}."
            )
        if not np.allclose(mean, want_mean, rtol=1e-6, atol=1e-9):
            hint = "M = W^T W + sigma^2 I_k and mean = M^-1 W^T (x - b)."
            if np.allclose(mean, np.linalg.solve(M, W.T @ x), rtol=1e-6):
                hint = "the offset b is missing: the mean is M^-1 W^T (x - b)."
            elif np.allclose(mean, np.linalg.solve(W.T @ W, W.T @ (x - b)), rtol=1e-6):
                hint = "sigma^2 I is missing from M (that is the least-squares solution, not the posterior)."
            return CheckResult(name, False, f"case {number}: the mean is wrong. Hint: {hint}")
        if not np.allclose(cov, want_cov, rtol=1e-6, atol=1e-9):
            hint = "the covariance is sigma^2 M^-1."
            if np.allclose(cov, np.linalg.inv(M), rtol=1e-6):
                hint = "the factor sigma^2 is missing: the covariance is sigma^2 M^-1."
            return CheckResult(name, False, f"case {number}: the covariance is wrong. Hint: {hint}")
    return CheckResult(name, True, f"passed all {len(inputs)} cases.")


# ---------------------------------------------------------------- exercise 3: REINFORCE


def check_score_function_estimates(
    function: Callable[[np.ndarray, np.ndarray, float, float, float], Any] | None,
) -> CheckResult:
    """Exercise: ``function(f_values, z, mu, sigma, baseline)`` -> per-sample score-function
    estimates of ``d/dmu E_{z ~ N(mu, sigma^2)} f(z)``, shape ``(n,)``."""
    rng = np.random.default_rng(23)
    inputs = []
    for mu, sigma, baseline in ((0.0, 1.0, 0.0), (1.5, 0.5, 0.0), (-1.0, 2.0, 3.0)):
        z = mu + sigma * rng.normal(size=8)
        inputs.append((z**2, z, mu, sigma, baseline))

    def reference(f, z, mu, sigma, baseline):
        return (f - baseline) * (z - mu) / sigma**2

    cases = [(args, reference(*args)) for args in inputs]
    result = check_function(
        "score-function estimates",
        function,
        cases,
        rtol=1e-6,
        hint="d/dmu log N(z; mu, sigma^2) = (z - mu) / sigma^2; multiply it by f(z) - baseline, "
        "one estimate per sample (do not average).",
    )
    mistakes = [
        (
            args,
            {
                "the score was divided by sigma instead of sigma^2": reference(*args) * args[3],
                "the baseline was not subtracted": args[0] * (args[1] - args[2]) / args[3] ** 2,
                "the estimates were averaged (return one per sample)": np.full(
                    len(args[1]), reference(*args).mean()
                ),
            },
        )
        for args in inputs[1:]
    ]
    return _with_diagnosis(result, None if result.passed else _named_mistake(function, mistakes))


# ---------------------------------------------------------------- exercise 4: the IW bound


def check_iw_bound(function: Callable[[np.ndarray], Any] | None) -> CheckResult:
    """Exercise: ``function(log_w)`` with ``log_w`` of shape ``(k, n)`` -> ``L_k`` per column, ``(n,)``."""
    rng = np.random.default_rng(24)
    inputs = [
        np.log(np.array([[1.0], [3.0]])),
        rng.normal(size=(10, 4)),
        rng.normal(size=(1, 3)),
        rng.normal(size=(50, 2)) - 1000.0,  # exp underflows to 0
        rng.normal(size=(5, 2)) + 800.0,  # exp overflows to inf
    ]
    cases = [((log_w,), logsumexp(log_w, axis=0) - np.log(log_w.shape[0])) for log_w in inputs]
    result = check_function(
        "importance-weighted bound",
        function,
        cases,
        rtol=1e-8,
        atol=1e-8,
        hint="L_k = log((1/k) sum_i w_i) = logsumexp(log_w, axis=0) - log k; scipy.special.logsumexp "
        "(or subtracting the column maximum before exp) keeps log-weights of -1000 or +800 finite.",
    )
    average_of_logs = "the average of log w was returned (an ELBO estimate: the bound for k = 1)"
    no_log_k = "the '- log k' is missing (log of the SUM of the weights, not of their mean)"
    mistakes = [
        ((log_w,), {average_of_logs: log_w.mean(axis=0), no_log_k: logsumexp(log_w, axis=0)})
        for log_w in inputs[1:3]
    ]
    return _with_diagnosis(result, None if result.passed else _named_mistake(function, mistakes))
