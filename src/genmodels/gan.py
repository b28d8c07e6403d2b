"""Generative adversarial networks (Goodfellow et al. 2014), corrected and runnable.

Conventions:

* The discriminator returns a **logit** ``l`` of shape ``(N, 1)``; ``D(x) = sigmoid(l)``.
  Losses are written with ``softplus`` on logits, which equals the textbook
  ``-log D`` / ``-log(1 - D)`` without the ``log(0)`` overflow of a sigmoid output.
* The generator maps ``z ~ N(0, I)`` of shape ``(N, latent_dim)`` to data of shape
  ``(N, *data_shape)``. Image generators end in ``tanh``: images live in ``[-1, 1]``.

One function, :func:`gan_train_step`, holds the two-player update. The book shows it as
an explicit ``GradientTape`` loop, and :class:`GAN.train_step` calls the very same function
so that ``fit()`` with callbacks, checkpoints and a progress bar trains identically.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from genmodels.validation import check_batch, check_positive_int

# ---------------------------------------------------------------- losses (from logits)


def discriminator_loss(real_logits: tf.Tensor, fake_logits: tf.Tensor) -> tf.Tensor:
    """``-E[log D(x)] - E[log(1 - D(G(z)))]``, the negated value function; scalar.

    ``-log sigmoid(l) = softplus(-l)`` and ``-log(1 - sigmoid(l)) = softplus(l)``.
    """
    return tf.reduce_mean(tf.nn.softplus(-real_logits)) + tf.reduce_mean(tf.nn.softplus(fake_logits))


def generator_loss_minimax(fake_logits: tf.Tensor) -> tf.Tensor:
    """``E[log(1 - D(G(z)))]``: the generator's term of the minimax game (it minimises it).

    Saturates: when ``D(G(z)) ~ 0`` its gradient vanishes. Equal to ``-softplus(l)``.
    """
    return -tf.reduce_mean(tf.nn.softplus(fake_logits))


def generator_loss_non_saturating(fake_logits: tf.Tensor) -> tf.Tensor:
    """``-E[log D(G(z))]``: the non-saturating generator loss of Goodfellow et al. 2014."""
    return tf.reduce_mean(tf.nn.softplus(-fake_logits))


GENERATOR_LOSSES: dict[str, Callable[[tf.Tensor], tf.Tensor]] = {
    "non_saturating": generator_loss_non_saturating,
    "minimax": generator_loss_minimax,
}


def optimal_discriminator(p_data: np.ndarray, p_g: np.ndarray) -> np.ndarray:
    """``D*(x) = p_data(x) / (p_data(x) + p_g(x))`` for densities evaluated on the same points."""
    p_data, p_g = np.asarray(p_data, float), np.asarray(p_g, float)
    if np.any(p_data < 0) or np.any(p_g < 0):
        raise ValueError("densities must be non-negative")
    total = p_data + p_g
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, p_data / np.where(total > 0, total, 1.0), 0.5)


# ---------------------------------------------------------------- networks


def build_mlp_generator(
    latent_dim: int, data_dim: int = 2, hidden: Sequence[int] = (128, 128, 128)
) -> keras.Model:
    """MLP generator for low-dimensional data: ``(N, latent_dim) -> (N, data_dim)``, linear output."""
    latent_dim = check_positive_int(latent_dim, "latent_dim")
    data_dim = check_positive_int(data_dim, "data_dim")
    z = keras.Input((latent_dim,), name="z")
    h = z
    for i, width in enumerate(hidden):
        h = layers.Dense(check_positive_int(width, "hidden width"), "relu", name=f"dense_{i}")(h)
    x = layers.Dense(data_dim, name="x")(h)
    return keras.Model(z, x, name="mlp_generator")


def build_mlp_discriminator(data_dim: int = 2, hidden: Sequence[int] = (128, 128, 128)) -> keras.Model:
    """MLP discriminator: ``(N, data_dim) -> (N, 1)`` logits."""
    data_dim = check_positive_int(data_dim, "data_dim")
    x = keras.Input((data_dim,), name="x")
    h = x
    for i, width in enumerate(hidden):
        h = layers.Dense(check_positive_int(width, "hidden width"), "relu", name=f"dense_{i}")(h)
    logit = layers.Dense(1, name="logit")(h)
    return keras.Model(x, logit, name="mlp_discriminator")


def build_dcgan_generator(latent_dim: int = 64, base_channels: int = 128) -> keras.Model:
    """DCGAN generator for 28x28 greyscale images (Radford et al. 2016), sized for a CPU.

    ``(N, latent_dim) -> (N, 28, 28, 1)`` in ``[-1, 1]``: a dense layer to 7x7xC, then two
    stride-2 4x4 transposed convolutions (7 -> 14 -> 28), batch norm and ReLU between,
    ``tanh`` at the end. A 4x4 kernel with stride 2 overlaps evenly (the kernel size is a
    multiple of the stride), which reduces the checkerboard artefacts of uneven overlap,
    e.g. 5x5 kernels with stride 2 (Odena et al. 2016); it does not rule them out.
    """
    latent_dim = check_positive_int(latent_dim, "latent_dim")
    c = check_positive_int(base_channels, "base_channels")
    z = keras.Input((latent_dim,), name="z")
    h = layers.Dense(7 * 7 * c, use_bias=False)(z)
    h = layers.BatchNormalization()(h)
    h = layers.ReLU()(h)
    h = layers.Reshape((7, 7, c))(h)
    h = layers.Conv2DTranspose(c // 2, 4, strides=2, padding="same", use_bias=False)(h)
    h = layers.BatchNormalization()(h)
    h = layers.ReLU()(h)
    x = layers.Conv2DTranspose(1, 4, strides=2, padding="same", activation="tanh", name="image")(h)
    return keras.Model(z, x, name="dcgan_generator")


def build_dcgan_discriminator(base_channels: int = 64) -> keras.Model:
    """DCGAN discriminator: ``(N, 28, 28, 1)`` in ``[-1, 1]`` -> ``(N, 1)`` logits.

    Two stride-2 4x4 convolutions (28 -> 14 -> 7) with LeakyReLU(0.2), no batch norm on the
    first layer as in Radford et al. 2016, then a linear logit.
    """
    c = check_positive_int(base_channels, "base_channels")
    x = keras.Input((28, 28, 1), name="image")
    h = layers.Conv2D(c, 4, strides=2, padding="same")(x)
    h = layers.LeakyReLU(0.2)(h)
    h = layers.Conv2D(2 * c, 4, strides=2, padding="same", use_bias=False)(h)
    h = layers.BatchNormalization()(h)
    h = layers.LeakyReLU(0.2)(h)
    h = layers.Flatten()(h)
    logit = layers.Dense(1, name="logit")(h)
    return keras.Model(x, logit, name="dcgan_discriminator")


def check_pair(generator: keras.Model, discriminator: keras.Model) -> tuple[int, tuple[int, ...]]:
    """Check that ``discriminator(generator(z))`` fits together; return ``(latent_dim, data_shape)``.

    This is the check the article's generator fails: its output is ``(None, 28, 784)``,
    which no discriminator of 784-vectors or 28x28 images accepts.
    """
    if len(generator.inputs) != 1 or len(generator.outputs) != 1:
        raise ValueError("the generator must have exactly one input (z) and one output")
    latent_shape = tuple(generator.inputs[0].shape[1:])
    if len(latent_shape) != 1 or latent_shape[0] is None:
        raise ValueError(f"the generator's input must be a flat vector z, got shape {latent_shape}")
    g_out = tuple(generator.outputs[0].shape[1:])
    d_in = tuple(discriminator.inputs[0].shape[1:])
    if g_out != d_in:
        raise ValueError(
            f"generator output shape (None, {', '.join(map(str, g_out))}) does not match "
            f"discriminator input shape (None, {', '.join(map(str, d_in))})"
        )
    d_out = tuple(discriminator.outputs[0].shape[1:])
    if d_out != (1,):
        raise ValueError(f"the discriminator must return one logit per example, got shape {d_out}")
    return int(latent_shape[0]), g_out


# ---------------------------------------------------------------- the two-player update


def gan_train_step(
    generator: keras.Model,
    discriminator: keras.Model,
    g_optimizer: keras.optimizers.Optimizer,
    d_optimizer: keras.optimizers.Optimizer,
    real: tf.Tensor,
    latent_dim: int,
    seed: keras.random.SeedGenerator | None = None,
    generator_loss: Callable[[tf.Tensor], tf.Tensor] = generator_loss_non_saturating,
) -> dict[str, tf.Tensor]:
    """One alternating step of the game: a discriminator update, then a generator update.

    The updates alternate, they are not simultaneous: the generator's step is taken
    against the discriminator that has just been updated, with fresh noise.

    Args:
        real: a batch of real data, shape ``(N, *data_shape)``.
        latent_dim: size of ``z``; fresh noise is drawn for each player.
        seed: the noise's random state (a ``keras.random.SeedGenerator``).
        generator_loss: :func:`generator_loss_non_saturating` or :func:`generator_loss_minimax`.

    Returns:
        scalars ``d_loss``, ``g_loss`` and the mean ``D(x)`` on real and fake data.
    """
    batch = tf.shape(real)[0]
    z = keras.random.normal((batch, latent_dim), seed=seed)
    with tf.GradientTape() as d_tape:
        fake = generator(z, training=True)  # on this tape or not: D's gradient needs no path into G
        real_logits = discriminator(real, training=True)
        fake_logits = discriminator(fake, training=True)
        d_loss = discriminator_loss(real_logits, fake_logits)
    d_grads = d_tape.gradient(d_loss, discriminator.trainable_variables)
    d_optimizer.apply_gradients(zip(d_grads, discriminator.trainable_variables, strict=True))

    z = keras.random.normal((batch, latent_dim), seed=seed)
    with tf.GradientTape() as g_tape:
        # G(z) inside the generator's tape: its gradient flows back through D into G
        fake_logits_g = discriminator(generator(z, training=True), training=True)
        g_loss = generator_loss(fake_logits_g)
    g_grads = g_tape.gradient(g_loss, generator.trainable_variables)
    g_optimizer.apply_gradients(zip(g_grads, generator.trainable_variables, strict=True))
    return {
        "d_loss": d_loss,
        "g_loss": g_loss,
        "d_real": tf.reduce_mean(tf.sigmoid(real_logits)),
        "d_fake": tf.reduce_mean(tf.sigmoid(fake_logits)),
    }


class GAN(keras.Model):
    """A GAN as one ``keras.Model`` that owns its generator, discriminator and metrics.

    ``compile(g_optimizer=..., d_optimizer=...)`` then ``fit(real_data, ...)`` trains with
    :func:`gan_train_step`. ``data_range`` (e.g. ``(-1, 1)`` for tanh images) is checked
    on the data given to ``fit`` so that a wrong scaling fails loudly, not silently.
    """

    def __init__(
        self,
        generator: keras.Model,
        discriminator: keras.Model,
        generator_loss: str = "non_saturating",
        data_range: tuple[float, float] | None = None,
        seed: int | None = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.latent_dim, self.data_shape = check_pair(generator, discriminator)
        if generator_loss not in GENERATOR_LOSSES:
            raise ValueError(
                f"generator_loss must be one of {sorted(GENERATOR_LOSSES)}, got {generator_loss!r}"
            )
        self.generator = generator
        self.discriminator = discriminator
        self.generator_loss_name = generator_loss
        self.data_range = data_range
        self.noise_seed = keras.random.SeedGenerator(seed)
        self.trackers = {
            name: keras.metrics.Mean(name=name) for name in ("d_loss", "g_loss", "d_real", "d_fake")
        }

    def compile(
        self,
        g_optimizer: keras.optimizers.Optimizer,
        d_optimizer: keras.optimizers.Optimizer,
        **kwargs,
    ) -> None:
        super().compile(**kwargs)
        if g_optimizer is d_optimizer:
            raise ValueError("the generator and discriminator need two separate optimizers")
        self.g_optimizer = g_optimizer
        self.d_optimizer = d_optimizer

    @property
    def metrics(self) -> list[keras.metrics.Metric]:
        return list(self.trackers.values())

    def call(self, z: tf.Tensor, training: bool = False) -> tf.Tensor:
        return self.generator(z, training=training)

    def build_state(self) -> None:
        """Create every variable (networks and both optimizers) so a checkpoint can restore them."""
        self.generator.build((None, self.latent_dim))
        self.discriminator.build((None, *self.data_shape))
        self.g_optimizer.build(self.generator.trainable_variables)
        self.d_optimizer.build(self.discriminator.trainable_variables)

    def train_step(self, data: tf.Tensor) -> dict[str, tf.Tensor]:
        real = data[0] if isinstance(data, (tuple, list)) else data
        logs = gan_train_step(
            self.generator,
            self.discriminator,
            self.g_optimizer,
            self.d_optimizer,
            real,
            self.latent_dim,
            seed=self.noise_seed,
            generator_loss=GENERATOR_LOSSES[self.generator_loss_name],
        )
        for name, value in logs.items():
            self.trackers[name].update_state(value)
        return {name: tracker.result() for name, tracker in self.trackers.items()}

    def fit(self, x=None, *args, **kwargs):
        """``keras.Model.fit`` after checking that numpy data has the generator's shape and range.

        A ``tf.data.Dataset`` is used in its own order (``shuffle`` defaults to False for it:
        shuffle the dataset with ``.shuffle(buffer)``).
        """
        if isinstance(x, np.ndarray):
            fix = (
                "Scale uint8 images with genmodels.data.to_tanh_range(images)."
                if self.data_range == (-1.0, 1.0)
                else ""
            )
            x = check_batch(x, self.data_shape, self.data_range, what="real data", fix=fix)
        elif isinstance(x, tf.data.Dataset):
            spec = x.element_spec[0] if isinstance(x.element_spec, tuple) else x.element_spec
            if tuple(spec.shape[1:]) != self.data_shape:
                raise ValueError(
                    f"the dataset yields batches of shape {tuple(spec.shape)}, the GAN expects "
                    f"(batch, {', '.join(map(str, self.data_shape))}); batch it with .batch(n)"
                )
            # A Dataset shuffles itself (.shuffle()); Keras' default shuffle=True would only warn.
            kwargs.setdefault("shuffle", False)
        return super().fit(x, *args, **kwargs)

    def sample(self, n: int, seed: int | None = None) -> np.ndarray:
        """Draw ``n`` samples ``G(z)``, ``z ~ N(0, I)``; numpy array ``(n, *data_shape)``."""
        n = check_positive_int(n, "n")
        z = np.random.default_rng(seed).standard_normal((n, self.latent_dim)).astype(np.float32)
        return keras.ops.convert_to_numpy(self.generator(z, training=False))
