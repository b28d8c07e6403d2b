"""Speed and memory benchmarks of the models the chapters train; prints a Markdown table.

    python tools/bench.py            (or: make bench)

Times are wall-clock on this machine and vary with its load, so nothing here is a test:
compare the ratios within one run (e.g. ``fit()`` against the explicit loop), and the
absolute numbers with the budgets the chapters state (DESIGN.md §5: each chapter about
3 minutes on 2 CPU cores).
"""

from __future__ import annotations

import resource
import time
from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

from genmodels import data, gan, training, vae


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
        ("peak resident memory", f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB", ""),
    ]
    print("| benchmark | measured | reference |\n| --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
