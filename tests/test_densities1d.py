"""KL divergences on a grid and the Gaussian fits of the core-concepts chapter (genmodels.densities1d)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from genmodels import densities1d as dv

X = np.linspace(-15, 15, 6001)
BIMODAL = dict(weights=[0.5, 0.5], means=[-2.0, 2.0], stds=[0.5, 0.5])


def test_gaussian_logpdf_matches_scipy():
    assert dv.gaussian_logpdf(X, 0.3, 1.7) == pytest.approx(stats.norm(0.3, 1.7).logpdf(X))
    with pytest.raises(ValueError, match="std"):
        dv.gaussian_logpdf(X, 0.0, 0.0)


def test_mixture_logpdf_is_a_normalised_mixture():
    log_p = dv.mixture_logpdf(X, [0.2, 0.8], [-1.0, 3.0], [0.5, 2.0])
    direct = 0.2 * stats.norm(-1, 0.5).pdf(X) + 0.8 * stats.norm(3, 2).pdf(X)
    assert np.exp(log_p) == pytest.approx(direct, abs=1e-14)
    assert np.trapezoid(np.exp(log_p), X) == pytest.approx(1.0, abs=1e-8)
    # far in the tails the log-density stays finite (no log(0))
    assert np.isfinite(dv.mixture_logpdf(np.array([1e3]), [0.5, 0.5], [0, 1], [0.1, 0.1])).all()
    with pytest.raises(ValueError, match="sum to 1"):
        dv.mixture_logpdf(X, [0.5, 0.6], [0, 1], [1, 1])
    with pytest.raises(ValueError, match="same length"):
        dv.mixture_logpdf(X, [0.5, 0.5], [0, 1, 2], [1, 1])


def test_mixture_moments_match_sampling():
    mean, std = dv.mixture_moments([0.3, 0.7], [-1.0, 2.0], [0.5, 1.5])
    rng = np.random.default_rng(0)
    component = rng.random(400_000) < 0.3
    samples = np.where(component, rng.normal(-1.0, 0.5, component.size), rng.normal(2.0, 1.5, component.size))
    assert mean == pytest.approx(samples.mean(), abs=0.01)
    assert std == pytest.approx(samples.std(), abs=0.01)


def test_grid_kl_equals_the_closed_form_for_gaussians():
    for mp, sp, mq, sq in [(0, 1, 0, 1), (0, 1, 1, 1), (0.5, 0.7, -1, 2), (1, 2, 0, 0.8)]:
        grid = dv.kl_on_grid(dv.gaussian_logpdf(X, mp, sp), dv.gaussian_logpdf(X, mq, sq), X)
        assert grid == pytest.approx(dv.gaussian_kl(mp, sp, mq, sq), abs=1e-8)
    assert dv.gaussian_kl(0, 1, 0, 1) == 0.0
    assert dv.gaussian_kl(0, 1, 1, 2) != pytest.approx(dv.gaussian_kl(1, 2, 0, 1))  # not symmetric


def test_kl_is_nonnegative_and_zero_only_for_equal_densities():
    rng = np.random.default_rng(1)
    log_p = dv.mixture_logpdf(X, **BIMODAL)
    assert dv.kl_on_grid(log_p, log_p, X) == pytest.approx(0.0, abs=1e-12)
    for _ in range(20):
        log_q = dv.gaussian_logpdf(X, rng.normal(), rng.uniform(0.3, 3))
        assert dv.kl_on_grid(log_p, log_q, X) > 0
        assert dv.kl_on_grid(log_q, log_p, X) > 0


def test_kl_is_infinite_where_q_vanishes_under_p():
    log_p = dv.gaussian_logpdf(X, 0, 1)
    log_q = np.where(X > 0, np.log(2.0) + log_p, -np.inf)  # half-normal: no mass for x < 0
    assert dv.kl_on_grid(log_p, log_q, X) == np.inf
    # the jump at 0 costs the trapezoidal rule about half a grid cell
    assert dv.kl_on_grid(log_q, log_p, X) == pytest.approx(np.log(2.0), abs=5e-3)


def test_entropy_and_cross_entropy():
    std = 1.3
    log_p = dv.gaussian_logpdf(X, 0.2, std)
    assert dv.entropy_on_grid(log_p, X) == pytest.approx(0.5 * np.log(2 * np.pi * np.e * std**2), abs=1e-9)
    log_q = dv.gaussian_logpdf(X, -1, 2)
    direct = -np.trapezoid(np.exp(log_p) * log_q, X)
    assert dv.cross_entropy_on_grid(log_p, log_q, X) == pytest.approx(direct, abs=1e-9)


def test_forward_fit_is_moment_matching():
    for mixture in (BIMODAL, dict(weights=[0.2, 0.8], means=[-3.0, 1.0], stds=[0.4, 1.2])):
        fit = dv.fit_gaussian(dv.mixture_logpdf(X, **mixture), X, "forward")
        mean, std = dv.mixture_moments(**mixture)
        assert fit.success
        assert fit.mean == pytest.approx(mean, abs=1e-5)
        assert fit.std == pytest.approx(std, abs=1e-5)


def test_reverse_fit_seeks_one_mode_and_depends_on_the_start():
    right = dv.fit_gaussian(lambda x: dv.mixture_logpdf(x, **BIMODAL), X, "reverse", init=(0.5, 1.0))
    left = dv.fit_gaussian(lambda x: dv.mixture_logpdf(x, **BIMODAL), X, "reverse", init=(-0.5, 1.0))
    assert right.mean == pytest.approx(2.0, abs=1e-3) and left.mean == pytest.approx(-2.0, abs=1e-3)
    assert right.std == pytest.approx(0.5, abs=1e-3)
    # covering one of two equal, well separated modes costs log 2 nats
    assert right.divergence == pytest.approx(np.log(2.0), abs=1e-4)
    forward = dv.fit_gaussian(dv.mixture_logpdf(X, **BIMODAL), X, "forward")
    assert forward.std > 3 * right.std


def test_both_fits_recover_a_gaussian_target_exactly():
    log_p = dv.gaussian_logpdf(X, 1.5, 0.8)
    for direction in ("forward", "reverse"):
        fit = dv.fit_gaussian(log_p, X, direction, init=(0.0, 2.0))
        assert fit.mean == pytest.approx(1.5, abs=1e-5) and fit.std == pytest.approx(0.8, abs=1e-5)
        assert fit.divergence == pytest.approx(0.0, abs=1e-9)


def test_fit_gaussian_rejects_bad_arguments():
    log_p = dv.gaussian_logpdf(X, 0, 1)
    with pytest.raises(ValueError, match="direction"):
        dv.fit_gaussian(log_p, X, "sideways")
    with pytest.raises(ValueError, match="shape"):
        dv.fit_gaussian(log_p[:-1], X)
    with pytest.raises(ValueError, match="initial std"):
        dv.fit_gaussian(log_p, X, init=(0.0, -1.0))
