"""MADE: the masks' ordering, exact normalisation over all binary vectors, sampling, bad input."""

from __future__ import annotations

import itertools

import keras
import numpy as np
import pytest
import tensorflow as tf

from genmodels import autoregressive


def _all_binary_vectors(n: int) -> np.ndarray:
    return np.array(list(itertools.product([0.0, 1.0], repeat=n)), dtype=np.float32)


def _randomise(network: keras.Model, seed: int) -> None:
    """Random weights everywhere (biases too), so that no dependence is hidden by zeros."""
    rng = np.random.default_rng(seed)
    network.set_weights([rng.normal(size=w.shape).astype(np.float32) for w in network.get_weights()])


@pytest.mark.parametrize(
    ("hidden", "direct", "ordering"),
    [((16,), True, None), ((12, 9), False, None), ((20,), True, np.array([3, 0, 5, 1, 4, 2]))],
)
def test_output_d_depends_only_on_earlier_inputs(hidden, direct, ordering):
    """d logit_d / d x_j is zero exactly when j does not come before d in the ordering."""
    keras.utils.set_random_seed(0)
    network = autoregressive.build_made(6, hidden, direct=direct, ordering=ordering)
    _randomise(network, 1)
    position = np.empty(6, dtype=int)
    position[np.arange(6) if ordering is None else ordering] = np.arange(6)
    x = tf.constant(np.random.default_rng(2).random((8, 6)), tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(x)
        logits = network(x)
    jacobian = tape.batch_jacobian(logits, x).numpy()  # (8, output d, input j)
    depends = np.abs(jacobian).max(axis=0) > 0
    allowed = position[None, :] < position[:, None]  # [d, j]: j comes before d
    assert not np.any(depends & ~allowed), "an output sees an input at or after its own position"
    if direct:  # the linear direct path uses every allowed connection: the masks are not too strict
        assert np.array_equal(depends, allowed)


def test_perturbing_a_later_input_leaves_earlier_conditionals_unchanged():
    keras.utils.set_random_seed(0)
    network = autoregressive.build_made(10, (32,))
    _randomise(network, 3)
    x = np.random.default_rng(4).integers(0, 2, (5, 10)).astype(np.float32)
    changed = x.copy()
    changed[:, 6] = 1 - changed[:, 6]
    before, after = network(x).numpy(), network(changed).numpy()
    np.testing.assert_array_equal(before[:, :7], after[:, :7])  # outputs 0..6 cannot see x_6
    assert np.all(np.abs(before[:, 7:] - after[:, 7:]).max(axis=0) > 0)


@pytest.mark.parametrize("ordering", [None, np.array([2, 4, 0, 1, 3])])
def test_exact_likelihood_sums_to_one_over_all_binary_vectors(ordering):
    keras.utils.set_random_seed(0)
    model = autoregressive.MADE(autoregressive.build_made(5, (24,), ordering=ordering), ordering=ordering)
    _randomise(model.network, 5)
    log_p = model.log_prob(_all_binary_vectors(5))
    assert log_p.shape == (32,)
    assert np.isclose(np.exp(log_p).sum(), 1.0, atol=1e-5)


def test_a_broken_mask_is_caught_by_the_normalisation_test():
    """The test above can fail: a network whose output 0 sees x_0 does not sum to 1."""
    keras.utils.set_random_seed(0)
    masks, direct = autoregressive.made_masks(5, (24,))
    cheating = np.ones_like(direct)  # every output sees every input
    x = keras.Input((5,))
    logits = autoregressive.MaskedDense(masks[1])(autoregressive.MaskedDense(masks[0], "relu")(x))
    logits = keras.layers.Add()([logits, autoregressive.MaskedDense(cheating, use_bias=False)(x)])
    model = autoregressive.MADE(keras.Model(x, logits))
    _randomise(model.network, 6)
    assert not np.isclose(np.exp(model.log_prob(_all_binary_vectors(5))).sum(), 1.0, atol=1e-3)


def test_training_lowers_the_nll_and_sampling_follows_the_conditionals():
    """Data where x_1 copies x_0: after training, samples copy too, and log p is near log 1/2."""
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    first = rng.integers(0, 2, (2048, 1))
    x = np.concatenate([first, first, rng.integers(0, 2, (2048, 1))], axis=1).astype(np.float32)
    model = autoregressive.MADE(autoregressive.build_made(3, (16,)))
    model.compile(optimizer=keras.optimizers.Adam(0.05))
    history = model.fit(x, batch_size=256, epochs=15, verbose=0)
    assert history.history["nll"][-1] < history.history["nll"][0]
    nll = -model.log_prob(x).mean()
    assert nll < 2 * np.log(2) + 0.05  # two fair coins; the copy costs nothing
    samples = model.sample(500, seed=1)
    assert samples.shape == (500, 3) and set(np.unique(samples)) <= {0.0, 1.0}
    assert np.mean(samples[:, 0] == samples[:, 1]) > 0.95
    assert 0.35 < samples[:, 0].mean() < 0.65


def test_images_are_flattened():
    model = autoregressive.MADE(autoregressive.build_made(16, (8,)))
    images = np.random.default_rng(0).integers(0, 2, (3, 4, 4, 1)).astype(np.float32)
    np.testing.assert_allclose(model.log_prob(images), model.log_prob(images.reshape(3, 16)))


def test_bad_input():
    model = autoregressive.MADE(autoregressive.build_made(4, (8,)))
    with pytest.raises(ValueError, match="only 0s and 1s"):
        model.log_prob(np.full((2, 4), 0.5))
    with pytest.raises(ValueError, match=r"shape \(N, 4\)"):
        model.log_prob(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="permutation"):
        autoregressive.made_masks(4, (8,), ordering=np.array([0, 1, 1, 2]))
    with pytest.raises(ValueError, match="at least 2"):
        autoregressive.build_made(1, (4,))
    with pytest.raises(ValueError, match="positive integer"):
        autoregressive.build_made(4, (0,))
    with pytest.raises(ValueError, match="positive integer"):
        model.sample(0)
