"""Remedies for mode collapse, as small pieces that plug into a 2-D GAN.

Each function or layer here is one published idea, written so the chapter "Mode collapse"
can show it on the page:

* :func:`pack` — PacGAN (Lin et al. 2018): the discriminator judges ``m`` samples at once,
  concatenated, so a generator whose samples look alike is easy to catch.
* :class:`MinibatchStdDev` — the minibatch standard deviation of progressive GANs
  (Karras et al. 2018): the discriminator sees how spread out the batch is.
* :func:`gradient_penalty` — WGAN-GP (Gulrajani et al. 2017): a critic whose gradient norm
  is kept near 1 on points between real and fake samples.
* spectral normalisation (Miyato et al. 2018) is Keras' ``layers.SpectralNormalization``,
  used by :func:`build_discriminator`.
* :func:`unrolled_generator_loss` — unrolled GANs (Metz et al. 2017): the generator is
  scored against the discriminator as it will be after ``k`` more of its own steps.
* :func:`unrolled_generator_loss_adam` — the same look-ahead taken with the
  discriminator's own Adam update (its current moments and learning rate), as Metz et al.
  do.
* :func:`weight_penalty` — the article's L1/L2 penalty on the generator's weights (not an
  established remedy; the chapter measures what it does).

Shapes: data points are ``(N, d)`` float32 (``d = 2`` for the ring and the grid); a
discriminator returns logits of shape ``(N / m, 1)`` for packs of ``m`` points.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import tensorflow as tf
from keras import layers

from genmodels.gan import discriminator_loss
from genmodels.validation import check_positive_int


def pack(points: tf.Tensor, m: int) -> tf.Tensor:
    """PacGAN's packing: ``(N, d) -> (N / m, m * d)``, each row ``m`` consecutive points side by side.

    ``N`` must be a multiple of ``m``. Real packs hold only real points and fake packs only
    generated ones, so the discriminator judges ``m`` independent samples jointly.
    """
    m = check_positive_int(m, "m (points per pack)")
    n, d = points.shape[0], points.shape[-1]
    if len(points.shape) != 2:
        raise ValueError(f"pack expects points of shape (N, d), got {tuple(points.shape)}")
    if n is not None and n % m:
        raise ValueError(f"a batch of {n} points cannot be cut into packs of {m}: use a multiple of {m}")
    return tf.reshape(points, (-1, m * d))


class MinibatchStdDev(layers.Layer):
    """Appends one feature to every example: the batch's average standard deviation.

    Input ``(N, f)`` -> output ``(N, f + 1)``. The extra feature is the mean over the ``f``
    features of their standard deviation across the ``N`` examples (Karras et al. 2018).
    A collapsed generator makes batches with a small spread, which the discriminator then
    sees in every example; the feature is computed separately for real and fake batches.
    """

    def call(self, features: tf.Tensor) -> tf.Tensor:
        spread = tf.sqrt(tf.math.reduce_variance(features, axis=0) + 1e-8)  # (f,)
        average = tf.reduce_mean(spread)
        column = tf.fill([tf.shape(features)[0], 1], average)
        return tf.concat([features, column], axis=1)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (*input_shape[:-1], input_shape[-1] + 1)


def build_discriminator(
    data_dim: int = 2,
    hidden: Sequence[int] = (128, 128, 128),
    pack_size: int = 1,
    minibatch_std: bool = False,
    spectral_norm: bool = False,
) -> keras.Model:
    """An MLP discriminator with the remedies that change its architecture.

    ``(N / pack_size, pack_size * data_dim) -> (N / pack_size, 1)`` logits. With
    ``minibatch_std`` a :class:`MinibatchStdDev` feature enters before the last hidden layer;
    with ``spectral_norm`` every dense layer is wrapped in ``layers.SpectralNormalization``
    (one power iteration per call, as in Miyato et al. 2018).
    """
    data_dim = check_positive_int(data_dim, "data_dim")
    pack_size = check_positive_int(pack_size, "pack_size")

    def dense(width: int, activation: str | None, name: str) -> layers.Layer:
        layer = layers.Dense(check_positive_int(width, "hidden width"), activation, name=name)
        return layers.SpectralNormalization(layer, name=f"sn_{name}") if spectral_norm else layer

    x = keras.Input((pack_size * data_dim,), name="packed_points")
    h = x
    for i, width in enumerate(hidden):
        if minibatch_std and i == len(hidden) - 1:
            h = MinibatchStdDev(name="minibatch_std")(h)
        h = dense(width, "relu", f"dense_{i}")(h)
    logit = dense(1, None, "logit")(h)
    return keras.Model(x, logit, name="discriminator")


def gradient_penalty(
    critic: keras.Model, real: tf.Tensor, fake: tf.Tensor, seed: keras.random.SeedGenerator | None = None
) -> tf.Tensor:
    """WGAN-GP's penalty ``E[(||grad_x critic(x_hat)||_2 - 1)^2]``; scalar.

    ``x_hat = e * real + (1 - e) * fake`` with ``e ~ U(0, 1)`` per example: points on the
    straight lines between real and generated samples (Gulrajani et al. 2017). ``real`` and
    ``fake`` are ``(N, f)``, already packed if the critic takes packs.
    """
    e = keras.random.uniform((tf.shape(real)[0], 1), seed=seed)
    between = e * real + (1.0 - e) * fake
    with tf.GradientTape() as tape:
        tape.watch(between)
        scores = critic(between, training=True)
    grads = tape.gradient(scores, between)
    norms = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=1) + 1e-12)
    return tf.reduce_mean(tf.square(norms - 1.0))


def weight_penalty(weights: Sequence[tf.Variable], l1: float = 0.0, l2: float = 0.0) -> tf.Tensor:
    """The article's regulariser: ``l1 * sum |w| + l2 * sum w^2`` over the given weight tensors."""
    if l1 < 0 or l2 < 0:
        raise ValueError(f"penalty weights must be >= 0, got l1={l1}, l2={l2}")
    total = tf.constant(0.0)
    for w in weights:
        if l1:
            total += l1 * tf.reduce_sum(tf.abs(w))
        if l2:
            total += l2 * tf.reduce_sum(tf.square(w))
    return total


def unrolled_generator_loss(
    discriminator: keras.Model,
    real: tf.Tensor,
    fake: tf.Tensor,
    generator_loss: object,
    steps: int,
    learning_rate: float,
) -> tf.Tensor:
    """The generator's loss against the discriminator after ``steps`` more SGD steps of its own.

    The look-ahead discriminator's parameters are functions of ``fake`` (each step's gradient
    depends on it), and the generator's gradient flows through all of them: it is penalised
    for moves that the discriminator would answer at once (Metz et al. 2017). The real
    discriminator is not changed. ``real`` and ``fake`` are ``(N, f)``, already packed if
    needed; call this inside the generator's ``GradientTape``.
    """
    steps = check_positive_int(steps, "unroll steps")
    params = [v.value for v in discriminator.trainable_variables]
    frozen = [v.value for v in discriminator.non_trainable_variables]

    def logits(weights: list[tf.Tensor], points: tf.Tensor) -> tf.Tensor:
        return discriminator.stateless_call(weights, frozen, points, training=True)[0]

    for _ in range(steps):
        with tf.GradientTape() as tape:
            tape.watch(params)
            loss = discriminator_loss(logits(params, real), logits(params, fake))
        grads = tape.gradient(loss, params)
        params = [p - learning_rate * g for p, g in zip(params, grads, strict=True)]
    return generator_loss(logits(params, fake))


def unrolled_generator_loss_adam(
    discriminator: keras.Model,
    optimizer: keras.optimizers.Adam,
    real: tf.Tensor,
    fake: tf.Tensor,
    generator_loss: object,
    steps: int,
) -> tf.Tensor:
    """:func:`unrolled_generator_loss` with Adam look-ahead steps, as in Metz et al. (2017).

    The ``steps`` look-ahead updates are the discriminator's own Adam updates: they start
    from ``optimizer``'s current first and second moment estimates, step count and
    learning rate (``optimizer`` must already be built on the discriminator's trainable
    variables) and carry them forward, so the generator sees the discriminator as it would
    really be after ``steps`` more of its steps. Nothing of the real discriminator or its
    optimizer is changed. Shapes as in :func:`unrolled_generator_loss`.
    """
    steps = check_positive_int(steps, "unroll steps")
    if not isinstance(optimizer, keras.optimizers.Adam):
        raise TypeError(f"the Adam look-ahead needs a keras.optimizers.Adam, got {type(optimizer).__name__}")
    variables = discriminator.trainable_variables
    if not optimizer.built:
        raise ValueError("build the optimizer first: optimizer.build(discriminator.trainable_variables)")
    params = [v.value for v in variables]
    frozen = [v.value for v in discriminator.non_trainable_variables]
    index = [optimizer._get_variable_index(v) for v in variables]
    first = [optimizer._momentums[i].value for i in index]
    second = [optimizer._velocities[i].value for i in index]
    beta_1, beta_2, epsilon = optimizer.beta_1, optimizer.beta_2, optimizer.epsilon
    learning_rate = tf.cast(optimizer.learning_rate, tf.float32)
    count = tf.cast(optimizer.iterations, tf.float32)

    def logits(weights: list[tf.Tensor], points: tf.Tensor) -> tf.Tensor:
        return discriminator.stateless_call(weights, frozen, points, training=True)[0]

    for k in range(steps):
        with tf.GradientTape() as tape:
            tape.watch(params)
            loss = discriminator_loss(logits(params, real), logits(params, fake))
        grads = tape.gradient(loss, params)
        t = count + k + 1.0
        step = learning_rate * tf.sqrt(1.0 - beta_2**t) / (1.0 - beta_1**t)
        first = [beta_1 * m + (1.0 - beta_1) * g for m, g in zip(first, grads, strict=True)]
        second = [beta_2 * v + (1.0 - beta_2) * g * g for v, g in zip(second, grads, strict=True)]
        params = [
            p - step * m / (tf.sqrt(v) + epsilon) for p, m, v in zip(params, first, second, strict=True)
        ]
    return generator_loss(logits(params, fake))


def build_batch_norm_generator(
    latent_dim: int = 2, data_dim: int = 2, hidden: Sequence[int] = (400, 400, 400, 400)
) -> keras.Model:
    """An MLP generator with batch normalisation after every hidden layer, like PacGAN's 2-D one.

    ``(N, latent_dim) -> (N, data_dim)``: each hidden block is Dense, BatchNormalization,
    ReLU; the output layer is linear. Call it with ``training=True`` while training (batch
    statistics) and ``training=False`` to sample (running averages).
    """
    latent_dim = check_positive_int(latent_dim, "latent_dim")
    data_dim = check_positive_int(data_dim, "data_dim")
    z = keras.Input((latent_dim,), name="z")
    h = z
    for i, width in enumerate(hidden):
        h = layers.Dense(check_positive_int(width, "hidden width"), name=f"dense_{i}")(h)
        h = layers.BatchNormalization(name=f"batch_norm_{i}")(h)
        h = layers.ReLU(name=f"relu_{i}")(h)
    x = layers.Dense(data_dim, name="x")(h)
    return keras.Model(z, x, name="batch_norm_generator")
