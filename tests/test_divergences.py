"""genmodels.divergences: 1-D densities on a grid, KL, JSD and the GAN value function."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import jensenshannon
from scipy.special import expit
from scipy.stats import norm

from genmodels import divergences as dv

X = np.linspace(-15.0, 15.0, 30_001)


def gaussian_kl(m1, s1, m2, s2):
    """Closed form KL(N(m1, s1^2) || N(m2, s2^2))."""
    return np.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - 0.5


def box(lo, hi, x=X):
    """A uniform density on [lo, hi], normalised on the grid."""
    b = ((x >= lo) & (x <= hi)).astype(float)
    return b / np.trapezoid(b, x)


# ---------------------------------------------------------------- densities


def test_normal_pdf_matches_scipy_and_logpdf_is_finite_in_the_tails():
    np.testing.assert_allclose(dv.normal_pdf(X, 0.7, 1.3), norm.pdf(X, 0.7, 1.3), rtol=1e-12, atol=1e-300)
    assert dv.normal_pdf(100.0) == 0.0  # underflows ...
    assert dv.normal_logpdf(100.0) == pytest.approx(-5000 - 0.5 * np.log(2 * np.pi))  # ... its log does not
    with pytest.raises(ValueError, match="std must be positive"):
        dv.normal_logpdf(0.0, 0.0, 0.0)


def test_mixture_pdf():
    expected = 0.3 * norm.pdf(X, -1, 0.5) + 0.7 * norm.pdf(X, 2, 1.5)
    np.testing.assert_allclose(dv.mixture_pdf(X, [-1, 2], [0.5, 1.5], [0.3, 0.7]), expected, rtol=1e-12)
    np.testing.assert_allclose(
        dv.mixture_pdf(X, [-1, 2], [1, 1]), 0.5 * (norm.pdf(X, -1) + norm.pdf(X, 2)), rtol=1e-12
    )
    assert dv.integrate(dv.mixture_pdf(X, [-1, 2], [0.5, 1.5], [0.3, 0.7]), X) == pytest.approx(1, abs=1e-12)
    with pytest.raises(ValueError, match="sum to 1"):
        dv.mixture_pdf(X, [0, 1], [1, 1], [0.5, 0.6])
    with pytest.raises(ValueError, match="same, non-zero length"):
        dv.mixture_pdf(X, [0, 1], [1])


def test_integrate_and_grid_validation():
    grid = np.linspace(0.0, 1.0, 1001)
    assert dv.integrate(grid**2, grid) == pytest.approx(1 / 3, abs=1e-6)
    with pytest.raises(ValueError, match="strictly increasing"):
        dv.integrate(np.ones(3), [0.0, 2.0, 1.0])
    with pytest.raises(ValueError, match="evaluated on the grid"):
        dv.integrate(np.ones(4), grid)
    with pytest.raises(ValueError, match="1-D grid"):
        dv.integrate(np.ones(1), [0.0])


# ---------------------------------------------------------------- KL


@pytest.mark.parametrize(("m1", "s1", "m2", "s2"), [(0, 1, 1, 1), (0.5, 0.7, -1, 2), (2, 3, 0, 1)])
def test_kl_of_gaussians_matches_the_closed_form(m1, s1, m2, s2):
    # wide enough for N(2, 3^2), narrow enough that N(0, 1) does not underflow to 0 (|x| < 37)
    x = np.linspace(-35.0, 35.0, 70_001)
    p, q = dv.normal_pdf(x, m1, s1), dv.normal_pdf(x, m2, s2)
    assert dv.kl(p, q, x) == pytest.approx(gaussian_kl(m1, s1, m2, s2), rel=1e-9, abs=1e-12)
    assert dv.kl(p, p, x) == 0.0


def test_kl_conventions_zero_log_zero_and_infinity():
    narrow, wide = box(0, 1), box(-1, 2)
    # p = 0 outside [0, 1] contributes nothing: KL(U[0,1] || U[-1,2]) = log 3.
    assert dv.kl(narrow, wide, X) == pytest.approx(np.log(3), abs=1e-3)
    assert dv.kl(wide, narrow, X) == float("inf")
    with pytest.raises(ValueError, match="non-negative"):
        dv.kl(-narrow, wide, X)


# ---------------------------------------------------------------- JSD


def test_jsd_is_symmetric_bounded_and_zero_only_for_equal_densities():
    rng = np.random.default_rng(0)
    for _ in range(10):
        m1, m2 = rng.normal(size=2) * 3
        s1, s2 = rng.uniform(0.3, 2.0, size=2)
        p, q = dv.normal_pdf(X, m1, s1), dv.normal_pdf(X, m2, s2)
        j = dv.jsd(p, q, X)
        assert 0 < j < np.log(2)
        assert j == pytest.approx(dv.jsd(q, p, X), rel=1e-12)
    p = dv.normal_pdf(X)
    assert dv.jsd(p, p, X) == 0.0


def test_jsd_survives_densities_whose_half_underflows():
    p = np.zeros_like(X)
    p[[100, 200]] = [5e-324, 1.0]  # the smallest subnormal: 0.5 * 5e-324 rounds to 0
    q = dv.normal_pdf(X, 14.0, 0.1)
    assert np.isfinite(dv.jsd(p, q, X)) and np.isfinite(dv.jsd(q, p, X))


def test_jsd_of_disjoint_supports_is_log_2_whatever_the_distance():
    for shift in (1.5, 3.0, 10.0):
        assert dv.jsd(box(0, 1), box(shift, shift + 1), X) == pytest.approx(np.log(2), abs=1e-12)


def test_jsd_agrees_with_scipy_on_the_discretised_densities():
    # scipy's jensenshannon works on probability vectors and returns the square root of the
    # JS divergence: an implementation independent of ours.
    p, q = dv.normal_pdf(X, -1, 0.8), dv.mixture_pdf(X, [0, 2], [0.5, 1], [0.5, 0.5])
    dx = X[1] - X[0]
    assert dv.jsd(p, q, X) == pytest.approx(jensenshannon(p * dx, q * dx) ** 2, rel=1e-8)


def test_jsd_is_the_mean_of_two_kls_to_the_mixture():
    p, q = dv.normal_pdf(X, 0, 1), dv.normal_pdf(X, 1, 2)
    m = 0.5 * (p + q)
    assert dv.jsd(p, q, X) == pytest.approx(0.5 * dv.kl(p, m, X) + 0.5 * dv.kl(q, m, X), rel=1e-14)
    assert dv.jsd(p, q, X) != pytest.approx(dv.kl(p, m, X) + dv.kl(q, m, X), rel=1e-3)


# ---------------------------------------------------------------- the GAN value


P_DATA = dv.mixture_pdf(X, [-2, 1.5], [0.6, 0.8], [0.4, 0.6])
P_G = dv.normal_pdf(X, 0.5, 1.5)


def test_gan_value_of_a_coin_flip_discriminator_is_minus_log_4():
    assert dv.gan_value(np.full_like(X, 0.5), P_DATA, P_G, X) == pytest.approx(-np.log(4), abs=1e-12)
    assert dv.gan_value(np.zeros_like(X), P_DATA, P_G, X, logits=True) == pytest.approx(-np.log(4), abs=1e-12)


def test_gan_value_at_the_optimal_discriminator_is_minus_log_4_plus_2_jsd():
    d_star = P_DATA / (P_DATA + P_G)
    value = dv.gan_value(d_star, P_DATA, P_G, X)
    assert value == pytest.approx(-np.log(4) + 2 * dv.jsd(P_DATA, P_G, X), abs=1e-12)
    rng = np.random.default_rng(1)
    for _ in range(5):  # any other discriminator does worse
        other = expit(np.log(P_DATA) - np.log(P_G) + rng.normal() * np.sin(rng.normal() * X))
        assert dv.gan_value(other, P_DATA, P_G, X) < value


def test_gan_value_with_logits_equals_probabilities_and_stays_finite():
    logits = np.log(P_DATA) - np.log(P_G)
    assert dv.gan_value(logits, P_DATA, P_G, X, logits=True) == pytest.approx(
        dv.gan_value(expit(logits), P_DATA, P_G, X), abs=1e-12
    )
    # A generator with thin tails: D* = p_data / (p_data + p_g) rounds to exactly 1 far out,
    # log(1 - D*) = -inf there, although p_g log(1 - D*) -> 0. The logit form is exact.
    thin = dv.normal_pdf(X, -2.0, 0.5)
    d_rounded = P_DATA / (P_DATA + thin)
    assert np.any(d_rounded == 1.0)
    assert dv.gan_value(d_rounded, P_DATA, thin, X) == float("-inf")
    exact = dv.gan_value(np.log(P_DATA) - np.log(thin), P_DATA, thin, X, logits=True)
    assert exact == pytest.approx(-np.log(4) + 2 * dv.jsd(P_DATA, thin, X), abs=1e-10)


def test_gan_value_edge_cases_and_validation():
    assert dv.gan_value(np.zeros_like(X), P_DATA, P_G, X) == float("-inf")  # D = 0 on real data
    assert dv.gan_value(np.ones_like(X), P_DATA, P_G, X) == float("-inf")  # D = 1 on fakes
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\]"):
        dv.gan_value(np.full_like(X, 1.5), P_DATA, P_G, X)
    with pytest.raises(ValueError, match="NaN"):
        dv.gan_value(np.full_like(X, np.nan), P_DATA, P_G, X, logits=True)
    with pytest.raises(ValueError, match="evaluated on the grid"):
        dv.gan_value(np.full(3, 0.5), P_DATA, P_G, X)
