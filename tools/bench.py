"""Speed and memory benchmarks of the models the chapters train; prints a Markdown table.

    python tools/bench.py            (or: make bench)

Times are wall-clock on this machine and vary with its load, so nothing here is a test:
compare the ratios within one run (e.g. ``fit()`` against the explicit loop), and the
absolute numbers with the budgets the chapters state (DESIGN.md §5: each chapter about
3 minutes on 2 CPU cores).

It also compares likelihoods at equal training time (:func:`vae_comparison`, a few minutes):
the VAE of the chapter "VAE in code", the shape of the TensorFlow tutorial's convolutional VAE
trained for the same wall time, and independent Bernoulli pixels, as NLL in nats (-L_1000).
"""

from __future__ import annotations

import resource
import time
from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

from genmodels import data, gan, metrics, training, vae


def _rate(run: Callable[[], None], units: int, repeats: int = 3) -> float:
    """Best-of-``repeats`` throughput of ``run`` in units per second (after one warm-up)."""
    run()
    best = min(_timed(run) for _ in range(repeats))
    return units / best


def _timed(run: Callable[[], None]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def _adam() -> keras.optimizers.Optimizer:
    return keras.optimizers.Adam(2e-4, beta_1=0.5)


def ring_gan_explicit(steps: int = 500) -> float:
    """Steps/s of the chapter's explicit ``tf.function`` loop on the 8-Gaussian ring (batch 256)."""
    generator, discriminator = gan.build_mlp_generator(2, 2), gan.build_mlp_discriminator(2)
    g_opt, d_opt, noise = _adam(), _adam(), keras.random.SeedGenerator(0)
    batches = data.ring(steps * 256, np.random.default_rng(0)).reshape(steps, 256, 2)

    @tf.function
    def step(batch: tf.Tensor) -> dict:
        return gan.gan_train_step(generator, discriminator, g_opt, d_opt, batch, 2, noise)

    def run() -> None:
        for batch in batches:
            step(batch)

    return _rate(run, steps)


def ring_gan_fit(steps: int = 500) -> float:
    """Steps/s of ``GAN.fit`` on the same problem (100 steps per execution)."""
    model = gan.GAN(gan.build_mlp_generator(2, 2), gan.build_mlp_discriminator(2), seed=0)
    model.compile(g_optimizer=_adam(), d_optimizer=_adam(), steps_per_execution=100)
    points = data.ring(steps * 256, np.random.default_rng(0))
    return _rate(lambda: model.fit(points, batch_size=256, epochs=1, verbose=0, shuffle=False), steps)


def dcgan_fit(steps: int = 60) -> float:
    """Steps/s of the chapter's DCGAN (batch 64, 28x28x1) through ``fit``."""
    model = gan.GAN(gan.build_dcgan_generator(64), gan.build_dcgan_discriminator(), data_range=(-1.0, 1.0))
    model.compile(g_optimizer=_adam(), d_optimizer=_adam())
    images = np.random.default_rng(0).uniform(-1, 1, (steps * 64, 28, 28, 1)).astype(np.float32)
    return _rate(lambda: model.fit(images, batch_size=64, epochs=1, verbose=0), steps, repeats=2)


def mlp_vae_epoch_seconds(n: int = 12_800) -> float:
    """Seconds per 60,000-image epoch of the MLP VAE (batch 128, latent 16), extrapolated from ``n``."""
    encoder, decoder = vae.build_mlp_encoder(latent_dim=16), vae.build_mlp_decoder(latent_dim=16)
    model = vae.VAE(encoder, decoder, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    images = (np.random.default_rng(0).random((n, 28, 28, 1)) < 0.3).astype(np.float32)
    rate = _rate(lambda: model.fit(images, batch_size=128, epochs=1, verbose=0), n, repeats=2)
    return 60_000 / rate


def tutorial_cvae(latent_dim: int = 2) -> tuple[keras.Model, keras.Model]:
    """The shape of the TensorFlow tutorial "Convolutional Variational Autoencoder".

    Encoder: two 3x3 stride-2 convolutions (32, 64 filters), a dense layer giving mean and
    log-variance; decoder: a dense layer to 7x7x32, two 3x3 stride-2 transposed
    convolutions (64, 32 filters) and a 3x3 transposed convolution to one logit per pixel.
    """
    layers = keras.layers
    x = keras.Input((28, 28, 1))
    h = layers.Conv2D(32, 3, strides=2, activation="relu")(x)
    h = layers.Conv2D(64, 3, strides=2, activation="relu")(h)
    h = layers.Flatten()(h)
    encoder = keras.Model(x, [layers.Dense(latent_dim)(h), layers.Dense(latent_dim)(h)])
    z = keras.Input((latent_dim,))
    h = layers.Reshape((7, 7, 32))(layers.Dense(7 * 7 * 32, activation="relu")(z))
    h = layers.Conv2DTranspose(64, 3, strides=2, padding="same", activation="relu")(h)
    h = layers.Conv2DTranspose(32, 3, strides=2, padding="same", activation="relu")(h)
    decoder = keras.Model(z, layers.Conv2DTranspose(1, 3, strides=1, padding="same")(h))
    return encoder, decoder


class _StopAfter(keras.callbacks.Callback):
    """Stops training once ``seconds`` of wall time have passed since training began."""

    def __init__(self, seconds: float):
        super().__init__()
        self.seconds = seconds

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.start = time.perf_counter()

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if time.perf_counter() - self.start >= self.seconds:
            self.model.stop_training = True


def vae_comparison(epochs: int = 16, n_test: int = 500, k: int = 1000) -> list[tuple[str, str, str]]:
    """NLL (-L_k, nats) of the chapter's VAE, the tutorial's CVAE shape trained for the same
    wall time, and the factorised Bernoulli baseline, on the chapter's binarised test images."""
    train, _ = data.load_fashion_mnist("train")
    test, _ = data.load_fashion_mnist("test")
    train_x = data.to_unit_interval(train)
    test_x = data.binarize(data.to_unit_interval(test[:2000]), np.random.default_rng(2026))[:n_test]

    training.set_seed(0)
    ours = vae.VAE(
        vae.build_mlp_encoder(latent_dim=32, hidden=(512, 256)),
        vae.build_mlp_decoder(latent_dim=32, hidden=(256, 512)),
        seed=0,
    )
    steps = len(train_x) // 128  # the chapter's recipe: cosine-decayed Adam, 3 epochs of KL warm-up
    schedule = keras.optimizers.schedules.CosineDecay(2e-3, epochs * steps, alpha=0.05)
    ours.compile(optimizer=keras.optimizers.Adam(schedule))
    stream, warm_up = vae.DynamicallyBinarized(train_x, 128, seed=0), vae.KLWarmUp(3, steps)
    budget = _timed(lambda: ours.fit(stream, epochs=epochs, verbose=0, callbacks=[warm_up]))

    training.set_seed(0)
    tutorial = vae.VAE(*tutorial_cvae(), seed=0)
    tutorial.compile(optimizer=keras.optimizers.Adam(1e-4))
    stream = vae.DynamicallyBinarized(train_x, 32, seed=0)
    tutorial.fit(stream, epochs=1000, verbose=0, callbacks=[_StopAfter(budget)])
    tutorial_images = tutorial.optimizer.iterations.numpy() * 32

    def nll(model: vae.VAE) -> float:
        return -float(
            metrics.importance_weighted_bound(model.encoder, model.decoder, test_x, k, seed=0).mean()
        )

    logits = np.broadcast_to(vae.factorised_bernoulli_logits(train_x), test_x.shape)
    baseline = -float(np.mean(vae.bernoulli_log_likelihood(test_x, logits)))
    where = f"-L_{k}, {n_test} binarised test images"
    return [
        (
            f"chapter VAE (MLP 512-256, latent 32, batch 128), {epochs} epochs",
            f"{nll(ours):.1f} nats",
            f"{where}; {budget:.0f} s",
        ),
        (
            "TF tutorial CVAE shape (conv, latent 2, Adam 1e-4, batch 32), same time",
            f"{nll(tutorial):.1f} nats",
            f"{where}; {tutorial_images / 60_000:.2f} epochs in {budget:.0f} s",
        ),
        ("factorised Bernoulli (training pixel means)", f"{baseline:.1f} nats", where),
    ]


def main() -> None:
    training.set_seed(0)
    explicit, fitted = ring_gan_explicit(), ring_gan_fit()
    rows = [
        ("ring GAN, explicit tf.function loop", f"{explicit:.0f} steps/s", "600-900 steps/s (DESIGN §6)"),
        (
            "ring GAN, GAN.fit (steps_per_execution=100)",
            f"{fitted:.0f} steps/s",
            f"{fitted / explicit:.2f}x explicit",
        ),
        ("DCGAN 28x28, batch 64, fit", f"{dcgan_fit():.1f} steps/s", "2,000 steps in the chapter"),
        (
            "MLP VAE, 60k images, batch 128",
            f"{mlp_vae_epoch_seconds():.1f} s/epoch",
            "~7 s/epoch (DESIGN §6)",
        ),
        *vae_comparison(),
        ("peak resident memory", f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB", ""),
    ]
    print("| benchmark | measured | reference |\n| --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
