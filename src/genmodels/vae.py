"""Variational autoencoders (Kingma & Welling 2014; Rezende et al. 2014), corrected and runnable.

The model: a prior ``p(z) = N(0, I)`` over ``z`` of shape ``(latent_dim,)``, a decoder
``p(x|z)`` that is a product of independent Bernoulli pixels, and an encoder
``q(z|x) = N(mean(x), diag(exp(log_var(x))))``. Conventions:

* The encoder returns ``(mean, log_var)``, each of shape ``(N, latent_dim)``.
* The decoder returns Bernoulli **logits** ``l`` of shape ``(N, *data_shape)``;
  ``p(x_j = 1 | z) = sigmoid(l_j)``. Log-likelihoods are computed from logits
  (``x * l - softplus(l)``), which never takes ``log(0)``.
* Data lie in ``[0, 1]``: binarised pixels for a proper Bernoulli likelihood
  (:func:`genmodels.data.binarize`), or grey levels as is common in tutorials.
* Every log-density, KL and ELBO is **per example, in nats**: summed over pixels and
  latent dimensions, never averaged over them.

The evidence lower bound is ONE objective for encoder and decoder together::

    ELBO(x) = E_q(z|x)[log p(x|z)] - KL(q(z|x) || p(z))  <=  log p(x)

:func:`vae_train_step` is the explicit ``GradientTape`` update the book shows, and
:meth:`VAE.train_step` calls that same function, so ``fit()`` trains identically.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from genmodels.validation import check_batch, check_positive_int

UNIT_INTERVAL_FIX = (
    "Scale uint8 images (N, 28, 28) with genmodels.data.to_unit_interval(images), which "
    "divides by 255 and adds the channel axis, then optionally genmodels.data.binarize(...)."
)

# ---------------------------------------------------------------- networks


def _check_shape(shape: Sequence[int], name: str) -> tuple[int, ...]:
    """``shape`` as a tuple of positive ints, or ValueError naming the argument."""
    return tuple(check_positive_int(d, f"every entry of {name}") for d in shape)


def build_mlp_encoder(
    data_shape: Sequence[int] = (28, 28, 1), latent_dim: int = 16, hidden: Sequence[int] = (512, 256)
) -> keras.Model:
    """MLP encoder ``x -> (mean, log_var)``: ``(N, *data_shape) -> 2 x (N, latent_dim)``.

    ``log_var`` is the log of the diagonal variance of ``q(z|x)``; it is unconstrained, so
    the variance ``exp(log_var)`` is always positive.
    """
    data_shape = _check_shape(data_shape, "data_shape")
    latent_dim = check_positive_int(latent_dim, "latent_dim")
    x = keras.Input(data_shape, name="x")
    h = layers.Flatten()(x)
    for i, width in enumerate(_check_shape(hidden, "hidden")):
        h = layers.Dense(width, "relu", name=f"dense_{i}")(h)
    mean = layers.Dense(latent_dim, name="mean")(h)
    log_var = layers.Dense(latent_dim, name="log_var")(h)
    return keras.Model(x, [mean, log_var], name="mlp_encoder")


def build_mlp_decoder(
    latent_dim: int = 16, data_shape: Sequence[int] = (28, 28, 1), hidden: Sequence[int] = (256, 512)
) -> keras.Model:
    """MLP decoder ``z -> logits``: ``(N, latent_dim) -> (N, *data_shape)`` Bernoulli logits."""
    latent_dim = check_positive_int(latent_dim, "latent_dim")
    data_shape = _check_shape(data_shape, "data_shape")
    z = keras.Input((latent_dim,), name="z")
    h = z
    for i, width in enumerate(_check_shape(hidden, "hidden")):
        h = layers.Dense(width, "relu", name=f"dense_{i}")(h)
    h = layers.Dense(int(np.prod(data_shape)), name="logits")(h)
    logits = layers.Reshape(data_shape, name="image_logits")(h)
    return keras.Model(z, logits, name="mlp_decoder")


def check_vae_networks(encoder: keras.Model, decoder: keras.Model) -> tuple[int, tuple[int, ...]]:
    """Check that ``decoder(z)`` with ``mean, log_var = encoder(x)`` fits together.

    Returns:
        ``(latent_dim, data_shape)``.

    Raises:
        ValueError: the encoder does not return two ``(N, latent_dim)`` outputs, or the
            decoder's input/output shapes do not match the encoder's.
    """
    if len(encoder.inputs) != 1 or len(encoder.outputs) != 2:
        raise ValueError("the encoder must have one input (x) and two outputs (mean, log_var)")
    mean_shape, log_var_shape = (tuple(t.shape[1:]) for t in encoder.outputs)
    if len(mean_shape) != 1 or mean_shape != log_var_shape:
        raise ValueError(
            f"mean and log_var must both have shape (None, latent_dim), got {mean_shape} and {log_var_shape}"
        )
    data_shape = tuple(encoder.inputs[0].shape[1:])
    if len(decoder.inputs) != 1 or len(decoder.outputs) != 1:
        raise ValueError("the decoder must have one input (z) and one output (logits)")
    z_shape, out_shape = tuple(decoder.inputs[0].shape[1:]), tuple(decoder.outputs[0].shape[1:])
    if z_shape != mean_shape or out_shape != data_shape:
        raise ValueError(
            f"decoder maps {z_shape} -> {out_shape}, but the encoder maps {data_shape} -> "
            f"{mean_shape}; the decoder must map {mean_shape} -> {data_shape}"
        )
    return int(mean_shape[0]), data_shape


# ---------------------------------------------------------------- the pieces of the ELBO


def reparameterize(
    mean: tf.Tensor, log_var: tf.Tensor, seed: keras.random.SeedGenerator | None = None
) -> tf.Tensor:
    """Draw ``z ~ q(z|x)`` as ``z = mean + exp(log_var / 2) * eps``, ``eps ~ N(0, I)``.

    ``z`` is a differentiable function of ``mean`` and ``log_var``, so gradients of the
    ELBO reach the encoder. Shapes: ``(N, latent_dim)`` in, ``(N, latent_dim)`` out.
    """
    eps = keras.random.normal(tf.shape(mean), seed=seed)
    return mean + tf.exp(0.5 * log_var) * eps


def gaussian_kl(mean: tf.Tensor, log_var: tf.Tensor) -> tf.Tensor:
    """``KL(N(mean, diag exp(log_var)) || N(0, I))`` in nats, summed over latent dims.

    Closed form: ``0.5 * sum(exp(log_var) + mean**2 - 1 - log_var)``.
    Shapes: ``(N, latent_dim)`` in, ``(N,)`` out.
    """
    return 0.5 * tf.reduce_sum(tf.exp(log_var) + tf.square(mean) - 1.0 - log_var, axis=-1)


def bernoulli_log_likelihood(x: tf.Tensor, logits: tf.Tensor) -> tf.Tensor:
    """``log p(x|z) = sum_j x_j log p_j + (1 - x_j) log(1 - p_j)``, ``p = sigmoid(logits)``.

    Computed as ``x * l - softplus(l)``, exact and finite for any logit. Shapes:
    ``x`` and ``logits`` ``(N, *data_shape)``; result ``(N,)`` in nats, summed over pixels.
    """
    x = tf.cast(x, logits.dtype)
    per_pixel = x * logits - tf.nn.softplus(logits)
    return tf.reduce_sum(tf.reshape(per_pixel, (tf.shape(per_pixel)[0], -1)), axis=1)


def vae_loss_terms(
    encoder: keras.Model,
    decoder: keras.Model,
    x: tf.Tensor,
    seed: keras.random.SeedGenerator | None = None,
    beta: float | tf.Variable = 1.0,
    training: bool = False,
) -> dict[str, tf.Tensor]:
    """Per-example terms of the ELBO with one reparameterised sample ``z ~ q(z|x)``.

    Args:
        x: a batch of shape ``(N, *data_shape)`` with values in ``[0, 1]``.
        seed: the random state of ``eps``.
        beta: weight of the KL term in ``elbo_beta`` (1 is the ELBO; see Higgins et al. 2017).

    Returns:
        tensors of shape ``(N,)``, all in nats: ``reconstruction`` = a one-sample estimate
        of ``E_q log p(x|z)``; ``kl`` = ``KL(q(z|x) || p(z))`` (closed form);
        ``elbo`` = ``reconstruction - kl``, a bound on ``log p(x)``; ``elbo_beta`` =
        ``reconstruction - beta * kl``, the objective that training maximises.
    """
    mean, log_var = encoder(x, training=training)
    z = reparameterize(mean, log_var, seed)
    reconstruction = bernoulli_log_likelihood(x, decoder(z, training=training))
    kl = gaussian_kl(mean, log_var)
    return {
        "reconstruction": reconstruction,
        "kl": kl,
        "elbo": reconstruction - kl,
        "elbo_beta": reconstruction - tf.cast(beta, kl.dtype) * kl,
    }


def _batch_means(terms: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
    """Batch means (scalars) of the ``reconstruction``, ``kl`` and ``elbo`` terms."""
    return {name: tf.reduce_mean(terms[name]) for name in ("reconstruction", "kl", "elbo")}


# ---------------------------------------------------------------- the update


def vae_train_step(
    encoder: keras.Model,
    decoder: keras.Model,
    optimizer: keras.optimizers.Optimizer,
    x: tf.Tensor,
    seed: keras.random.SeedGenerator | None = None,
    beta: float | tf.Variable = 1.0,
) -> dict[str, tf.Tensor]:
    """One gradient step on ``loss = -mean_x ELBO_beta(x)`` for encoder AND decoder together.

    One tape, one loss, one optimizer over both networks' variables: the decoder's
    reconstruction term trains the encoder too, through the reparameterised ``z``.

    Returns:
        batch means (scalars, nats per example): ``loss``, ``reconstruction``, ``kl``, ``elbo``.
    """
    variables = encoder.trainable_variables + decoder.trainable_variables
    with tf.GradientTape() as tape:
        terms = vae_loss_terms(encoder, decoder, x, seed, beta, training=True)
        loss = -tf.reduce_mean(terms["elbo_beta"])  # ONE objective for both networks
    gradients = tape.gradient(loss, variables)
    optimizer.apply_gradients(zip(gradients, variables, strict=True))
    return {"loss": loss, **_batch_means(terms)}


def _images(data: object) -> tf.Tensor:
    """The images of a Keras batch, which arrives as ``x`` or as ``(x,)`` / ``(x, y)``."""
    return data[0] if isinstance(data, (tuple, list)) else data


class VAE(keras.Model):
    """A VAE as one ``keras.Model`` that owns its encoder, decoder, noise and metrics.

    ``compile(optimizer=...)`` then ``fit(images, ...)`` trains with :func:`vae_train_step`;
    ``evaluate`` reports the same metrics on held-out data. Every metric is a batch mean
    per example, in nats. ``beta`` is a non-trainable variable: ``vae.beta.assign(0.5)``
    between epochs (e.g. from a callback) changes the objective without recompiling.

    Args:
        encoder: ``(N, *data_shape) -> (mean, log_var)``, see :func:`build_mlp_encoder`.
        decoder: ``(N, latent_dim) -> logits (N, *data_shape)``, see :func:`build_mlp_decoder`.
        beta: initial KL weight, >= 0.
        seed: seed of the reparameterisation noise.
    """

    def __init__(
        self,
        encoder: keras.Model,
        decoder: keras.Model,
        beta: float = 1.0,
        seed: int | None = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.latent_dim, self.data_shape = check_vae_networks(encoder, decoder)
        if not (np.isfinite(beta) and beta >= 0):
            raise ValueError(f"beta must be a finite number >= 0, got {beta!r}")
        self.encoder = encoder
        self.decoder = decoder
        self.beta = keras.Variable(float(beta), trainable=False, dtype="float32", name="beta")
        self.noise_seed = keras.random.SeedGenerator(seed)
        self.trackers = {
            name: keras.metrics.Mean(name=name) for name in ("loss", "reconstruction", "kl", "elbo")
        }

    @property
    def metrics(self) -> list[keras.metrics.Metric]:
        return list(self.trackers.values())

    def call(self, x: tf.Tensor, training: bool = False) -> tf.Tensor:
        """Logits of a reconstruction through one sample ``z ~ q(z|x)``; ``(N, *data_shape)``."""
        mean, log_var = self.encoder(x, training=training)
        return self.decoder(reparameterize(mean, log_var, self.noise_seed), training=training)

    def build_state(self) -> None:
        """Create every variable (networks and optimizer) so a checkpoint can restore them."""
        self.encoder.build((None, *self.data_shape))
        self.decoder.build((None, self.latent_dim))
        self.optimizer.build(self.encoder.trainable_variables + self.decoder.trainable_variables)

    def _record(self, logs: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        for name, value in logs.items():
            self.trackers[name].update_state(value)
        return {name: tracker.result() for name, tracker in self.trackers.items()}

    def train_step(self, data: object) -> dict[str, tf.Tensor]:
        logs = vae_train_step(
            self.encoder, self.decoder, self.optimizer, _images(data), self.noise_seed, self.beta
        )
        return self._record(logs)

    def test_step(self, data: object) -> dict[str, tf.Tensor]:
        terms = vae_loss_terms(self.encoder, self.decoder, _images(data), self.noise_seed, self.beta)
        return self._record({"loss": -tf.reduce_mean(terms["elbo_beta"]), **_batch_means(terms)})

    def _check_images(self, x: object, what: str = "images") -> np.ndarray:
        return check_batch(x, self.data_shape, (0.0, 1.0), what=what, fix=UNIT_INTERVAL_FIX)

    def fit(self, x=None, *args, **kwargs):
        """``keras.Model.fit`` after checking the images: shape ``(N, *data_shape)``, values in [0, 1].

        Checks numpy arrays and :class:`DynamicallyBinarized` streams (their intensities).
        """
        if isinstance(x, np.ndarray):
            x = self._check_images(x)
        if isinstance(x, DynamicallyBinarized):
            self._check_images(x.images[:1], what="the stream's images")
        if isinstance(kwargs.get("validation_data"), np.ndarray):
            kwargs["validation_data"] = self._check_images(
                kwargs["validation_data"], what="validation images"
            )
        return super().fit(x, *args, **kwargs)

    def evaluate(self, x=None, *args, **kwargs):
        """``keras.Model.evaluate`` after the same checks as :meth:`fit`."""
        if isinstance(x, np.ndarray):
            x = self._check_images(x)
        return super().evaluate(x, *args, **kwargs)

    def encode(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(mean, log_var)`` of ``q(z|x)`` for images ``(N, *data_shape)``; each ``(N, latent_dim)``."""
        mean, log_var = self.encoder(self._check_images(x), training=False)
        return keras.ops.convert_to_numpy(mean), keras.ops.convert_to_numpy(log_var)

    def decode(self, z: np.ndarray) -> np.ndarray:
        """Pixel probabilities ``sigmoid(decoder(z))`` for ``z`` of shape ``(N, latent_dim)``."""
        z = check_batch(z, (self.latent_dim,), what="z")
        return keras.ops.convert_to_numpy(tf.sigmoid(self.decoder(z, training=False)))

    def reconstruct(self, x: np.ndarray) -> np.ndarray:
        """Pixel probabilities decoded from the posterior mean of ``q(z|x)``; ``(N, *data_shape)``."""
        return self.decode(self.encode(x)[0])

    def sample(self, n: int, seed: int | None = None) -> np.ndarray:
        """Pixel probabilities of ``n`` samples, ``z ~ N(0, I)``; numpy ``(n, *data_shape)``."""
        n = check_positive_int(n, "n")
        z = np.random.default_rng(seed).standard_normal((n, self.latent_dim)).astype(np.float32)
        return self.decode(z)


# ---------------------------------------------------------------- data and baseline


def _check_intensities(images: object) -> np.ndarray:
    """``images`` as float32 ``(N, ...)`` in [0, 1], or InputCheckError naming the fix."""
    images = np.asarray(images)
    return check_batch(images, images.shape[1:], (0.0, 1.0), what="images", fix=UNIT_INTERVAL_FIX)


class DynamicallyBinarized(keras.utils.PyDataset):
    """Mini-batches of images binarised afresh in every epoch (dynamic binarisation).

    A pixel of intensity ``p`` becomes 1 with probability ``p``, with new draws in
    every epoch, so the model never sees the same binary image twice: the protocol
    behind published likelihoods (Burda et al. 2016). The draws depend only on
    ``(seed, epoch, batch)``, so a run can be repeated. Pass it to ``fit`` as ``x``.

    Args:
        images: intensities in [0, 1], shape ``(N, *data_shape)``.
        batch_size: images per batch; an epoch's last incomplete batch is dropped.
        seed: seed of the shuffling and of the binarisation.
        first_epoch: the number of the first epoch (e.g. where a resumed run starts).

    Yields:
        float32 batches of 0s and 1s, shape ``(batch_size, *data_shape)``.
    """

    def __init__(
        self,
        images: np.ndarray,
        batch_size: int,
        seed: int = 0,
        first_epoch: int = 0,
    ) -> None:
        super().__init__()
        self.images = _check_intensities(images)
        self.batch_size = check_positive_int(batch_size, "batch_size")
        if self.batch_size > len(self.images):
            raise ValueError(f"batch_size {batch_size} exceeds the {len(self.images)} images")
        self.seed = int(seed)
        self.epoch = int(first_epoch)
        self._started = False
        self._shuffle()

    def _shuffle(self) -> None:
        rng = np.random.default_rng([self.seed, self.epoch])
        self.order = rng.permutation(len(self.images))

    def on_epoch_begin(self) -> None:
        """Keras calls this before every epoch: a new order, and new draws."""
        if self._started:
            self.epoch += 1
            self._shuffle()
        self._started = True

    def __len__(self) -> int:
        return len(self.images) // self.batch_size

    def __getitem__(self, index: int) -> np.ndarray:
        rows = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        rng = np.random.default_rng([self.seed, self.epoch, index])
        batch = self.images[rows]
        return (rng.random(batch.shape, dtype=np.float32) < batch).astype(np.float32)


def factorised_bernoulli_logits(images: np.ndarray, smoothing: float = 1e-3) -> np.ndarray:
    """The best model of independent pixels: ``p_j`` = the mean of pixel ``j``.

    Args:
        images: training intensities (or binary images) in [0, 1], ``(N, *data_shape)``.
        smoothing: ``p_j`` is clipped to ``[smoothing, 1 - smoothing]``.

    Returns:
        logits ``log(p / (1 - p))`` of shape ``data_shape``; score binary images with
        :func:`bernoulli_log_likelihood` (broadcast the logits to the batch).
    """
    images = _check_intensities(images)
    p = np.clip(images.mean(axis=0, dtype=np.float64), smoothing, 1.0 - smoothing)
    return np.log(p / (1.0 - p)).astype(np.float32)


def importance_weighted_bounds(
    encoder: keras.Model,
    decoder: keras.Model,
    x: np.ndarray,
    ks: Sequence[int] = (1, 10, 100, 1000),
    seed: int = 0,
    cache_dir: str | os.PathLike | None = None,
) -> dict[int, np.ndarray]:
    """The bound ``L_k`` (:func:`genmodels.metrics.importance_weighted_bound`) per k.

    Per example, in nats. With ``cache_dir``, the result is stored there under a
    fingerprint of the weights, the data, ``ks`` and ``seed``, and reused when all four
    are the same: a chapter run again on the same checkpoint reads its numbers back.

    Returns:
        ``{k: float64 array (N,)}``.
    """
    from genmodels.metrics import importance_weighted_bound

    ks = [check_positive_int(k, "every k") for k in ks]
    path = None
    if cache_dir is not None:
        digest = hashlib.sha256(np.asarray(x, dtype=np.float32).tobytes())
        for weight in encoder.get_weights() + decoder.get_weights():
            digest.update(np.ascontiguousarray(weight).tobytes())
        digest.update(repr((ks, seed)).encode())
        path = Path(cache_dir) / f"iw_bounds_{digest.hexdigest()[:16]}.npz"
        if path.is_file():
            with np.load(path) as saved:
                return {k: saved[f"k{k}"] for k in ks}
    bounds = {}
    for k in ks:
        bounds[k] = importance_weighted_bound(encoder, decoder, x, k, seed=seed + k)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, **{f"k{k}": values for k, values in bounds.items()})
    return bounds


class KLWarmUp(keras.callbacks.Callback):
    """Raises the KL weight ``beta`` linearly from 0 to ``target`` over the first ``epochs`` epochs.

    Early in training the KL term pulls every ``q(z|x)`` onto the prior before the
    decoder has learned to use ``z``; warming it up lets the code be used first
    (Bowman et al. 2016; Sønderby et al. 2016). ``beta`` follows the optimizer's step
    counter, which checkpoints hold, so a resumed run continues the same schedule.
    While ``beta < 1`` the objective is not yet the ELBO; the logged ``elbo`` always is.

    Args:
        epochs: length of the warm-up, in epochs (may be fractional).
        steps_per_epoch: optimizer steps in one epoch.
        target: the KL weight reached at the end (1: the ELBO).
    """

    def __init__(self, epochs: float, steps_per_epoch: int, target: float = 1.0) -> None:
        super().__init__()
        if not epochs > 0:
            raise ValueError(f"epochs must be positive, got {epochs!r}")
        if not (np.isfinite(target) and target >= 0):
            raise ValueError(f"target must be a finite number >= 0, got {target!r}")
        steps = check_positive_int(steps_per_epoch, "steps_per_epoch")
        self.warm_up_steps = float(epochs) * steps
        self.target = float(target)

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        step = float(self.model.optimizer.iterations.numpy())
        self.model.beta.assign(self.target * min(1.0, step / self.warm_up_steps))


# ---------------------------------------------------------------- the book's Fashion-MNIST recipe


@dataclass(frozen=True)
class Recipe:
    """The VAE the book trains on Fashion-MNIST, in one place for every chapter that needs it.

    MLP encoder and decoder (``hidden`` ReLU layers, mirrored in the decoder), a
    ``latent_dim``-dimensional code, Adam with a cosine-decaying learning rate (from
    ``learning_rate`` to 5% of it over the run), batches of ``batch_size`` dynamically
    binarised images, the KL weight warmed up from 0 to ``beta`` over ``warm_up_epochs``
    (0: no warm-up). The defaults are the VAE chapter's configuration.
    """

    latent_dim: int = 32
    hidden: tuple[int, ...] = (512, 256)
    batch_size: int = 128
    epochs: int = 16
    warm_up_epochs: float = 3.0
    learning_rate: float = 2e-3
    beta: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("latent_dim", "batch_size", "epochs"):
            check_positive_int(getattr(self, name), name)
        _check_shape(self.hidden, "hidden")
        if not self.warm_up_epochs >= 0:
            raise ValueError(f"warm_up_epochs must be >= 0, got {self.warm_up_epochs!r}")
        if not (np.isfinite(self.beta) and self.beta >= 0):
            raise ValueError(f"beta must be a finite number >= 0, got {self.beta!r}")
        if not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be positive, got {self.learning_rate!r}")

    def steps_per_epoch(self, n_images: int) -> int:
        """Optimizer steps in one epoch over ``n_images`` images (the last partial batch dropped)."""
        n_images = check_positive_int(n_images, "n_images")
        if n_images < self.batch_size:
            raise ValueError(f"{n_images} images do not fill one batch of {self.batch_size}")
        return n_images // self.batch_size

    def build(self, n_images: int) -> VAE:
        """A compiled :class:`VAE`, seeded: the same recipe builds the same initial weights."""
        from genmodels.training import set_seed

        steps = self.epochs * self.steps_per_epoch(n_images)
        set_seed(self.seed)
        model = VAE(
            build_mlp_encoder(latent_dim=self.latent_dim, hidden=self.hidden),
            build_mlp_decoder(latent_dim=self.latent_dim, hidden=self.hidden[::-1]),
            beta=self.beta,
            seed=self.seed,
        )
        schedule = keras.optimizers.schedules.CosineDecay(self.learning_rate, steps, alpha=0.05)
        model.compile(optimizer=keras.optimizers.Adam(schedule))
        return model

    def train(self, images: np.ndarray, directory: str | os.PathLike) -> tuple[VAE, int]:
        """Build and train on ``images`` ``(N, 28, 28, 1)`` in [0, 1], resuming from ``directory``.

        Returns ``(model, resumed_from_epoch)``; see :func:`genmodels.training.fit_resumable`.
        """
        from genmodels.training import fit_resumable

        model = self.build(len(images))
        callbacks = []
        if self.warm_up_epochs:
            callbacks.append(KLWarmUp(self.warm_up_epochs, self.steps_per_epoch(len(images)), self.beta))
        stream = DynamicallyBinarized(images, self.batch_size, seed=self.seed)
        _, resumed_from = fit_resumable(model, stream, self.epochs, directory, callbacks=callbacks)
        return model, resumed_from
