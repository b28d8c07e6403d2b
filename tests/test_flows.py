"""RealNVP: invertibility, the log-determinant against a finite-difference Jacobian, training, bad input."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from genmodels import data, flows


def _random_flow(seed: int = 0, data_dim: int = 2, n_layers: int = 4) -> flows.RealNVP:
    """A flow far from the identity: the zero-initialised output layers get random weights."""
    keras.utils.set_random_seed(seed)
    flow = flows.RealNVP(data_dim, n_layers, hidden=(16, 16))
    rng = np.random.default_rng(seed)
    for layer in flow.couplings:
        layer.out.set_weights(
            [rng.normal(scale=0.5, size=w.shape).astype(np.float32) for w in layer.out.get_weights()]
        )
    return flow


@pytest.mark.parametrize("data_dim", [2, 3, 5])
def test_inverse_undoes_forward_and_back(data_dim):
    flow = _random_flow(1, data_dim)
    x = np.random.default_rng(2).normal(size=(64, data_dim)).astype(np.float32)
    z = flow.encode(x)
    assert np.abs(z - x).max() > 0.1, "the flow must not be the identity, or the test proves nothing"
    np.testing.assert_allclose(flow.decode(z), x, atol=1e-4)
    np.testing.assert_allclose(flow.encode(flow.decode(x)), x, atol=1e-4)


@pytest.mark.parametrize("data_dim", [2, 3])
def test_log_det_matches_a_finite_difference_jacobian(data_dim):
    flow = _random_flow(3, data_dim)
    x = np.random.default_rng(4).normal(size=(6, data_dim))
    _, log_det = flow.forward(keras.ops.convert_to_tensor(x.astype(np.float32)))
    h = 1e-3
    for i, point in enumerate(x):
        columns = []
        for e in np.eye(data_dim):
            plus = flow.encode((point + h * e)[None].astype(np.float32))[0].astype(np.float64)
            minus = flow.encode((point - h * e)[None].astype(np.float32))[0].astype(np.float64)
            columns.append((plus - minus) / (2 * h))
        jacobian = np.stack(columns, axis=1)
        assert np.isclose(np.log(abs(np.linalg.det(jacobian))), float(log_det[i]), atol=2e-2)


def test_density_integrates_to_one():
    flow = _random_flow(5)
    grid = np.linspace(-30, 30, 2001)  # a random flow has heavy tails: a wide grid
    xx, yy = np.meshgrid(grid, grid)
    points = np.stack([xx.ravel(), yy.ravel()], axis=1).astype(np.float32)
    mass = np.exp(flow.log_prob(points)).sum() * (grid[1] - grid[0]) ** 2
    assert np.isclose(mass, 1.0, atol=0.02)


def test_a_single_coupling_inverse_and_log_det():
    keras.utils.set_random_seed(0)
    layer = flows.AffineCoupling(np.array([1.0, 0.0]), hidden=(8,))
    layer.build((None, 2))
    layer.out.set_weights([np.full(w.shape, 0.3, np.float32) for w in layer.out.get_weights()])
    x = np.array([[0.5, -1.0], [2.0, 0.3]], np.float32)
    y, log_det = (keras.ops.convert_to_numpy(v) for v in layer(x))
    np.testing.assert_array_equal(y[:, 0], x[:, 0])  # the kept coordinate passes through
    s, t = (keras.ops.convert_to_numpy(v) for v in layer.scale_and_shift(x * layer.mask))
    np.testing.assert_allclose(y[:, 1], x[:, 1] * np.exp(s[:, 1]) + t[:, 1], rtol=1e-6)
    np.testing.assert_allclose(log_det, s[:, 1], rtol=1e-6)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer.inverse(y)), x, atol=1e-6)


def test_training_raises_the_likelihood_towards_the_truth():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = (rng.normal(size=(4096, 2)) * [0.5, 2.0] + [1.0, -1.0]).astype(np.float32)
    flow = flows.RealNVP(2, 4, hidden=(16,))
    flow.compile(optimizer=keras.optimizers.Adam(1e-2))
    before = flow.log_prob(x).mean()
    flow.fit(x, batch_size=256, epochs=20, verbose=0)
    after = flow.log_prob(x).mean()
    true_mean_log_p = -np.log(2 * np.pi * 0.5 * 2.0) - 1.0  # Gaussian entropy in 2-D
    assert after > before + 1.0
    assert abs(after - true_mean_log_p) < 0.1
    samples = flow.sample(4000, seed=1)
    np.testing.assert_allclose(samples.mean(axis=0), [1.0, -1.0], atol=0.15)


def test_bad_input():
    flow = flows.RealNVP(2, 2, hidden=(4,))
    with pytest.raises(ValueError, match=r"shape \(N, 2\)"):
        flow.log_prob(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="NaN"):
        flow.encode(np.array([[np.nan, 0.0]]))
    with pytest.raises(ValueError, match="n_layers must be >= 2"):
        flows.RealNVP(2, 1)
    with pytest.raises(ValueError, match="data_dim >= 2"):
        flows.coupling_masks(1, 2)
    with pytest.raises(ValueError, match="0s and 1s"):
        flows.AffineCoupling(np.array([1.0, 1.0]))
    with pytest.raises(ValueError, match=r"shape \(N, 2\)"):
        flow.fit(data.ring(10, np.random.default_rng(0))[:, :1], epochs=1, verbose=0)
