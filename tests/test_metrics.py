"""genmodels.metrics.mode_coverage: the VEEGAN / PacGAN protocol on the 2-D mixtures."""

from __future__ import annotations

import numpy as np
import pytest

from genmodels import data
from genmodels.metrics import mode_coverage
from genmodels.validation import InputCheckError

CENTERS = data.ring_centers()
STD = data.RING_STD


def test_exact_samples_at_every_centre():
    samples = np.tile(CENTERS, (313, 1))  # 2,504 points, 313 on each centre
    report = mode_coverage(samples, CENTERS, STD)
    assert report.modes == 8 and report.modes_strict == 8 and report.n_modes == 8
    assert report.high_quality == 1.0
    assert report.reverse_kl == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_array_equal(report.counts, np.full(8, 313))


def test_all_samples_at_one_centre():
    samples = np.repeat(CENTERS[[5]], 2500, axis=0)
    report = mode_coverage(samples, CENTERS, STD)
    assert report.modes == 1 and report.modes_strict == 1
    assert report.high_quality == 1.0
    assert report.reverse_kl == pytest.approx(np.log(8), rel=1e-12)  # KL(delta || uniform of 8)
    np.testing.assert_array_equal(report.counts, np.eye(8, dtype=int)[5] * 2500)


def test_reverse_kl_of_an_uneven_histogram():
    # 2 samples at centre 0, 1 at centre 1, 1 at centre 2: q = (1/2, 1/4, 1/4, 0, ...).
    samples = CENTERS[[0, 0, 1, 2]]
    expected = 0.5 * np.log(0.5 * 8) + 2 * 0.25 * np.log(0.25 * 8)
    assert mode_coverage(samples, CENTERS, STD).reverse_kl == pytest.approx(expected, rel=1e-12)


def test_diffuse_cloud_has_low_quality():
    rng = np.random.default_rng(0)
    cloud = rng.uniform(-3.0, 3.0, size=(2500, 2))
    report = mode_coverage(cloud, CENTERS, STD)
    # Expected HQ share: 8 discs of radius 0.06 in a 6 x 6 square, i.e. about 0.25%.
    assert report.high_quality < 0.02
    good = report.high_quality * len(cloud)
    assert good == report.counts.sum()
    assert report.modes_strict <= report.modes


def test_high_quality_radius_is_three_std():
    direction = np.array([0.6, 0.8])  # unit length
    inside = CENTERS[0] + 2.99 * STD * direction
    outside = CENTERS[0] + 3.01 * STD * direction
    report = mode_coverage(np.stack([inside, outside]), CENTERS, STD)
    assert report.high_quality == 0.5 and report.counts[0] == 1
    assert mode_coverage(outside[None], CENTERS, STD, n_std=4).high_quality == 1.0
    nothing = mode_coverage(outside[None], CENTERS, STD)
    assert nothing.modes == 0 and nothing.high_quality == 0.0 and nothing.reverse_kl == np.inf


def test_strict_and_published_counts_differ_for_a_single_stray_sample():
    rng = np.random.default_rng(1)
    which = np.arange(2499) % 7  # modes 0..6, about 357 each
    samples = CENTERS[which] + 0.5 * STD * rng.standard_normal((2499, 2))
    samples = np.concatenate([samples, CENTERS[[7]]])  # one high-quality sample at mode 7
    report = mode_coverage(samples, CENTERS, STD)
    assert report.counts[7] == 1
    assert report.modes == 8  # the published rule counts it
    assert report.modes_strict == 7  # 1 sample < 1% of 2,500
    assert report.high_quality > 0.99
    # With a threshold of a single sample in 2,500 the strict rule counts the stray mode too.
    report = mode_coverage(samples, CENTERS, STD, strict_fraction=1 / 2500)
    assert report.modes_strict == 8


def test_grid_protocol():
    centers = data.grid_centers()
    samples = data.grid(2500, np.random.default_rng(0))
    report = mode_coverage(samples, centers, data.GRID_STD)
    assert report.modes == 25 and report.modes_strict == 25
    # Within 3 std in 2-D: P(chi2_2 <= 9) = 1 - exp(-4.5) = 0.9889.
    assert report.high_quality == pytest.approx(1 - np.exp(-4.5), abs=0.01)
    assert report.reverse_kl < 0.03
    assert "25/25 modes" in str(report)


@pytest.mark.parametrize(
    "bad",
    [np.zeros((10, 3)), np.zeros(10), np.zeros((10, 2, 1)), np.zeros((0, 2)), np.full((3, 2), np.nan)],
)
def test_wrong_samples_are_rejected(bad):
    with pytest.raises(InputCheckError, match="samples"):
        mode_coverage(bad, CENTERS, STD)


@pytest.mark.parametrize(
    "centers", [np.zeros(8), np.zeros((8, 2, 1)), np.zeros((0, 2)), np.full((8, 2), np.nan), [["a", "b"]]]
)
def test_centres_of_the_wrong_shape_are_rejected(centers):
    with pytest.raises(ValueError, match="centers"):
        mode_coverage(CENTERS, centers, STD)


def test_centres_of_another_dimension_than_the_samples():
    with pytest.raises(InputCheckError, match=r"shape \(N, 3\)"):
        mode_coverage(CENTERS, np.zeros((8, 3)), STD)


@pytest.mark.parametrize("std", [0.0, -0.02, np.nan, np.inf])
def test_std_must_be_positive(std):
    with pytest.raises(ValueError, match="std must be a positive number"):
        mode_coverage(CENTERS, CENTERS, std)


def test_std_must_be_a_number():
    with pytest.raises(TypeError, match="std must be a number"):
        mode_coverage(CENTERS, CENTERS, "0.02")


def test_nan_samples_say_the_generator_diverged():
    samples = np.tile(CENTERS, (10, 1))
    samples[3, 1] = np.nan
    with pytest.raises(InputCheckError, match="1 NaN values: the generator has diverged"):
        mode_coverage(samples, CENTERS, STD)


@pytest.mark.parametrize(("n_std", "strict"), [(0.0, 0.01), (-1.0, 0.01), (3.0, -0.1), (3.0, 1.5)])
def test_radius_and_strict_fraction_are_checked(n_std, strict):
    with pytest.raises(ValueError, match=r"n_std|strict_fraction"):
        mode_coverage(CENTERS, CENTERS, STD, n_std=n_std, strict_fraction=strict)
