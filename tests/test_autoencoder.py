"""The plain autoencoder: it reconstructs after training, checks its input; nearest-neighbour distances."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from genmodels import autoencoder, vae


def _tiny(latent_dim: int = 4) -> autoencoder.Autoencoder:
    keras.utils.set_random_seed(0)
    return autoencoder.Autoencoder(
        autoencoder.build_encoder((6, 6, 1), latent_dim, hidden=(32,)),
        vae.build_mlp_decoder(latent_dim, (6, 6, 1), hidden=(32,)),
    )


def test_training_lowers_the_reconstruction_loss():
    rng = np.random.default_rng(0)
    prototypes = rng.random((4, 6, 6, 1))
    images = np.clip(prototypes[rng.integers(0, 4, 1024)] + 0.05 * rng.normal(size=(1024, 6, 6, 1)), 0, 1)
    model = _tiny()
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    history = model.fit(images.astype(np.float32), batch_size=128, epochs=10, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    error = np.abs(model.decode(model.encode(images[:100])) - images[:100]).mean()
    assert error < 0.12
    assert model.encode(images[:3]).shape == (3, 4)


def test_principal_component_features():
    rng = np.random.default_rng(1)
    # images that vary mostly along one direction, then a weaker second one
    directions = rng.normal(size=(2, 16))
    reference = 3.0 * rng.normal(size=(500, 1)) * directions[0] + rng.normal(size=(500, 1)) * directions[1]
    reference = (reference + 0.01 * rng.normal(size=(500, 16))).reshape(500, 4, 4)
    features = autoencoder.principal_component_features(reference, n_components=3)
    projected = features(reference)
    assert projected.shape == (500, 3)
    variances = projected.var(axis=0)
    assert variances[0] > variances[1] > variances[2]
    np.testing.assert_allclose(projected.mean(axis=0), 0, atol=1e-9)  # centred on the reference
    flat = reference.reshape(500, -1) - reference.reshape(500, -1).mean(axis=0)
    first_axis = np.linalg.eigh(np.cov(flat, rowvar=False))[1][:, -1]
    np.testing.assert_allclose(np.abs(projected[:, 0]), np.abs(flat @ first_axis), atol=1e-6)


def test_bad_input():
    model = _tiny()
    with pytest.raises(ValueError, match=r"values in \[0, 1\]"):
        model.encode(np.full((2, 6, 6, 1), 255.0))
    with pytest.raises(ValueError, match=r"shape \(N, 4\)"):
        model.decode(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="decoder must map"):
        autoencoder.Autoencoder(autoencoder.build_encoder((6, 6, 1), 4), vae.build_mlp_decoder(3, (6, 6, 1)))
    features = autoencoder.principal_component_features(np.random.default_rng(0).random((20, 3, 3)), 4)
    with pytest.raises(ValueError, match=r"axes are for \(3, 3\)"):
        features(np.zeros((2, 4, 4)))
    with pytest.raises(ValueError, match="at most 9"):
        autoencoder.principal_component_features(np.zeros((20, 3, 3)), 10)
