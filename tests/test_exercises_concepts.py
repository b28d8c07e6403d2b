"""The checks of the core-concepts chapter pass right answers and explain wrong ones, never raising."""

from __future__ import annotations

import re

import numpy as np
from scipy import special, stats

from genmodels.exercises import concepts as checks


def posterior(x, priors, means, cov):
    precision = np.linalg.inv(cov)
    diff = x[:, None, :] - means[None, :, :]
    log_joint = -0.5 * np.einsum("nki,ij,nkj->nk", diff, precision, diff) + np.log(priors)
    return special.softmax(log_joint, axis=1)


def naive_posterior(x, priors, means, cov):
    joint = np.stack(
        [p * stats.multivariate_normal(m, cov).pdf(x) for p, m in zip(priors, means, strict=True)], axis=1
    )
    return joint / joint.sum(axis=1, keepdims=True)


def test_posterior_check():
    assert checks.check_posterior(posterior)
    with np.errstate(invalid="ignore"):
        underflow = checks.check_posterior(naive_posterior)
    assert not underflow and "case 3" in underflow.message and "logsumexp" in underflow.message
    assert not checks.check_posterior(
        lambda x, priors, means, cov: posterior(x, np.ones_like(priors), means, cov)
    )


def test_kl_normal_normal_check():
    def kl(m1, s1, m2, s2):
        return np.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - 0.5

    assert checks.check_kl_normal_normal(kl)
    assert not checks.check_kl_normal_normal(lambda m1, s1, m2, s2: kl(m2, s2, m1, s1))  # the reverse KL
    assert not checks.check_kl_normal_normal(lambda m1, s1, m2, s2: kl(m1, s1**2, m2, s2**2))  # variances


def test_forward_kl_fit_check():
    def moments(w, m, s):
        mean = np.sum(w * m)
        return mean, np.sqrt(np.sum(w * (s**2 + m**2)) - mean**2)

    assert checks.check_forward_kl_fit(moments)
    assert not checks.check_forward_kl_fit(
        lambda w, m, s: (np.sum(w * m), np.sum(w * s))
    )  # no spread of means
    variance = checks.check_forward_kl_fit(lambda w, m, s: (moments(w, m, s)[0], moments(w, m, s)[1] ** 2))
    assert not variance and "Hint" in variance.message


def test_logistic_generator_check():
    assert checks.check_logistic_generator(lambda z: special.log_ndtr(z) - special.log_ndtr(-z))
    naive = checks.check_logistic_generator(lambda z: np.log(stats.norm.cdf(z) / (1 - stats.norm.cdf(z))))
    assert not naive and "not finite" in naive.message
    gaussian = checks.check_logistic_generator(lambda z: 1.8 * z)
    assert not gaussian and "do not follow" in gaussian.message
    rng = np.random.default_rng(0)
    random = checks.check_logistic_generator(lambda z: rng.logistic(size=z.shape))
    assert not random and "deterministic" in random.message
    assert not checks.check_logistic_generator(lambda z: z[:10])
    assert not checks.check_logistic_generator(None)


def separate_fit(x, y):
    priors, means, covs = [], [], []
    for k in np.unique(y):
        points = x[y == k]
        centred = points - points.mean(axis=0)
        priors.append(len(points) / len(x))
        means.append(points.mean(axis=0))
        covs.append(centred.T @ centred / len(points))
    return np.array(priors), np.array(means), np.array(covs)


def test_separate_covariances_check():
    result = checks.check_separate_covariances(separate_fit)
    assert result, result.message
    # the message reports the better held-out likelihood of the changed model
    separate, shared = (float(v) for v in re.findall(r"(-?\d+\.\d+) (?:nats )?with", result.message))
    assert separate > shared

    def unbiased(x, y):
        priors, means, _ = separate_fit(x, y)
        return priors, means, np.array([np.cov(x[y == k].T) for k in np.unique(y)])

    def shared_covariance(x, y):
        priors, means, covs = separate_fit(x, y)
        pooled = np.tensordot(priors, covs, axes=1)
        return priors, means, np.array([pooled, pooled])

    for wrong in (unbiased, shared_covariance):
        feedback = checks.check_separate_covariances(wrong)
        assert not feedback and "Hint" in feedback.message, wrong.__name__
    unpacking = checks.check_separate_covariances(lambda x, y: separate_fit(x, y)[:2])
    assert not unpacking and "ValueError" in unpacking.message
    assert not checks.check_separate_covariances(None)
