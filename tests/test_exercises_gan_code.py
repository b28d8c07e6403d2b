"""genmodels.exercises.gan_code: right answers pass, wrong ones fail with a hint, nothing raises."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from genmodels import data, gan
from genmodels.exercises import gan_code as checks


def not_done(*args):
    raise NotImplementedError


# ---------------------------------------------------------------- exercise 1


def smoothed_loss(real_logits, fake_logits, real_target):
    real_term = real_target * np.logaddexp(0, -real_logits) + (1 - real_target) * np.logaddexp(0, real_logits)
    return float(np.mean(real_term) + np.mean(np.logaddexp(0, fake_logits)))


def smoothed_loss_naive(real_logits, fake_logits, real_target):
    with np.errstate(all="ignore"):
        d_real, d_fake = 1 / (1 + np.exp(-real_logits)), 1 / (1 + np.exp(-fake_logits))
        real_term = -real_target * np.log(d_real) - (1 - real_target) * np.log(1 - d_real)
        return float(np.mean(real_term) - np.mean(np.log(1 - d_fake)))


def smoothing_ignored(real_logits, fake_logits, real_target):
    return smoothed_loss(real_logits, fake_logits, 1.0)


def smoothing_on_fakes_too(real_logits, fake_logits, real_target):
    fake_term = real_target * np.logaddexp(0, fake_logits) + (1 - real_target) * np.logaddexp(0, -fake_logits)
    return smoothed_loss(real_logits, np.zeros(1), real_target) - np.log(2) + float(np.mean(fake_term))


def test_smoothed_loss_accepts_the_stable_form():
    result = checks.check_smoothed_discriminator_loss(smoothed_loss)
    assert result and "passed all 5 cases" in result.message


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        (smoothed_loss_naive, "case 5: the answer contains NaN or infinity"),
        (smoothing_ignored, "case 2:"),
        (smoothing_on_fakes_too, "case 2:"),
        (not_done, "not answered yet"),
        (None, "not answered yet"),
    ],
)
def test_smoothed_loss_rejects_wrong_answers(answer, fragment):
    result = checks.check_smoothed_discriminator_loss(answer)
    assert not result and fragment in result.message
    if callable(answer) and answer is not not_done:
        assert "Hint:" in result.message


# ---------------------------------------------------------------- exercise 2


def article_generator(z_dim):
    z = keras.Input((z_dim,))
    h = keras.layers.Dense(128, activation="relu")(z)
    h = keras.layers.Dense(128, activation="relu")(h)
    h = keras.layers.Dense(784, activation="relu")(h)
    h = keras.layers.Reshape((28, 28))(h)
    return keras.Model(z, keras.layers.Dense(784, activation="sigmoid")(h))


def repaired(z_dim, activation="tanh", hidden=(128, 128), hidden_activation="relu"):
    z = keras.Input((z_dim,))
    h = z
    for width in hidden:
        h = keras.layers.Dense(width, activation=hidden_activation)(h)
    h = keras.layers.Dense(784, activation=activation)(h)
    return keras.Model(z, keras.layers.Reshape((28, 28, 1))(h))


def repaired_with_relu_layers(z_dim):
    z = keras.Input((z_dim,))
    h = keras.layers.ReLU()(keras.layers.Dense(128)(z))
    h = keras.layers.ReLU()(keras.layers.Dense(128)(h))
    return keras.Model(z, keras.layers.Reshape((28, 28, 1))(keras.layers.Dense(784, activation="tanh")(h)))


def test_generator_fix_accepts_a_repaired_generator():
    assert checks.check_article_generator_fix(repaired)
    assert checks.check_article_generator_fix(repaired_with_relu_layers)


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        (article_generator, "(5, 28, 784)"),
        (lambda z_dim: repaired(z_dim, activation="sigmoid"), "[-1, 1]"),
        (lambda z_dim: repaired(z_dim, hidden=(256,)), "widths [256]"),
        (lambda z_dim: repaired(z_dim, hidden=(128, 128, 128)), "widths [128, 128, 128]"),
        (lambda z_dim: repaired(z_dim, hidden_activation="tanh"), "ReLU"),
        (not_done, "not answered yet"),
        (42, "expected a function"),
    ],
)
def test_generator_fix_rejects_wrong_answers(answer, fragment):
    result = checks.check_article_generator_fix(answer)
    assert not result and fragment in result.message


# ---------------------------------------------------------------- exercise 3


def test_covered_modes_check():
    def right(samples, centers, std):
        d = np.linalg.norm(samples[:, None] - centers[None], axis=-1)
        return len(np.unique(d.argmin(1)[d.min(1) <= 3 * std]))

    def ignores_quality(samples, centers, std):
        d = np.linalg.norm(samples[:, None] - centers[None], axis=-1)
        return len(np.unique(d.argmin(1)))

    assert checks.check_covered_modes(right)
    assert not checks.check_covered_modes(ignores_quality)


# ---------------------------------------------------------------- exercise 4


def ring_gan(hidden=(128, 128), seed=0):
    keras.utils.set_random_seed(seed)
    model = gan.GAN(
        gan.build_mlp_generator(2, hidden=hidden), gan.build_mlp_discriminator(hidden=hidden), seed=seed
    )
    model.compile(
        g_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5),
        d_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5),
        steps_per_execution=100,
    )
    return model


@pytest.mark.slow
def test_trained_ring_gan_is_graded_on_its_samples():
    points = data.ring(2000 * 256, np.random.default_rng(0))
    model = ring_gan()
    model.fit(points, batch_size=256, epochs=1, verbose=0)
    result = checks.check_trained_ring_gan(model)
    assert result, str(result)
    frozen = ring_gan()  # takes every step, learns nothing
    frozen.compile(
        g_optimizer=keras.optimizers.SGD(0.0), d_optimizer=keras.optimizers.SGD(0.0), steps_per_execution=100
    )
    frozen.fit(points, batch_size=256, epochs=1, verbose=0)
    result = checks.check_trained_ring_gan(frozen)
    assert not result and "high quality" in result.message and "Hint:" in result.message


def test_trained_ring_gan_rejects_wrong_answers():
    assert "not answered yet" in checks.check_trained_ring_gan(None).message
    assert "expected a genmodels.gan.GAN" in checks.check_trained_ring_gan(keras.Sequential()).message
    assert "widths [128, 128, 128]" in checks.check_trained_ring_gan(ring_gan(hidden=(128, 128, 128))).message
    untrained = checks.check_trained_ring_gan(ring_gan())
    assert not untrained and "0 steps" in untrained.message
