"""Tests of genmodels.linear_gaussian against independent references.

References: scipy.stats.multivariate_normal for densities, numerical integration over a 1-D
latent space for the evidence, Bayes' rule evaluated pointwise for the posterior, and Monte
Carlo for the ELBO, the KL and the gradient estimators (tolerances of several standard errors,
with fixed seeds).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate
from scipy.stats import multivariate_normal

from genmodels.linear_gaussian import (
    LinearGaussian,
    gaussian_kl,
    gaussian_log_density,
    kl_multivariate_normal,
)


@pytest.fixture
def model() -> LinearGaussian:
    return LinearGaussian.random(d=5, k=2, sigma=0.7, seed=1)


def random_gaussian(k: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A random mean ``(k,)`` and a random well-conditioned covariance ``(k, k)``."""
    A = rng.standard_normal((k, k))
    return rng.standard_normal(k), A @ A.T + 0.3 * np.eye(k)


def test_log_marginal_matches_scipy(model):
    x, _ = model.sample(7, np.random.default_rng(0))
    expected = multivariate_normal(model.b, model.W @ model.W.T + model.sigma**2 * np.eye(5)).logpdf(x)
    np.testing.assert_allclose(model.log_marginal(x), expected, rtol=1e-12)
    assert model.log_marginal(x[0]).shape == ()


def test_log_marginal_is_the_integral_over_z():
    # k = 1: p(x) = integral p(x|z) p(z) dz by adaptive quadrature, no Gaussian algebra used.
    model = LinearGaussian.random(d=3, k=1, sigma=0.6, seed=4)
    x = np.array([0.3, -1.0, 2.0])
    value, _ = integrate.quad(lambda z: np.exp(model.log_joint(x, np.array([z]))), -12, 12, epsabs=1e-14)
    np.testing.assert_allclose(np.log(value), model.log_marginal(x), rtol=1e-10)


def test_gaussian_log_density_matches_scipy():
    rng = np.random.default_rng(2)
    mean, cov = random_gaussian(3, rng)
    z = rng.standard_normal((4, 6, 3))
    np.testing.assert_allclose(
        gaussian_log_density(z, mean, cov), multivariate_normal(mean, cov).logpdf(z), rtol=1e-12
    )


def test_posterior_is_bayes_rule(model):
    # p(z|x) = p(x|z) p(z) / p(x) at arbitrary z, for the closed-form mean and covariance.
    rng = np.random.default_rng(3)
    x, _ = model.sample(1, rng)
    mean, cov = model.posterior(x[0])
    z = rng.standard_normal((10, 2))
    bayes = model.log_joint(x[0], z) - model.log_marginal(x[0])
    np.testing.assert_allclose(gaussian_log_density(z, mean, cov), bayes, rtol=1e-10)
    batch_mean, _ = model.posterior(np.vstack([x, x]))
    assert batch_mean.shape == (2, 2)
    np.testing.assert_allclose(batch_mean[1], mean, rtol=1e-12)


def test_elbo_of_true_posterior_is_log_evidence(model):
    x, _ = model.sample(5, np.random.default_rng(4))
    mean, cov = model.posterior(x)
    np.testing.assert_allclose(model.elbo(x, mean, cov), model.log_marginal(x), atol=1e-10, rtol=0)


def test_elbo_plus_kl_to_posterior_is_log_evidence(model):
    rng = np.random.default_rng(5)
    x, _ = model.sample(1, rng)
    post_mean, post_cov = model.posterior(x[0])
    for _ in range(20):
        q_mean, q_cov = random_gaussian(2, rng)
        elbo = model.elbo(x[0], q_mean, q_cov)
        gap = kl_multivariate_normal(q_mean, q_cov, post_mean, post_cov)
        assert gap > 1e-3 and elbo < model.log_marginal(x[0])
        np.testing.assert_allclose(elbo + gap, model.log_marginal(x[0]), atol=1e-10, rtol=0)


def test_elbo_two_forms_agree(model):
    # E_q log p(x|z) - KL(q || p(z))  ==  E_q log p(x, z) + H(q), with E_q log p(z) written out.
    rng = np.random.default_rng(6)
    x, _ = model.sample(1, rng)
    q_mean, q_cov = random_gaussian(2, rng)
    expected_log_prior = -0.5 * (np.trace(q_cov) + q_mean @ q_mean + 2 * np.log(2 * np.pi))
    entropy = 0.5 * np.linalg.slogdet(2 * np.pi * np.e * q_cov)[1]
    other_form = model.expected_log_likelihood(x[0], q_mean, q_cov) + expected_log_prior + entropy
    np.testing.assert_allclose(model.elbo(x[0], q_mean, q_cov), other_form, rtol=1e-12)


def test_monte_carlo_elbo_matches_closed_form(model):
    rng = np.random.default_rng(7)
    x, _ = model.sample(1, rng)
    q_mean, q_cov = random_gaussian(2, rng)
    log_w = model.log_weights(x[0], q_mean, q_cov, 200_000, rng)
    standard_error = log_w.std() / np.sqrt(log_w.size)
    assert abs(log_w.mean() - model.elbo(x[0], q_mean, q_cov)) < 4 * standard_error


def test_gaussian_kl_zero_positive_and_monte_carlo():
    rng = np.random.default_rng(8)
    m0, s0 = random_gaussian(3, rng)
    m1, s1 = random_gaussian(3, rng)
    assert abs(kl_multivariate_normal(m0, s0, m0, s0)) < 1e-12
    z = rng.multivariate_normal(m0, s0, size=400_000)
    samples = gaussian_log_density(z, m0, s0) - gaussian_log_density(z, m1, s1)
    kl = kl_multivariate_normal(m0, s0, m1, s1)
    assert kl > 0
    assert abs(samples.mean() - kl) < 4 * samples.std() / np.sqrt(samples.size)


def test_diagonal_kl_matches_general_kl_and_tensorflow():
    rng = np.random.default_rng(9)
    mean, log_var = rng.standard_normal((6, 4)), rng.standard_normal((6, 4))
    closed = gaussian_kl(mean, log_var)
    covs = np.stack([np.diag(np.exp(v)) for v in log_var])
    np.testing.assert_allclose(closed, kl_multivariate_normal(mean, covs, np.zeros(4), np.eye(4)), rtol=1e-12)
    vae = pytest.importorskip("genmodels.vae")
    np.testing.assert_allclose(closed, np.asarray(vae.gaussian_kl(mean, log_var)), rtol=1e-12)


def test_importance_weighted_bound_orders_and_is_exact_at_the_posterior(model):
    rng = np.random.default_rng(10)
    x, _ = model.sample(1, rng)
    x = x[0]
    post_mean, post_cov = model.posterior(x)
    log_px = model.log_marginal(x)
    for k in (1, 7, 100):
        draws = model.importance_weighted_bound(x, post_mean, post_cov, k, 5, rng)
        np.testing.assert_allclose(draws, log_px, atol=1e-10, rtol=0)
    q_mean, q_cov = post_mean + 0.8, np.diag(np.diag(post_cov)) * 2.0
    means, errors = [], []
    for k in (1, 10, 100):
        draws = model.importance_weighted_bound(x, q_mean, q_cov, k, 2000, rng)
        means.append(draws.mean())
        errors.append(draws.std() / np.sqrt(draws.size))
    assert abs(means[0] - model.elbo(x, q_mean, q_cov)) < 4 * errors[0]
    for lower, upper, e1, e2 in zip(means, means[1:], errors, errors[1:], strict=False):
        assert upper - lower > 3 * np.hypot(e1, e2)
    assert means[-1] < log_px


def test_gradient_estimators_are_unbiased_and_reparameterisation_wins(model):
    rng = np.random.default_rng(11)
    x, _ = model.sample(1, rng)
    q_mean, q_cov = random_gaussian(2, rng)
    exact = model.elbo_grad_mean(x[0], q_mean)
    step = 1e-6
    numeric = [
        (model.elbo(x[0], q_mean + step * e, q_cov) - model.elbo(x[0], q_mean - step * e, q_cov)) / (2 * step)
        for e in np.eye(2)
    ]
    np.testing.assert_allclose(exact, numeric, rtol=1e-6)
    reparam = model.reparameterized_grads(x[0], q_mean, q_cov, 100_000, rng)
    score = model.score_function_grads(x[0], q_mean, q_cov, 100_000, rng)
    for grads in (reparam, score):
        standard_error = grads.std(axis=0) / np.sqrt(len(grads))
        assert np.all(np.abs(grads.mean(axis=0) - exact) < 4 * standard_error)
    # The pathwise estimator is linear in eps: its covariance is A S A, A = W^T W / sigma^2 + I.
    A = model.W.T @ model.W / model.sigma**2 + np.eye(2)
    np.testing.assert_allclose(np.cov(reparam.T), A @ q_cov @ A, rtol=0.03)
    assert score.var(axis=0).sum() > 5 * reparam.var(axis=0).sum()


def test_invalid_models_are_refused():
    with pytest.raises(ValueError, match="sigma"):
        LinearGaussian(np.ones((3, 2)), np.zeros(3), 0.0)
    with pytest.raises(ValueError, match="W must be"):
        LinearGaussian(np.ones((3, 2)), np.zeros(2), 1.0)
    with pytest.raises(ValueError, match="positive definite"):
        gaussian_log_density(np.zeros(2), np.zeros(2), -np.eye(2))
