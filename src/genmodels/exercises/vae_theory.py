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


# ---------------------------------------------------------------- exercise 1: KL of two diagonal Gaussians


def _diagonal_kl(
    mean0: np.ndarray, log_var0: np.ndarray, mean1: np.ndarray, log_var1: np.ndarray
) -> np.ndarray:
    ratio = np.exp(log_var0 - log_var1)
    return 0.5 * np.sum(
        ratio + (mean1 - mean0) ** 2 / np.exp(log_var1) - 1.0 - (log_var0 - log_var1), axis=-1
    )


def check_diagonal_gaussian_kl(
    function: Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], Any] | None,
) -> CheckResult:
    """Exercise: ``function(mean0, log_var0, mean1, log_var1)`` ->
    ``KL(N(mean0, diag exp(log_var0)) || N(mean1, diag exp(log_var1)))``.

    Inputs have shape ``(..., k)``; the answer has shape ``(...)`` (summed over the last axis).
    """
    rng = np.random.default_rng(21)
    inputs = [
        (np.zeros(3), np.zeros(3), np.zeros(3), np.zeros(3)),
        (np.array([1.0, -2.0]), np.zeros(2), np.zeros(2), np.zeros(2)),
        (np.zeros(2), np.log(np.array([4.0, 0.25])), np.zeros(2), np.zeros(2)),
        (
            np.array([0.5, 1.0]),
            np.log(np.array([0.5, 2.0])),
            np.array([-1.0, 2.0]),
            np.log(np.array([3.0, 0.2])),
        ),
        tuple(rng.normal(size=(5, 4)) for _ in range(4)),
    ]
    cases = [(args, _diagonal_kl(*args)) for args in inputs]
    result = check_function(
        "KL between diagonal Gaussians",
        function,
        cases,
        rtol=1e-6,
        atol=1e-9,
        hint="work one latent dimension at a time: E_q0[log q0(z) - log q1(z)] for two 1-D "
        "Gaussians; with mean1 = 0 and log_var1 = 0 the result must be the VAE's KL term. Sum "
        "over the LAST axis only, so a batch (N, k) gives (N,).",
    )
    mistakes = [
        (
            args,
            {
                "the two Gaussians were swapped (the KL is not symmetric)": _diagonal_kl(
                    args[2], args[3], args[0], args[1]
                ),
                "the factor 1/2 is missing": 2 * _diagonal_kl(*args),
                "the '- 1' is missing (the KL of equal Gaussians must be 0)": _diagonal_kl(*args)
                + 0.5 * args[0].shape[-1],
                "the squared mean difference was not divided by the second variance": _diagonal_kl(*args)
                + 0.5 * np.sum((args[2] - args[0]) ** 2 * (1 - 1 / np.exp(args[3])), axis=-1),
            },
        )
        for args in inputs[3:]
    ]
    return _with_diagnosis(result, None if result.passed else _named_mistake(function, mistakes))


# ---------------------------------------------------------------- exercise 2: the factor-analysis posterior


def _fa_posterior(
    x: np.ndarray, W: np.ndarray, b: np.ndarray, noise_var: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    scaled_W = W / noise_var[:, None]  # Psi^-1 W
    cov = np.linalg.inv(np.eye(W.shape[1]) + W.T @ scaled_W)
    return cov @ scaled_W.T @ (x - b), cov


def check_factor_analysis_posterior(
    function: Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], Any] | None,
) -> CheckResult:
    """Exercise: ``function(x, W, b, noise_var)`` -> ``(mean (k,), cov (k, k))`` of ``p(z|x)`` for
    ``z ~ N(0, I_k)``, ``x|z ~ N(W z + b, diag(noise_var))``."""
    name = "factor-analysis posterior"
    if (feedback := not_a_function(name, function)) is not None:
        return feedback
    rng = np.random.default_rng(22)
    inputs = []
    for d, k in ((3, 1), (5, 2), (4, 3)):
        noise_var = np.exp(rng.normal(size=d))
        inputs.append((rng.normal(size=d), rng.normal(size=(d, k)), rng.normal(size=d), noise_var))
    for number, args in enumerate(inputs, start=1):
        x, W, b, noise_var = args
        answer, feedback = call_answer(name, function, args, number)
        if feedback is not None:
            return feedback
        if not (isinstance(answer, (tuple, list)) and len(answer) == 2):
            return CheckResult(name, False, "return a pair (mean, cov): `return mean, cov`.")
        mean, cov = (_as_array(a) for a in answer)
        want_mean, want_cov = _fa_posterior(*args)
        for got, want, what in ((mean, want_mean, "mean"), (cov, want_cov, "covariance")):
            if got is None or got.shape != want.shape:
                shape = None if got is None else got.shape
                return CheckResult(
                    name, False, f"case {number}: the {what} must have shape {want.shape}, got {shape}."
                )
        average = float(np.mean(noise_var))
        ppca_mean, ppca_cov = _fa_posterior(x, W, b, np.full_like(noise_var, average))
        if np.allclose(mean, ppca_mean, rtol=1e-6) and np.allclose(cov, ppca_cov, rtol=1e-6):
            return CheckResult(
                name,
                False,
                f"case {number}: this is the PPCA posterior with one averaged noise variance; here "
                "every coordinate of x has its own. Hint: complete the square with diag(noise_var)^-1 "
                "where PPCA has 1/sigma^2.",
            )
        if not np.allclose(cov, want_cov, rtol=1e-6, atol=1e-9):
            return CheckResult(
                name,
                False,
                f"case {number}: the covariance is wrong. Hint: the posterior precision is the prior's "
                "precision plus what the observation adds; collect the terms quadratic in z.",
            )
        if not np.allclose(mean, want_mean, rtol=1e-6, atol=1e-9):
            hint = "collect the terms linear in z; the mean is the covariance times them."
            if np.allclose(mean, want_cov @ (W / noise_var[:, None]).T @ x, rtol=1e-6):
                hint = "the offset b is missing: the observation is x - b around the decoder's line."
            return CheckResult(name, False, f"case {number}: the mean is wrong. Hint: {hint}")
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


# ---------------------------------------------------------------- exercise 5: EM trains PPCA

EM_STEPS = 400
EM_TOLERANCE = 1e-4  # nats per data point from the maximum-likelihood fit


def _ppca_average_log_likelihood(W: np.ndarray, sigma2: float, centred: np.ndarray) -> float:
    """Average ``log N(x; mean, W W^T + sigma2 I)`` over the centred data points ``(n, d)``."""
    d = centred.shape[1]
    cov = W @ W.T + sigma2 * np.eye(d)
    chol = np.linalg.cholesky(cov)
    solved = np.linalg.solve(chol, centred.T)
    log_det = 2 * np.sum(np.log(np.diag(chol)))
    return float(-0.5 * (np.mean(np.sum(solved**2, axis=0)) + log_det + d * np.log(2 * np.pi)))


def _em_problem() -> tuple[np.ndarray, np.ndarray, float, float]:
    """Centred data ``(n, 5)``, a starting ``W (5, 2)`` and ``sigma2``, and the maximum average
    log-likelihood of a 2-D PPCA on these data (closed form, Tipping & Bishop 1999)."""
    rng = np.random.default_rng(25)
    factor = rng.normal(size=(5, 5)) * np.array([2.5, 1.6, 0.6, 0.4, 0.3])
    xs = rng.normal(size=(4000, 5)) @ factor.T
    centred = xs - xs.mean(axis=0)
    sample_cov = centred.T @ centred / len(centred)
    eigenvalues, eigenvectors = np.linalg.eigh(sample_cov)
    eigenvalues, eigenvectors = eigenvalues[::-1], eigenvectors[:, ::-1]
    sigma2_ml = float(eigenvalues[2:].mean())
    W_ml = eigenvectors[:, :2] * np.sqrt(eigenvalues[:2] - sigma2_ml)
    best = _ppca_average_log_likelihood(W_ml, sigma2_ml, centred)
    return centred, rng.normal(size=(5, 2)), 1.0, best


def check_ppca_em(
    function: Callable[[np.ndarray, float, np.ndarray], Any] | None,
) -> CheckResult:
    """Exercise: ``function(W, sigma2, centred_xs)`` -> ``(W_new, sigma2_new)``, one EM step for
    PPCA. Graded by training: ``EM_STEPS`` steps from a fixed start must never lower the average
    log-likelihood and must end within ``EM_TOLERANCE`` nats of the maximum-likelihood fit."""
    name = "EM for probabilistic PCA"
    if (feedback := not_a_function(name, function)) is not None:
        return feedback
    centred, W, sigma2, best = _em_problem()
    history = [_ppca_average_log_likelihood(W, sigma2, centred)]
    for step in range(1, EM_STEPS + 1):
        answer, feedback = call_answer(name, function, (W, sigma2, centred), step)
        if feedback is not None:
            return feedback
        if not (isinstance(answer, (tuple, list)) and len(answer) == 2):
            return CheckResult(name, False, "return a pair (W_new, sigma2_new): `return W_new, sigma2_new`.")
        new_W, new_sigma2 = _as_array(answer[0]), _as_array(answer[1])
        if new_W is None or new_W.shape != W.shape or new_sigma2 is None or new_sigma2.size != 1:
            return CheckResult(
                name, False, f"step {step}: W_new must have shape {W.shape} and sigma2_new be one number."
            )
        new_sigma2 = float(new_sigma2)
        if not (np.all(np.isfinite(new_W)) and np.isfinite(new_sigma2) and new_sigma2 > 0):
            return CheckResult(
                name, False, f"step {step}: W_new must be finite and sigma2_new positive, got {new_sigma2}."
            )
        W, sigma2 = new_W, new_sigma2
        history.append(_ppca_average_log_likelihood(W, sigma2, centred))
        if step == 1 and best - history[-1] < EM_TOLERANCE:
            return CheckResult(
                name,
                False,
                "the first step jumped straight to the maximum-likelihood fit: that is the closed "
                "form, not an EM step. Write the E-step (posterior of each point) and the M-step.",
            )
        if history[-1] < history[-2] - 1e-9:
            return CheckResult(
                name,
                False,
                f"step {step} lowered the average log-likelihood from {history[-2]:.6f} to "
                f"{history[-1]:.6f}; an EM step never does. Hint: the E-step uses the posterior of "
                "the current W and sigma2, and E[z z^T] includes the posterior covariance.",
            )
    shortfall = best - history[-1]
    if shortfall > EM_TOLERANCE:
        return CheckResult(
            name,
            False,
            f"after {EM_STEPS} steps the average log-likelihood is {history[-1]:.6f}, {shortfall:.2e} "
            f"nats below the maximum {best:.6f}. Hint: the M-step maximises sum_n E_q[log p(x_n|z)] "
            "over W, then over sigma2 with the new W; E[z z^T] = Cov + E[z] E[z]^T.",
        )
    return CheckResult(
        name,
        True,
        f"passed: {EM_STEPS} steps raised the average log-likelihood from {history[0]:.4f} to "
        f"{history[-1]:.6f}, {shortfall:.1e} nats from the maximum, and never lowered it.",
    )
