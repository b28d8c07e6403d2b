"""genmodels.gan: losses, the optimal discriminator, the networks, the GAN model and its training."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from genmodels import data, gan, metrics, training
from genmodels.validation import InputCheckError


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-np.asarray(x, np.float64)))


def scalar(t) -> float:
    return float(keras.ops.convert_to_numpy(t))


# ---------------------------------------------------------------- losses


REAL = np.array([[2.0], [-0.5], [0.3], [1.2]], np.float32)
FAKE = np.array([[-1.5], [0.4], [-3.0]], np.float32)


def test_discriminator_loss_is_the_negated_value_function():
    expected = -np.mean(np.log(sigmoid(REAL))) - np.mean(np.log(1.0 - sigmoid(FAKE)))
    assert scalar(gan.discriminator_loss(tf.constant(REAL), tf.constant(FAKE))) == pytest.approx(
        expected, rel=1e-5
    )


def test_generator_losses_by_hand():
    minimax = np.mean(np.log(1.0 - sigmoid(FAKE)))  # E log(1 - D(G(z))), minimised by G
    non_saturating = -np.mean(np.log(sigmoid(FAKE)))  # -E log D(G(z))
    assert scalar(gan.generator_loss_minimax(tf.constant(FAKE))) == pytest.approx(minimax, rel=1e-5)
    assert scalar(gan.generator_loss_non_saturating(tf.constant(FAKE))) == pytest.approx(
        non_saturating, rel=1e-5
    )
    assert gan.GENERATOR_LOSSES["minimax"] is gan.generator_loss_minimax
    assert gan.GENERATOR_LOSSES["non_saturating"] is gan.generator_loss_non_saturating


def test_losses_are_finite_for_huge_logits():
    big = tf.constant([[100.0], [-100.0]])
    # -log sigmoid(100) ~ 4e-44, -log sigmoid(-100) = log(1 + e^100) = 100 (to 1e-43).
    assert scalar(gan.discriminator_loss(big, -big)) == pytest.approx(100.0, rel=1e-6)
    assert scalar(gan.discriminator_loss(big, big)) == pytest.approx(100.0, rel=1e-6)
    assert scalar(gan.generator_loss_non_saturating(big)) == pytest.approx(50.0, rel=1e-6)
    assert scalar(gan.generator_loss_minimax(big)) == pytest.approx(-50.0, rel=1e-6)
    # A sigmoid output followed by log would give inf here: log(1 - sigmoid(100)) = log(0) in float32.
    with np.errstate(divide="ignore"):
        assert np.isinf(np.log(1.0 - keras.ops.convert_to_numpy(tf.sigmoid(tf.constant(100.0)))))


def _grad_wrt_logit(loss, logit: float) -> float:
    x = tf.Variable([[logit]])
    with tf.GradientTape() as tape:
        value = loss(x)
    return float(tape.gradient(value, x).numpy()[0, 0])


@pytest.mark.parametrize("logit", [-5.0, -10.0, -20.0, -50.0])
def test_minimax_saturates_non_saturating_does_not(logit):
    # d/dl log(1 - sigmoid(l)) = -sigmoid(l) -> 0; d/dl -log sigmoid(l) = -(1 - sigmoid(l)) -> -1.
    g_minimax = _grad_wrt_logit(gan.generator_loss_minimax, logit)
    g_ns = _grad_wrt_logit(gan.generator_loss_non_saturating, logit)
    assert g_minimax == pytest.approx(-sigmoid(logit), rel=1e-4, abs=1e-30)
    assert g_ns == pytest.approx(-(1.0 - sigmoid(logit)), rel=1e-5)
    assert abs(g_minimax) < 7e-3 and abs(g_ns) > 0.99
    if logit <= -10:
        assert abs(g_minimax) < 1e-4 * abs(g_ns)


# ---------------------------------------------------------------- optimal discriminator


def normal_pdf(x, mean, std):
    return np.exp(-0.5 * ((x - mean) / std) ** 2) / (std * np.sqrt(2 * np.pi))


def test_optimal_discriminator_maximises_the_pointwise_value():
    x = np.linspace(-4.0, 6.0, 41)
    p_data, p_g = normal_pdf(x, 0.0, 1.0), normal_pdf(x, 2.0, 1.5)
    d_star = gan.optimal_discriminator(p_data, p_g)
    d_grid = np.linspace(1e-6, 1 - 1e-6, 100_001)
    value = p_data[:, None] * np.log(d_grid)[None] + p_g[:, None] * np.log1p(-d_grid)[None]
    best = d_grid[value.argmax(axis=1)]
    np.testing.assert_allclose(d_star, best, atol=2e-5)
    # And the value at D* is at least the value anywhere on the grid.
    v_star = p_data * np.log(d_star) + p_g * np.log1p(-d_star)
    assert np.all(v_star >= value.max(axis=1) - 1e-12)


def test_optimal_discriminator_is_one_half_where_densities_agree():
    # N(0, 1) and N(2, 1) are equal at x = 1; N(0, 1) and N(0, 3) at x^2 = 9 ln 3 / 4.
    assert gan.optimal_discriminator(normal_pdf(1.0, 0, 1), normal_pdf(1.0, 2, 1)) == pytest.approx(0.5)
    x = np.sqrt(9 * np.log(3) / 4)
    assert gan.optimal_discriminator(normal_pdf(x, 0, 1), normal_pdf(x, 0, 3)) == pytest.approx(0.5)
    np.testing.assert_allclose(gan.optimal_discriminator([0.3, 0.0, 2.0], [0.3, 0.0, 0.0]), [0.5, 0.5, 1.0])
    with pytest.raises(ValueError, match="non-negative"):
        gan.optimal_discriminator([0.1], [-0.1])


# ---------------------------------------------------------------- networks


def test_mlp_shapes():
    g = gan.build_mlp_generator(5, data_dim=3, hidden=(8,))
    d = gan.build_mlp_discriminator(data_dim=3, hidden=(8, 8))
    z = np.random.default_rng(0).standard_normal((7, 5)).astype(np.float32)
    assert tuple(g(z).shape) == (7, 3)
    assert tuple(d(g(z)).shape) == (7, 1)
    assert gan.check_pair(g, d) == (5, (3,))
    with pytest.raises(ValueError, match="latent_dim must be a positive integer"):
        gan.build_mlp_generator(0)


def test_dcgan_shapes_and_range():
    g = gan.build_dcgan_generator(latent_dim=16, base_channels=8)
    d = gan.build_dcgan_discriminator(base_channels=8)
    z = 50.0 * np.random.default_rng(0).standard_normal((4, 16)).astype(np.float32)  # saturate tanh
    images = keras.ops.convert_to_numpy(g(z, training=False))
    assert images.shape == (4, 28, 28, 1)
    assert images.min() >= -1.0 and images.max() <= 1.0
    assert images.min() < -0.9 and images.max() > 0.9  # the range is used, not a constant
    assert tuple(d(images).shape) == (4, 1)
    assert gan.check_pair(g, d) == (16, (28, 28, 1))


def article_generator(latent_dim: int = 100) -> keras.Model:
    """The article's generator: Dense(784) -> Reshape((28, 28)) -> Dense(784)."""
    return keras.Sequential(
        [
            keras.Input((latent_dim,)),
            keras.layers.Dense(784, activation="relu"),
            keras.layers.Reshape((28, 28)),
            keras.layers.Dense(784, activation="tanh"),
        ]
    )


def test_check_pair_rejects_the_articles_generator():
    g = article_generator()
    assert tuple(g.outputs[0].shape) == (None, 28, 784)
    flat_d = gan.build_mlp_discriminator(data_dim=784, hidden=(8,))
    for d in (flat_d, gan.build_dcgan_discriminator(base_channels=4)):
        with pytest.raises(ValueError, match=r"generator output shape \(None, 28, 784\) does not match"):
            gan.check_pair(g, d)
    with pytest.raises(ValueError, match=r"\(None, 28, 784\)"):
        gan.GAN(g, flat_d)


def test_check_pair_rejects_a_discriminator_without_one_logit():
    g = gan.build_mlp_generator(2, hidden=(4,))
    two_logits = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="one logit per example"):
        gan.check_pair(g, two_logits)


# ---------------------------------------------------------------- the GAN model


def test_gan_rejects_unknown_generator_loss():
    g, d = gan.build_mlp_generator(2, hidden=(4,)), gan.build_mlp_discriminator(hidden=(4,))
    with pytest.raises(ValueError, match=r"generator_loss must be one of.*wasserstein"):
        gan.GAN(g, d, generator_loss="wasserstein")


def test_gan_compile_needs_two_optimizers():
    model = gan.GAN(gan.build_mlp_generator(2, hidden=(4,)), gan.build_mlp_discriminator(hidden=(4,)))
    adam = keras.optimizers.Adam()
    with pytest.raises(ValueError, match="two separate optimizers"):
        model.compile(g_optimizer=adam, d_optimizer=adam)


@pytest.fixture(scope="module")
def image_gan():
    model = gan.GAN(
        gan.build_dcgan_generator(latent_dim=8, base_channels=4),
        gan.build_dcgan_discriminator(base_channels=4),
        data_range=(-1.0, 1.0),
        seed=0,
    )
    model.compile(g_optimizer=keras.optimizers.Adam(2e-4), d_optimizer=keras.optimizers.Adam(2e-4))
    return model


@pytest.mark.parametrize(
    ("images", "says"),
    [
        (np.full((8, 28, 28, 1), 255, np.uint8), r"values in \[-1, 1\]"),  # not scaled
        (np.full((8, 28, 28), 128, np.uint8), r"shape \(N, 28, 28, 1\)"),  # no channel axis
        (np.full((8, 28, 28, 1), 200.0, np.float32), r"values in \[-1, 1\]"),  # floats 0..255
    ],
)
def test_gan_fit_rejects_unscaled_images(image_gan, images, says):
    with pytest.raises(InputCheckError, match=says) as info:
        image_gan.fit(images, epochs=1, verbose=0)
    assert "to_tanh_range" in str(info.value)


def test_gan_fit_accepts_scaled_images(image_gan):
    images = data.to_tanh_range(np.random.default_rng(0).integers(0, 256, (8, 28, 28), dtype=np.uint8))
    history = image_gan.fit(images, batch_size=8, epochs=1, verbose=0)
    assert np.isfinite(history.history["d_loss"][0])
    assert image_gan.sample(3, seed=0).shape == (3, 28, 28, 1)


def test_gan_fit_rejects_unbatched_dataset(make_ring_gan):
    model = make_ring_gan()
    points = tf.data.Dataset.from_tensor_slices(np.zeros((10, 2), np.float32))
    with pytest.raises(ValueError, match=r"batch it with \.batch\(n\)"):
        model.fit(points, epochs=1, verbose=0)


def test_gan_train_step_lowers_the_discriminator_loss():
    keras.utils.set_random_seed(1)
    g = gan.build_mlp_generator(2, hidden=(16,))
    d = gan.build_mlp_discriminator(hidden=(32, 32))
    real = tf.constant(data.ring(256, np.random.default_rng(0)))
    z = tf.constant(np.random.default_rng(1).standard_normal((256, 2)).astype(np.float32))
    fake = g(z)

    def d_loss_now() -> float:
        return scalar(gan.discriminator_loss(d(real), d(fake)))

    g_before = [w.copy() for w in g.get_weights()]
    d_before = [w.copy() for w in d.get_weights()]
    loss_before = d_loss_now()
    assert loss_before == pytest.approx(
        -np.mean(np.log(sigmoid(d(real).numpy()))) - np.mean(np.log(1 - sigmoid(d(fake).numpy()))), rel=1e-5
    )
    g_opt = keras.optimizers.SGD(learning_rate=0.0)  # a fixed generator
    d_opt = keras.optimizers.Adam(1e-2)
    seed = keras.random.SeedGenerator(0)
    for _ in range(15):
        logs = gan.gan_train_step(g, d, g_opt, d_opt, real, latent_dim=2, seed=seed)
    assert set(logs) == {"d_loss", "g_loss", "d_real", "d_fake"}
    for before, after in zip(g_before, g.get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)
    assert any(not np.array_equal(b, a) for b, a in zip(d_before, d.get_weights(), strict=True))
    assert d_loss_now() < 0.7 * loss_before
    assert scalar(logs["d_real"]) > 0.5 > scalar(logs["d_fake"])


def test_gan_train_step_moves_the_generator_through_the_discriminator():
    # With a frozen discriminator, the generator's non-saturating loss must drop: its
    # gradient exists only if the loss really goes through D(G(z)).
    keras.utils.set_random_seed(2)
    g = gan.build_mlp_generator(2, hidden=(16,))
    d = gan.build_mlp_discriminator(hidden=(16,))
    real = tf.constant(data.ring(128, np.random.default_rng(0)))
    z = tf.constant(np.random.default_rng(1).standard_normal((512, 2)).astype(np.float32))
    before = scalar(gan.generator_loss_non_saturating(d(g(z))))
    g_opt, d_opt = keras.optimizers.Adam(1e-2), keras.optimizers.SGD(learning_rate=0.0)
    for _ in range(10):
        gan.gan_train_step(g, d, g_opt, d_opt, real, latent_dim=2, seed=keras.random.SeedGenerator(0))
    assert scalar(gan.generator_loss_non_saturating(d(g(z)))) < before - 0.05


@pytest.mark.slow
def test_gan_learns_the_ring(make_ring_gan):
    """About 2,500 steps of a plain GAN on the 8-Gaussian ring (a few seconds on 2 cores)."""
    training.set_seed(0)
    model = make_ring_gan(hidden=(128, 128, 128), seed=0, lr=1e-3, steps_per_execution=100)
    centers = data.ring_centers()
    untrained = metrics.mode_coverage(model.sample(2500, seed=1), centers, data.RING_STD)
    points = data.ring(256 * 500, np.random.default_rng(0))
    model.fit(points, batch_size=256, epochs=5, verbose=0)
    trained = metrics.mode_coverage(model.sample(2500, seed=1), centers, data.RING_STD)
    assert int(model.g_optimizer.iterations.numpy()) == 2500
    assert trained.modes >= 4, str(trained)
    assert trained.high_quality >= 0.3, str(trained)
    assert trained.high_quality > untrained.high_quality + 0.25, (str(untrained), str(trained))


def _ring_dataset() -> tf.data.Dataset:
    return tf.data.Dataset.from_tensor_slices(data.ring(64, np.random.default_rng(0))).batch(32)


def test_gan_fit_on_a_dataset_does_not_warn_about_shuffle(make_ring_gan, recwarn):
    model = make_ring_gan()
    model.fit(_ring_dataset(), epochs=1, verbose=0)
    assert not [w for w in recwarn if "shuffle" in str(w.message)], [str(w.message) for w in recwarn]
    # The check can fail: asking Keras (3.15 and later; older ones never warn) to shuffle a
    # Dataset explicitly warns.
    if tuple(map(int, keras.version().split(".")[:2])) >= (3, 15):
        with pytest.warns(UserWarning, match="shuffle=True"):
            model.fit(_ring_dataset(), epochs=1, verbose=0, shuffle=True)
