"""genmodels.remedies: packing, minibatch std, gradient penalty, weight penalty, unrolled loss."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from genmodels import gan, remedies

# Keras' own conversion of a tensor to NumPy trips a NumPy 2 deprecation inside Keras; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")


def numpy(t) -> np.ndarray:
    return keras.ops.convert_to_numpy(t)


def test_pack_puts_consecutive_points_side_by_side():
    points = tf.constant(np.arange(12, dtype=np.float32).reshape(6, 2))
    packed = numpy(remedies.pack(points, 3))
    assert packed.shape == (2, 6)
    np.testing.assert_array_equal(packed[0], [0, 1, 2, 3, 4, 5])
    np.testing.assert_array_equal(packed[1], [6, 7, 8, 9, 10, 11])
    np.testing.assert_array_equal(numpy(remedies.pack(points, 1)), numpy(points))


@pytest.mark.parametrize(("shape", "m", "match"), [((5, 2), 2, "multiple of 2"), ((4, 2, 1), 2, r"\(N, d\)")])
def test_pack_rejects_what_cannot_be_packed(shape, m, match):
    with pytest.raises(ValueError, match=match):
        remedies.pack(tf.zeros(shape), m)
    with pytest.raises(ValueError, match="positive integer"):
        remedies.pack(tf.zeros((4, 2)), 0)


def test_minibatch_std_feature_is_the_average_spread():
    features = np.random.default_rng(0).normal(size=(64, 5)).astype(np.float32)
    out = numpy(remedies.MinibatchStdDev()(features))
    assert out.shape == (64, 6)
    np.testing.assert_array_equal(out[:, :5], features)
    expected = np.sqrt(features.var(axis=0) + 1e-8).mean()
    np.testing.assert_allclose(out[:, 5], expected, rtol=1e-5)
    collapsed = numpy(remedies.MinibatchStdDev()(np.ones((64, 5), np.float32)))
    assert np.all(collapsed[:, 5] < 1e-3)  # a batch of identical points has (almost) no spread


@pytest.mark.parametrize(
    ("pack_size", "mbstd", "sn"), [(1, False, False), (4, True, False), (2, False, True)]
)
def test_discriminator_shapes_and_layers(pack_size, mbstd, sn):
    model = remedies.build_discriminator(2, (16, 16), pack_size, mbstd, sn)
    assert tuple(model.inputs[0].shape) == (None, 2 * pack_size)
    assert numpy(model(np.zeros((8, 2 * pack_size), np.float32))).shape == (8, 1)
    kinds = {type(layer).__name__ for layer in model.layers}
    assert ("MinibatchStdDev" in kinds) == mbstd
    assert ("SpectralNormalization" in kinds) == sn


def test_gradient_penalty_of_a_linear_critic():
    # critic(x) = w . x has gradient w everywhere: the penalty is (||w|| - 1)^2 exactly.
    x = keras.Input((2,))
    critic = keras.Model(x, keras.layers.Dense(1, use_bias=False)(x))
    w = np.array([[3.0], [4.0]], np.float32)
    critic.layers[-1].kernel.assign(w)
    rng = np.random.default_rng(0)
    real, fake = rng.normal(size=(32, 2)).astype(np.float32), rng.normal(size=(32, 2)).astype(np.float32)
    penalty = float(remedies.gradient_penalty(critic, real, fake, keras.random.SeedGenerator(0)))
    assert penalty == pytest.approx((5.0 - 1.0) ** 2, rel=1e-5)


def test_weight_penalty_by_hand():
    w = [tf.constant([[1.0, -2.0]]), tf.constant([3.0])]
    assert float(remedies.weight_penalty(w, l1=0.5)) == pytest.approx(0.5 * 6.0)
    assert float(remedies.weight_penalty(w, l2=0.1)) == pytest.approx(0.1 * 14.0)
    assert float(remedies.weight_penalty(w)) == 0.0
    with pytest.raises(ValueError, match=">= 0"):
        remedies.weight_penalty(w, l1=-1.0)


def _small_discriminator(seed: int = 0) -> keras.Model:
    keras.utils.set_random_seed(seed)
    return remedies.build_discriminator(2, (8, 8))


def test_unrolled_loss_with_zero_learning_rate_is_the_plain_loss():
    D = _small_discriminator()
    rng = np.random.default_rng(1)
    real, fake = rng.normal(size=(16, 2)).astype(np.float32), rng.normal(size=(16, 2)).astype(np.float32)
    plain = float(gan.generator_loss_non_saturating(D(fake)))
    unrolled = float(
        remedies.unrolled_generator_loss(D, real, fake, gan.generator_loss_non_saturating, 3, 0.0)
    )
    assert unrolled == pytest.approx(plain, rel=1e-6)


def test_unrolled_loss_uses_a_look_ahead_copy_and_leaves_d_unchanged():
    D = _small_discriminator()
    rng = np.random.default_rng(2)
    real, fake = rng.normal(size=(16, 2)).astype(np.float32), rng.normal(size=(16, 2)).astype(np.float32)
    before = [numpy(v).copy() for v in D.trainable_variables]
    fake_t = tf.constant(fake)
    with tf.GradientTape() as tape:
        tape.watch(fake_t)
        loss = remedies.unrolled_generator_loss(D, real, fake_t, gan.generator_loss_non_saturating, 1, 0.5)
    grad = tape.gradient(loss, fake_t)
    for old, new in zip(before, D.trainable_variables, strict=True):
        np.testing.assert_array_equal(old, numpy(new))
    # the same look-ahead by hand: one SGD step on a copy of D
    D2 = _small_discriminator()
    with tf.GradientTape() as t:
        d_loss = gan.discriminator_loss(D2(real), D2(fake))
    for v, g in zip(D2.trainable_variables, t.gradient(d_loss, D2.trainable_variables), strict=True):
        v.assign_sub(0.5 * g)
    assert float(loss) == pytest.approx(float(gan.generator_loss_non_saturating(D2(fake))), rel=1e-5)
    assert float(loss) != pytest.approx(float(gan.generator_loss_non_saturating(D(fake))), rel=1e-3)
    assert grad is not None and np.all(np.isfinite(numpy(grad)))


def test_adam_look_ahead_matches_the_real_adam_steps_and_leaves_d_unchanged():
    """Two look-ahead steps = two real steps of the discriminator's Adam (moments, count, rate)."""
    D = _small_discriminator()
    optimizer = keras.optimizers.Adam(1e-2, beta_1=0.5)
    optimizer.build(D.trainable_variables)
    rng = np.random.default_rng(3)
    real, fake = rng.normal(size=(16, 2)).astype(np.float32), rng.normal(size=(16, 2)).astype(np.float32)

    def real_step() -> None:
        with tf.GradientTape() as tape:
            loss = gan.discriminator_loss(D(real), D(fake))
        optimizer.apply_gradients(
            zip(tape.gradient(loss, D.trainable_variables), D.trainable_variables, strict=True)
        )

    real_step()  # non-zero moments and a step count of 1 to continue from
    before = [numpy(v).copy() for v in D.trainable_variables]
    mean_logit = tf.reduce_mean
    looked_ahead = float(remedies.unrolled_generator_loss_adam(D, optimizer, real, fake, mean_logit, 2))
    for old, new in zip(before, D.trainable_variables, strict=True):
        np.testing.assert_array_equal(old, numpy(new))
    now = float(mean_logit(D(fake)))
    real_step(), real_step()
    assert looked_ahead == pytest.approx(float(mean_logit(D(fake))), rel=1e-4, abs=1e-6)
    assert looked_ahead != pytest.approx(now, rel=1e-3)


def test_adam_look_ahead_refuses_an_unbuilt_or_other_optimizer():
    D = _small_discriminator()
    points = np.zeros((4, 2), np.float32)
    with pytest.raises(ValueError, match="build the optimizer"):
        remedies.unrolled_generator_loss_adam(D, keras.optimizers.Adam(), points, points, tf.reduce_mean, 1)
    with pytest.raises(TypeError, match="Adam"):
        remedies.unrolled_generator_loss_adam(D, keras.optimizers.SGD(), points, points, tf.reduce_mean, 1)


def test_batch_norm_generator_normalises_in_training_and_samples_deterministically():
    G = remedies.build_batch_norm_generator(2, 2, (16, 16))
    z = np.random.default_rng(0).normal(size=(32, 2)).astype(np.float32)
    assert G(z, training=True).shape == (32, 2)
    assert len([layer for layer in G.layers if isinstance(layer, keras.layers.BatchNormalization)]) == 2
    np.testing.assert_allclose(numpy(G(z[:1], training=False)), numpy(G(z, training=False))[:1], rtol=1e-5)
