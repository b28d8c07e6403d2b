"""genmodels.vae_diagnostics: KL per dimension, active units, schedules, free bits, rate-distortion, gaps."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from genmodels import vae
from genmodels import vae_diagnostics as diag

# ---------------------------------------------------------------- the code


def test_kl_per_dimension_sums_to_the_closed_form_kl():
    rng = np.random.default_rng(0)
    mean, log_var = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    per_dim = diag.kl_per_dimension(mean, log_var)
    assert per_dim.shape == (5, 3) and np.all(per_dim >= 0)
    np.testing.assert_allclose(per_dim.sum(axis=1), vae.gaussian_kl(mean, log_var).numpy(), rtol=1e-5)
    assert np.all(diag.kl_per_dimension(np.zeros((2, 4)), np.zeros((2, 4))) == 0)  # q = prior


def test_active_units_count_dimensions_whose_mean_moves():
    rng = np.random.default_rng(1)
    mean = np.zeros((1000, 4))
    mean[:, 0] = rng.normal(size=1000)  # variance ~1
    mean[:, 1] = 0.2 * rng.normal(size=1000)  # variance ~0.04 > 0.01
    mean[:, 2] = 0.05 * rng.normal(size=1000)  # variance ~0.0025: inactive
    count, variances = diag.active_units(mean)
    assert count == 2 and variances.shape == (4,)
    assert diag.active_units(mean, threshold=0.001)[0] == 3


@pytest.mark.parametrize(
    "mean, message",
    [
        (np.zeros(5), "shape \\(N, latent_dim\\)"),
        (np.zeros((0, 3)), "empty"),
        (np.zeros((1, 3)), "at least 2"),
        (np.full((3, 2), np.nan), "NaN"),
    ],
)
def test_active_units_bad_input(mean, message):
    with pytest.raises(ValueError, match=message):
        diag.active_units(mean)


def test_kl_per_dimension_shape_mismatch():
    with pytest.raises(ValueError, match="same shape"):
        diag.kl_per_dimension(np.zeros((2, 3)), np.zeros((2, 4)))


# ---------------------------------------------------------------- schedules


def test_linear_warm_up_rises_then_stays():
    weights = diag.linear_warm_up(10, 4, target=2.0)
    np.testing.assert_allclose(weights, [0, 0.5, 1, 1.5, 2, 2, 2, 2, 2, 2])
    assert np.all(diag.linear_warm_up(3, 0) == 1)


def test_cyclical_schedule_repeats_ramps():
    weights = diag.cyclical_schedule(16, cycles=2, ratio=0.5)
    np.testing.assert_allclose(weights[:8], [0, 0.25, 0.5, 0.75, 1, 1, 1, 1])
    np.testing.assert_allclose(weights[8:], weights[:8])
    assert np.sum(weights == 0) == 2  # one restart per cycle


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: diag.linear_warm_up(-5, 2), "total_steps must be a positive integer"),
        (lambda: diag.linear_warm_up(10, -1), "warm_up_steps must be an integer >= 0"),
        (lambda: diag.linear_warm_up(10, 2, target=-1), "target"),
        (lambda: diag.cyclical_schedule(0), "total_steps"),
        (lambda: diag.cyclical_schedule(10, cycles=-2), "cycles must be a positive integer"),
        (lambda: diag.cyclical_schedule(3, cycles=4), "do not fit"),
        (lambda: diag.cyclical_schedule(10, ratio=0), "ratio"),
    ],
)
def test_schedules_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_kl_weight_schedule_sets_beta_by_step():
    class Holder(keras.Model):
        def __init__(self):
            super().__init__()
            self.beta = keras.Variable(0.0, trainable=False)

    model = Holder()
    model.optimizer = keras.optimizers.Adam()
    callback = diag.KLWeightSchedule(np.array([0.1, 0.2, 0.3]))
    callback.set_model(model)
    model.optimizer.iterations.assign(1)
    callback.on_train_batch_begin(0)
    assert float(model.beta.numpy()) == pytest.approx(0.2)
    model.optimizer.iterations.assign(50)  # past the end: the last weight
    callback.on_train_batch_begin(0)
    assert float(model.beta.numpy()) == pytest.approx(0.3)
    with pytest.raises(ValueError, match="non-empty"):
        diag.KLWeightSchedule(np.array([]))


# ---------------------------------------------------------------- free bits


def test_free_bits_floors_each_dimension_batch_mean():
    kl = tf.constant([[0.0, 2.0, 0.3], [0.2, 4.0, 0.3]])  # batch means 0.1, 3.0, 0.3
    assert float(diag.free_bits_kl(kl, 0.5)) == pytest.approx(0.5 + 3.0 + 0.5)
    assert float(diag.free_bits_kl(kl, 0.0)) == pytest.approx(3.4)
    # no gradient flows to a dimension below the floor, full gradient above it
    kl_var = tf.Variable(kl)
    with tf.GradientTape() as tape:
        value = diag.free_bits_kl(kl_var, 0.5)
    gradient = tape.gradient(value, kl_var).numpy()
    np.testing.assert_allclose(gradient, [[0, 0.5, 0], [0, 0.5, 0]])


def test_free_bits_bad_input():
    with pytest.raises(ValueError, match="shape \\(N, latent_dim\\)"):
        diag.free_bits_kl(tf.zeros(3), 0.5)
    with pytest.raises(ValueError, match="free_bits"):
        diag.free_bits_kl(tf.zeros((2, 3)), -1.0)


# ---------------------------------------------------------------- rate, distortion and gaps


def test_monotone_rate_distortion():
    assert diag.is_rate_distortion_monotone([0.1, 1, 4], [30, 20, 5], [200, 210, 240])
    assert diag.is_rate_distortion_monotone([4, 0.1, 1], [5, 30, 20], [240, 200, 210])  # any order
    assert not diag.is_rate_distortion_monotone([0.1, 1, 4], [30, 31, 5], [200, 210, 240])
    assert not diag.is_rate_distortion_monotone([0.1, 1, 4], [30, 20, 5], [200, 190, 240])
    with pytest.raises(ValueError, match="same length"):
        diag.is_rate_distortion_monotone([1, 2], [1], [1, 2])
    with pytest.raises(ValueError, match="at least 2"):
        diag.is_rate_distortion_monotone([1], [1], [1])


@pytest.fixture(scope="module")
def small_vae():
    keras.utils.set_random_seed(0)
    encoder = vae.build_mlp_encoder((6,), latent_dim=2, hidden=(8,))
    decoder = vae.build_mlp_decoder(latent_dim=2, data_shape=(6,), hidden=(8,))
    x = (np.random.default_rng(0).random((12, 6)) < 0.5).astype(np.float32)
    return encoder, decoder, x


def test_rate_distortion_matches_its_definition(small_vae):
    encoder, decoder, x = small_vae
    point = diag.rate_distortion(encoder, decoder, x, samples=200)
    mean, log_var = (t.numpy() for t in encoder(x))
    assert point.rate == pytest.approx(float(np.mean(vae.gaussian_kl(mean, log_var))), rel=1e-5)
    elbo_terms = vae.vae_loss_terms(
        encoder, decoder, np.repeat(x, 200, axis=0), keras.random.SeedGenerator(1)
    )
    assert point.distortion == pytest.approx(-float(np.mean(elbo_terms["reconstruction"])), rel=0.02)
    assert point.elbo == pytest.approx(-(point.rate + point.distortion))
    with pytest.raises(ValueError, match="shape"):
        diag.rate_distortion(encoder, decoder, np.zeros((3, 5)))


def test_inference_gaps_are_ordered(small_vae):
    encoder, decoder, x = small_vae
    gaps = diag.inference_gaps(encoder, decoder, x, k=2000, steps=200, elbo_samples=400)
    assert gaps.log_px.shape == gaps.elbo_amortised.shape == (12,)
    # the optimised q is at least as good as the encoder's; L_2000 is above both ELBOs
    assert gaps.amortisation_gap > 0
    assert gaps.approximation_gap > -0.05
    assert gaps.inference_gap == pytest.approx(gaps.amortisation_gap + gaps.approximation_gap)
    with pytest.raises(ValueError, match="empty"):
        diag.inference_gaps(encoder, decoder, np.zeros((0, 6)))
