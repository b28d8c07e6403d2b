"""Shared fixtures of the unit tests: a quiet TensorFlow and a small 2-D GAN factory."""

from __future__ import annotations

import os

# Before TensorFlow is imported anywhere: keep its C++ start-up chatter out of the test log.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest


@pytest.fixture
def make_ring_gan():
    """Factory of compiled MLP GANs for 2-D data; small by default so that tests stay fast."""

    def make(hidden=(16, 16), seed=0, lr=1e-3, **compile_kwargs):
        import keras

        from genmodels import gan

        keras.utils.set_random_seed(seed)
        model = gan.GAN(
            gan.build_mlp_generator(2, hidden=hidden),
            gan.build_mlp_discriminator(hidden=hidden),
            seed=seed,
        )
        model.compile(
            g_optimizer=keras.optimizers.Adam(lr, beta_1=0.5),
            d_optimizer=keras.optimizers.Adam(lr, beta_1=0.5),
            **compile_kwargs,
        )
        return model

    return make
