"""genmodels.densities: 1-D densities on a grid, KL, JSD, entropy, the GAN value and Gaussian fits."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon
from scipy.special import expit
from scipy.stats import norm

from genmodels import densities

X = np.linspace(-15.0, 15.0, 30_001)
X_COARSE = np.linspace(-15, 15, 6001)
BIMODAL = dict(weights=[0.5, 0.5], means=[-2.0, 2.0], stds=[0.5, 0.5])


def closed_form_kl(m1, s1, m2, s2):
    """Closed form KL(N(m1, s1^2) || N(m2, s2^2)), written independently of the module."""
    return np.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - 0.5


def box(lo, hi, x=X):
    """A uniform density on [lo, hi], normalised on the grid."""
    b = ((x >= lo) & (x <= hi)).astype(float)
    return b / np.trapezoid(b, x)


def normal(x, mean, std):
    return densities.normal_pdf(x, mean, std)


# ---------------------------------------------------------------- densities


def test_normal_pdf_matches_scipy_and_logpdf_is_finite_in_the_tails():
    np.testing.assert_allclose(
        densities.normal_pdf(X, 0.7, 1.3), norm.pdf(X, 0.7, 1.3), rtol=1e-12, atol=1e-300
    )
    assert densities.normal_logpdf(X_COARSE, 0.3, 1.7) == pytest.approx(stats.norm(0.3, 1.7).logpdf(X_COARSE))
    assert densities.normal_pdf(100.0) == 0.0  # underflows ...
    assert densities.normal_logpdf(100.0) == pytest.approx(-5000 - 0.5 * np.log(2 * np.pi))  # ... its log not
    with pytest.raises(ValueError, match="std must be positive"):
        densities.normal_logpdf(0.0, 0.0, 0.0)


def test_mixture_logpdf_and_pdf_are_one_normalised_mixture():
    log_p = densities.mixture_logpdf(X_COARSE, [0.2, 0.8], [-1.0, 3.0], [0.5, 2.0])
    direct = 0.2 * stats.norm(-1, 0.5).pdf(X_COARSE) + 0.8 * stats.norm(3, 2).pdf(X_COARSE)
    assert np.exp(log_p) == pytest.approx(direct, abs=1e-14)
    assert np.trapezoid(np.exp(log_p), X_COARSE) == pytest.approx(1.0, abs=1e-8)
    # far in the tails the log-density stays finite (no log(0))
    assert np.isfinite(densities.mixture_logpdf(np.array([1e3]), [0.5, 0.5], [0, 1], [0.1, 0.1])).all()
    expected = 0.3 * norm.pdf(X, -1, 0.5) + 0.7 * norm.pdf(X, 2, 1.5)
    mixture = densities.mixture_pdf(X, [0.3, 0.7], [-1, 2], [0.5, 1.5])
    np.testing.assert_allclose(mixture, expected, rtol=1e-12)
    np.testing.assert_allclose(
        densities.mixture_pdf(X, [0.5, 0.5], [-1, 2], [1, 1]),
        0.5 * (norm.pdf(X, -1) + norm.pdf(X, 2)),
        rtol=1e-12,
    )
    assert densities.integrate(mixture, X) == pytest.approx(1, abs=1e-12)
    # one argument order: swapping weights and means is a different mixture (or an error)
    assert not np.allclose(densities.mixture_pdf(X, [0.3, 0.7], [0.5, 1.5], [1.0, 1.0]), mixture)


def test_mixture_arguments_are_validated():
    with pytest.raises(ValueError, match="sum to 1"):
        densities.mixture_logpdf(X_COARSE, [0.5, 0.6], [0, 1], [1, 1])
    with pytest.raises(ValueError, match="sum to 1"):
        densities.mixture_pdf(X, [0.5, 0.6], [0, 1], [1, 1])
    with pytest.raises(ValueError, match="same length"):
        densities.mixture_logpdf(X_COARSE, [0.5, 0.5], [0, 1, 2], [1, 1])
    with pytest.raises(ValueError, match="same length"):
        densities.mixture_pdf(X, [1.0], [0, 1], [1])
    with pytest.raises(ValueError, match="stds must be positive"):
        densities.mixture_pdf(X, [0.5, 0.5], [0, 1], [1, 0])


def test_mixture_moments_match_sampling():
    mean, std = densities.mixture_moments([0.3, 0.7], [-1.0, 2.0], [0.5, 1.5])
    rng = np.random.default_rng(0)
    component = rng.random(400_000) < 0.3
    samples = np.where(component, rng.normal(-1.0, 0.5, component.size), rng.normal(2.0, 1.5, component.size))
    assert mean == pytest.approx(samples.mean(), abs=0.01)
    assert std == pytest.approx(samples.std(), abs=0.01)


def test_integrate_and_grid_validation():
    grid = np.linspace(0.0, 1.0, 1001)
    assert densities.integrate(grid**2, grid) == pytest.approx(1 / 3, abs=1e-6)
    with pytest.raises(ValueError, match="strictly increasing"):
        densities.integrate(np.ones(3), [0.0, 2.0, 1.0])
    with pytest.raises(ValueError, match="evaluated on the grid"):
        densities.integrate(np.ones(4), grid)
    with pytest.raises(ValueError, match="1-D grid"):
        densities.integrate(np.ones(1), [0.0])


# ---------------------------------------------------------------- KL and entropy


@pytest.mark.parametrize(("m1", "s1", "m2", "s2"), [(0, 1, 1, 1), (0.5, 0.7, -1, 2), (2, 3, 0, 1)])
def test_kl_of_gaussians_matches_the_closed_form(m1, s1, m2, s2):
    # wide enough for N(2, 3^2), narrow enough that N(0, 1) does not underflow to 0 (|x| < 37)
    x = np.linspace(-35.0, 35.0, 70_001)
    p, q = normal(x, m1, s1), normal(x, m2, s2)
    assert densities.kl(p, q, x) == pytest.approx(closed_form_kl(m1, s1, m2, s2), rel=1e-9, abs=1e-12)
    assert densities.kl(p, p, x) == 0.0


def test_kl_normal_normal_is_the_closed_form_and_matches_the_grid():
    for mp, sp, mq, sq in [(0, 1, 0, 1), (0, 1, 1, 1), (0.5, 0.7, -1, 2), (1, 2, 0, 0.8)]:
        on_grid = densities.kl(normal(X_COARSE, mp, sp), normal(X_COARSE, mq, sq), X_COARSE)
        assert on_grid == pytest.approx(densities.kl_normal_normal(mp, sp, mq, sq), abs=1e-8)
        assert densities.kl_normal_normal(mp, sp, mq, sq) == pytest.approx(closed_form_kl(mp, sp, mq, sq))
    assert densities.kl_normal_normal(0, 1, 0, 1) == 0.0
    assert densities.kl_normal_normal(0, 1, 1, 2) != pytest.approx(densities.kl_normal_normal(1, 2, 0, 1))
    with pytest.raises(ValueError, match="std_q must be positive"):
        densities.kl_normal_normal(0, 1, 0, -1)


def test_kl_is_nonnegative_and_zero_only_for_equal_densities():
    rng = np.random.default_rng(1)
    p = densities.mixture_pdf(X_COARSE, **BIMODAL)
    assert densities.kl(p, p, X_COARSE) == pytest.approx(0.0, abs=1e-12)
    for _ in range(20):
        q = normal(X_COARSE, rng.normal(), rng.uniform(0.3, 3))
        assert densities.kl(p, q, X_COARSE) > 0
        assert densities.kl(q, p, X_COARSE) > 0


def test_kl_conventions_zero_log_zero_and_infinity():
    narrow, wide = box(0, 1), box(-1, 2)
    # p = 0 outside [0, 1] contributes nothing: KL(U[0,1] || U[-1,2]) = log 3.
    assert densities.kl(narrow, wide, X) == pytest.approx(np.log(3), abs=1e-3)
    assert densities.kl(wide, narrow, X) == float("inf")
    with pytest.raises(ValueError, match="non-negative"):
        densities.kl(-narrow, wide, X)


def test_kl_is_infinite_where_q_vanishes_under_p():
    p = normal(X_COARSE, 0, 1)
    half_normal = np.where(X_COARSE > 0, 2.0 * p, 0.0)  # no mass for x < 0
    assert densities.kl(p, half_normal, X_COARSE) == np.inf
    # the jump at 0 costs the trapezoidal rule about half a grid cell
    assert densities.kl(half_normal, p, X_COARSE) == pytest.approx(np.log(2.0), abs=5e-3)


def test_entropy_and_cross_entropy():
    std = 1.3
    p = normal(X_COARSE, 0.2, std)
    assert densities.entropy(p, X_COARSE) == pytest.approx(0.5 * np.log(2 * np.pi * np.e * std**2), abs=1e-9)
    log_q = densities.normal_logpdf(X_COARSE, -1, 2)
    direct = -np.trapezoid(p * log_q, X_COARSE)
    assert densities.cross_entropy(p, np.exp(log_q), X_COARSE) == pytest.approx(direct, abs=1e-9)


# ---------------------------------------------------------------- JSD


def test_jsd_is_symmetric_bounded_and_zero_only_for_equal_densities():
    rng = np.random.default_rng(0)
    for _ in range(10):
        m1, m2 = rng.normal(size=2) * 3
        s1, s2 = rng.uniform(0.3, 2.0, size=2)
        p, q = normal(X, m1, s1), normal(X, m2, s2)
        j = densities.jsd(p, q, X)
        assert 0 < j < np.log(2)
        assert j == pytest.approx(densities.jsd(q, p, X), rel=1e-12)
    p = densities.normal_pdf(X)
    assert densities.jsd(p, p, X) == 0.0


def test_jsd_survives_densities_whose_half_underflows():
    p = np.zeros_like(X)
    p[[100, 200]] = [5e-324, 1.0]  # the smallest subnormal: 0.5 * 5e-324 rounds to 0
    q = normal(X, 14.0, 0.1)
    assert np.isfinite(densities.jsd(p, q, X)) and np.isfinite(densities.jsd(q, p, X))


def test_jsd_of_disjoint_supports_is_log_2_whatever_the_distance():
    for shift in (1.5, 3.0, 10.0):
        assert densities.jsd(box(0, 1), box(shift, shift + 1), X) == pytest.approx(np.log(2), abs=1e-12)


def test_jsd_agrees_with_scipy_on_the_discretised_densities():
    # scipy's jensenshannon works on probability vectors and returns the square root of the
    # JS divergence: an implementation independent of ours.
    p, q = normal(X, -1, 0.8), densities.mixture_pdf(X, [0.5, 0.5], [0, 2], [0.5, 1])
    dx = X[1] - X[0]
    assert densities.jsd(p, q, X) == pytest.approx(jensenshannon(p * dx, q * dx) ** 2, rel=1e-8)


def test_jsd_is_the_mean_of_two_kls_to_the_mixture():
    p, q = normal(X, 0, 1), normal(X, 1, 2)
    m = 0.5 * (p + q)
    assert densities.jsd(p, q, X) == pytest.approx(
        0.5 * densities.kl(p, m, X) + 0.5 * densities.kl(q, m, X), rel=1e-14
    )
    assert densities.jsd(p, q, X) != pytest.approx(densities.kl(p, m, X) + densities.kl(q, m, X), rel=1e-3)


# ---------------------------------------------------------------- the GAN value


P_DATA = densities.mixture_pdf(X, [0.4, 0.6], [-2, 1.5], [0.6, 0.8])
P_G = densities.normal_pdf(X, 0.5, 1.5)


def test_gan_value_of_a_coin_flip_discriminator_is_minus_log_4():
    assert densities.gan_value(np.full_like(X, 0.5), P_DATA, P_G, X) == pytest.approx(-np.log(4), abs=1e-12)
    coin_logits = np.zeros_like(X)
    value = densities.gan_value(coin_logits, P_DATA, P_G, X, logits=True)
    assert value == pytest.approx(-np.log(4), abs=1e-12)


def test_gan_value_at_the_optimal_discriminator_is_minus_log_4_plus_2_jsd():
    d_star = P_DATA / (P_DATA + P_G)
    value = densities.gan_value(d_star, P_DATA, P_G, X)
    assert value == pytest.approx(-np.log(4) + 2 * densities.jsd(P_DATA, P_G, X), abs=1e-12)
    rng = np.random.default_rng(1)
    for _ in range(5):  # any other discriminator does worse
        other = expit(np.log(P_DATA) - np.log(P_G) + rng.normal() * np.sin(rng.normal() * X))
        assert densities.gan_value(other, P_DATA, P_G, X) < value


def test_gan_value_with_logits_equals_probabilities_and_stays_finite():
    logits = np.log(P_DATA) - np.log(P_G)
    assert densities.gan_value(logits, P_DATA, P_G, X, logits=True) == pytest.approx(
        densities.gan_value(expit(logits), P_DATA, P_G, X), abs=1e-12
    )
    # A generator with thin tails: D* = p_data / (p_data + p_g) rounds to exactly 1 far out,
    # log(1 - D*) = -inf there, although p_g log(1 - D*) -> 0. The logit form is exact.
    thin = normal(X, -2.0, 0.5)
    d_rounded = P_DATA / (P_DATA + thin)
    assert np.any(d_rounded == 1.0)
    assert densities.gan_value(d_rounded, P_DATA, thin, X) == float("-inf")
    exact = densities.gan_value(np.log(P_DATA) - np.log(thin), P_DATA, thin, X, logits=True)
    assert exact == pytest.approx(-np.log(4) + 2 * densities.jsd(P_DATA, thin, X), abs=1e-10)


def test_gan_value_edge_cases_and_validation():
    assert densities.gan_value(np.zeros_like(X), P_DATA, P_G, X) == float("-inf")  # D = 0 on real data
    assert densities.gan_value(np.ones_like(X), P_DATA, P_G, X) == float("-inf")  # D = 1 on fakes
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\]"):
        densities.gan_value(np.full_like(X, 1.5), P_DATA, P_G, X)
    with pytest.raises(ValueError, match="NaN"):
        densities.gan_value(np.full_like(X, np.nan), P_DATA, P_G, X, logits=True)
    with pytest.raises(ValueError, match="evaluated on the grid"):
        densities.gan_value(np.full(3, 0.5), P_DATA, P_G, X)


# ---------------------------------------------------------------- Gaussian fits


def test_forward_fit_is_moment_matching():
    for mixture in (BIMODAL, dict(weights=[0.2, 0.8], means=[-3.0, 1.0], stds=[0.4, 1.2])):
        fit = densities.fit_gaussian(densities.mixture_pdf(X_COARSE, **mixture), X_COARSE, "forward")
        mean, std = densities.mixture_moments(**mixture)
        assert fit.success
        assert fit.mean == pytest.approx(mean, abs=1e-5)
        assert fit.std == pytest.approx(std, abs=1e-5)


def test_reverse_fit_seeks_one_mode_and_depends_on_the_start():
    def bimodal(x):
        return densities.mixture_pdf(x, **BIMODAL)

    right = densities.fit_gaussian(bimodal, X_COARSE, "reverse", init=(0.5, 1.0))
    left = densities.fit_gaussian(bimodal, X_COARSE, "reverse", init=(-0.5, 1.0))
    assert right.mean == pytest.approx(2.0, abs=1e-3) and left.mean == pytest.approx(-2.0, abs=1e-3)
    assert right.std == pytest.approx(0.5, abs=1e-3)
    # covering one of two equal, well separated modes costs log 2 nats
    assert right.divergence == pytest.approx(np.log(2.0), abs=1e-4)
    forward = densities.fit_gaussian(bimodal(X_COARSE), X_COARSE, "forward")
    assert forward.std > 3 * right.std


def test_both_fits_recover_a_gaussian_target_exactly():
    p = normal(X_COARSE, 1.5, 0.8)
    for direction in ("forward", "reverse"):
        fit = densities.fit_gaussian(p, X_COARSE, direction, init=(0.0, 2.0))
        assert fit.mean == pytest.approx(1.5, abs=1e-5) and fit.std == pytest.approx(0.8, abs=1e-5)
        assert fit.divergence == pytest.approx(0.0, abs=1e-9)


def test_forward_fit_counts_tails_where_the_start_underflows():
    # Gamma(2) on [0, 40] from N(1, 1): q underflows to 0 at x = 40 where p > 0, yet the
    # forward KL the optimiser sees is finite (log q is exact), so the fit succeeds.
    grid = np.linspace(0.0, 40.0, 8001)
    fit = densities.fit_gaussian(stats.gamma(a=2.0).pdf(grid), grid, "forward", init=(1.0, 1.0))
    assert fit.success and fit.mean == pytest.approx(2.0, abs=1e-3)
    assert fit.std == pytest.approx(np.sqrt(2), abs=1e-3)


def test_fit_gaussian_rejects_bad_arguments():
    p = normal(X_COARSE, 0, 1)
    with pytest.raises(ValueError, match="direction"):
        densities.fit_gaussian(p, X_COARSE, "sideways")
    with pytest.raises(ValueError, match="shape"):
        densities.fit_gaussian(p[:-1], X_COARSE)
    with pytest.raises(ValueError, match="initial std"):
        densities.fit_gaussian(p, X_COARSE, init=(0.0, -1.0))


def test_kl_with_exact_log_densities_counts_the_tails_where_a_density_underflows():
    grid = np.linspace(-40.0, 40.0, 80_001)
    p, log_q = normal(grid, 0.0, 1.0), densities.normal_logpdf(grid, 0.5, 0.8)
    q = np.exp(log_q)
    assert np.any((q == 0) & (p > 0))  # q underflows where p does not
    assert densities.kl(p, q, grid) == np.inf
    exact = densities.kl(p, q, grid, log_q=log_q)
    assert exact == pytest.approx(densities.kl_normal_normal(0.0, 1.0, 0.5, 0.8), rel=1e-9)
    with pytest.raises(ValueError, match="log_q must be evaluated on the grid"):
        densities.kl(p, q, grid, log_q=log_q[:-1])
