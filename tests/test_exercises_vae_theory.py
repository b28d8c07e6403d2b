"""genmodels.exercises.vae_theory: right answers pass, wrong ones fail with a hint, nothing raises."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import logsumexp

from genmodels.exercises import vae_theory as checks


def not_done(*args):
    raise NotImplementedError


def crashes(*args):
    return 1 / 0


# ---------------------------------------------------------------- right answers


def diagonal_kl(mean0, log_var0, mean1, log_var1):
    return 0.5 * np.sum(
        np.exp(log_var0 - log_var1) + (mean1 - mean0) ** 2 / np.exp(log_var1) - 1 + log_var1 - log_var0,
        axis=-1,
    )


def fa_posterior(x, W, b, noise_var):
    precision = np.eye(W.shape[1]) + W.T @ (W / noise_var[:, None])
    cov = np.linalg.inv(precision)
    return cov @ W.T @ ((x - b) / noise_var), cov


def score(f, z, mu, sigma, baseline):
    return (f - baseline) * (z - mu) / sigma**2


def iw(log_w):
    return logsumexp(log_w, axis=0) - np.log(log_w.shape[0])


def em_step(W, sigma2, xs, posterior_covariance=True):
    n, d = xs.shape
    inverse_M = np.linalg.inv(W.T @ W + sigma2 * np.eye(W.shape[1]))
    means = xs @ W @ inverse_M
    second_moment = means.T @ means + (n * sigma2 * inverse_M if posterior_covariance else 0)
    W_new = xs.T @ means @ np.linalg.inv(second_moment)
    residual = np.sum(xs**2) - 2 * np.sum(means * (xs @ W_new)) + np.trace(second_moment @ W_new.T @ W_new)
    return W_new, residual / (n * d)


@pytest.mark.parametrize(
    ("check", "answer"),
    [
        (checks.check_diagonal_gaussian_kl, diagonal_kl),
        (checks.check_factor_analysis_posterior, fa_posterior),
        (checks.check_score_function_estimates, score),
        (checks.check_iw_bound, iw),
        (checks.check_ppca_em, em_step),
    ],
)
def test_right_answers_pass(check, answer):
    result = check(answer)
    assert result, str(result)


# ---------------------------------------------------------------- wrong answers


def ppca_posterior_with_average_noise(x, W, b, noise_var):
    return fa_posterior(x, W, b, np.full_like(noise_var, noise_var.mean()))


WRONG = [
    (checks.check_diagonal_gaussian_kl, lambda m0, v0, m1, v1: diagonal_kl(m1, v1, m0, v0), "swapped"),
    (checks.check_diagonal_gaussian_kl, lambda *args: 2 * diagonal_kl(*args), "1/2 is missing"),
    (checks.check_diagonal_gaussian_kl, not_done, "not answered yet"),
    (checks.check_factor_analysis_posterior, ppca_posterior_with_average_noise, "averaged noise variance"),
    (checks.check_factor_analysis_posterior, lambda x, W, b, v: fa_posterior(x + b, W, b, v), "offset b"),
    (checks.check_factor_analysis_posterior, lambda *args: args[0], "return a pair"),
    (checks.check_factor_analysis_posterior, crashes, "ZeroDivisionError"),
    (checks.check_score_function_estimates, lambda f, z, m, s, b: score(f, z, m, s, 0.0), "baseline"),
    (checks.check_iw_bound, lambda log_w: logsumexp(log_w, axis=0), "log k"),
    (checks.check_iw_bound, lambda log_w: np.log(np.mean(np.exp(log_w), axis=0)), "NaN or infinity"),
    (checks.check_iw_bound, None, "not answered yet"),
    (checks.check_ppca_em, lambda W, s, xs: em_step(W, s, xs, posterior_covariance=False), "lowered"),
    (checks.check_ppca_em, lambda W, s, xs: (W, s), "below the maximum"),
    (checks.check_ppca_em, lambda W, s, xs: (W.T, s), "must have shape"),
    (checks.check_ppca_em, not_done, "not answered yet"),
]


@pytest.mark.parametrize(("check", "answer", "words"), WRONG)
def test_wrong_answers_fail_with_feedback(check, answer, words):
    with np.errstate(all="ignore"):
        result = check(answer)  # must not raise
    assert not result and words in result.message, result.message


def test_em_check_refuses_the_closed_form():
    def closed_form(W, sigma2, xs):
        eigenvalues, eigenvectors = np.linalg.eigh(xs.T @ xs / len(xs))
        eigenvalues, eigenvectors = eigenvalues[::-1], eigenvectors[:, ::-1]
        noise = eigenvalues[W.shape[1] :].mean()
        return eigenvectors[:, : W.shape[1]] * np.sqrt(eigenvalues[: W.shape[1]] - noise), noise

    result = checks.check_ppca_em(closed_form)
    assert not result and "closed form" in result.message
