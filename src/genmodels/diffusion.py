"""Denoising diffusion (Ho et al. 2020) for low-dimensional data, with classifier-free guidance.

Notation of Ho, Jain & Abbeel (2020), steps ``t = 1 .. T``:

* forward (noising) chain ``q(x_t | x_{t-1}) = N(sqrt(alpha_t) x_{t-1}, beta_t I)``,
  ``alpha_t = 1 - beta_t``;
* its closed-form marginal ``q(x_t | x_0) = N(sqrt(abar_t) x_0, (1 - abar_t) I)`` with
  ``abar_t = alpha_1 * ... * alpha_t``;
* a network ``eps_theta(x_t, t)`` trained to predict the noise: the loss is
  ``E ||eps - eps_theta(sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps, t)||^2``, ``t`` uniform;
* ancestral sampling from ``x_T ~ N(0, I)`` down to ``x_0`` (Algorithm 2 of the paper).

The schedule's arrays have ``T + 1`` entries so that index ``t`` is step ``t`` exactly as in
the paper; entry 0 stands for "no noise" (``beta_0 = 0``, ``abar_0 = 1``).

Conditional models take a class label; label ``n_classes`` is the *null* label "no class".
Classifier-free guidance (Ho & Salimans 2022) trains one network on both by replacing the
label with the null label with probability ``label_dropout``, and samples with
``(1 + w) eps(x, c) - w eps(x, null)``: ``w = 0`` is the plain conditional model, ``w = -1``
the unconditional one, ``w > 0`` trades diversity for fidelity to the class.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from genmodels.validation import check_batch, check_positive_int

# ---------------------------------------------------------------- the noise schedule


@dataclass(frozen=True, eq=False)
class NoiseSchedule:
    """The variances ``beta_t`` of the forward chain and the quantities derived from them.

    Build it with :func:`make_schedule` or :func:`linear_schedule`, which check the input.
    Every array has shape ``(T + 1,)`` and float64 entries; index ``t`` is step ``t``.

    Attributes:
        betas: ``beta_t``, with ``beta_0 = 0``.
        alphas: ``alpha_t = 1 - beta_t``.
        alpha_bars: ``abar_t = alpha_1 ... alpha_t``, with ``abar_0 = 1``.
    """

    betas: np.ndarray

    @property
    def steps(self) -> int:
        """``T``, the number of noising steps."""
        return len(self.betas) - 1

    @property
    def alphas(self) -> np.ndarray:
        return 1.0 - self.betas

    @property
    def alpha_bars(self) -> np.ndarray:
        return np.cumprod(self.alphas)

    @property
    def posterior_variances(self) -> np.ndarray:
        """``beta~_t = (1 - abar_{t-1}) / (1 - abar_t) beta_t``, the variance of ``q(x_{t-1}|x_t, x_0)``."""
        abar = self.alpha_bars
        variances = np.zeros_like(self.betas)
        variances[1:] = (1.0 - abar[:-1]) / (1.0 - abar[1:]) * self.betas[1:]
        return variances

    def check_steps(self, t: object) -> np.ndarray:
        """``t`` as an int array, or ValueError when a step is outside ``0 .. T``."""
        steps = np.asarray(t)
        if not np.issubdtype(steps.dtype, np.integer):
            raise TypeError(f"diffusion steps t must be integers, got dtype {steps.dtype}")
        if steps.size and (steps.min() < 0 or steps.max() > self.steps):
            raise ValueError(
                f"diffusion steps t must lie in 0 .. {self.steps} (T), got values in "
                f"[{steps.min()}, {steps.max()}]"
            )
        return steps


def make_schedule(betas: Sequence[float] | np.ndarray) -> NoiseSchedule:
    """A :class:`NoiseSchedule` from ``beta_1 .. beta_T``, shape ``(T,)``, each strictly in (0, 1).

    Raises:
        ValueError: empty, not 1-D, not finite, or a beta outside the open interval (0, 1).
    """
    betas = np.asarray(betas, dtype=np.float64)
    if betas.ndim != 1 or betas.size == 0:
        raise ValueError(
            f"betas must be a non-empty 1-D sequence (beta_1 .. beta_T), got shape {betas.shape}"
        )
    if not np.all(np.isfinite(betas)) or betas.min() <= 0.0 or betas.max() >= 1.0:
        raise ValueError(
            f"every beta_t must lie strictly between 0 and 1, got values in [{betas.min():.4g}, "
            f"{betas.max():.4g}]; beta_t is the variance of the noise added at step t"
        )
    return NoiseSchedule(np.concatenate([[0.0], betas]))


def linear_schedule(steps: int, beta_1: float | None = None, beta_T: float | None = None) -> NoiseSchedule:
    """Ho et al.'s linear schedule, ``beta_t`` evenly spaced from ``beta_1`` to ``beta_T``.

    The paper uses ``T = 1000``, ``beta_1 = 1e-4``, ``beta_T = 0.02``. For fewer steps the
    defaults scale both ends by ``1000 / T`` (capped below 1), so that the total noise
    ``sum beta_t`` and hence ``abar_T`` stay about the same.
    """
    steps = check_positive_int(steps, "steps")
    scale = 1000.0 / steps
    beta_1 = 1e-4 * scale if beta_1 is None else beta_1
    beta_T = min(0.02 * scale, 0.999) if beta_T is None else beta_T
    return make_schedule(np.linspace(beta_1, beta_T, steps))


# ---------------------------------------------------------------- the forward process


def forward_step(x_previous: np.ndarray, t: int, noise: np.ndarray, schedule: NoiseSchedule) -> np.ndarray:
    """One step of the forward chain: ``x_t = sqrt(alpha_t) x_{t-1} + sqrt(beta_t) noise``."""
    return np.sqrt(schedule.alphas[t]) * x_previous + np.sqrt(schedule.betas[t]) * noise


def q_sample(x0: object, t: object, noise: object, schedule: NoiseSchedule) -> tf.Tensor:
    """Draw ``x_t ~ q(x_t | x_0)`` in one go: ``sqrt(abar_t) x_0 + sqrt(1 - abar_t) noise``.

    Args:
        x0: clean data, shape ``(N, d)``.
        t: steps, shape ``(N,)``, integers in ``0 .. T``.
        noise: standard normal noise, shape ``(N, d)``.

    Returns:
        float32 tensor ``(N, d)``.
    """
    if not tf.is_tensor(t):
        t = schedule.check_steps(t)
    alpha_bar = keras.ops.take(keras.ops.convert_to_tensor(schedule.alpha_bars, "float32"), t)[:, None]
    return keras.ops.sqrt(alpha_bar) * x0 + keras.ops.sqrt(1.0 - alpha_bar) * noise


# ---------------------------------------------------------------- the noise-prediction network


@keras.saving.register_keras_serializable(package="genmodels")
class StepEmbedding(layers.Layer):
    """Sinusoidal features of the step ``t`` (Vaswani et al. 2017, as in Ho et al. 2020).

    ``(N,)`` integer steps -> ``(N, dim)`` floats ``[sin(t f_k), cos(t f_k)]`` with
    frequencies ``f_k`` spaced geometrically from 1 down to ``1 / max_period``.
    """

    def __init__(self, dim: int = 32, max_period: float = 1000.0, **kwargs):
        super().__init__(**kwargs)
        if dim < 2 or dim % 2:
            raise ValueError(f"dim must be an even integer >= 2, got {dim}")
        self.dim, self.max_period = dim, max_period

    def call(self, t: tf.Tensor) -> tf.Tensor:
        half = self.dim // 2
        frequencies = keras.ops.exp(-np.log(self.max_period) * keras.ops.arange(half, dtype="float32") / half)
        angles = keras.ops.cast(keras.ops.reshape(t, (-1, 1)), "float32") * frequencies[None, :]
        return keras.ops.concatenate([keras.ops.sin(angles), keras.ops.cos(angles)], axis=-1)

    def get_config(self) -> dict:
        return {**super().get_config(), "dim": self.dim, "max_period": self.max_period}


def build_noise_predictor(
    data_dim: int = 2,
    n_classes: int = 0,
    hidden: Sequence[int] = (128, 128, 128),
    embedding_dim: int = 32,
) -> keras.Model:
    """MLP ``eps_theta(x_t, t[, label])`` for low-dimensional data.

    Inputs: ``x`` ``(N, data_dim)`` floats, ``t`` ``(N,)`` integer steps and, when
    ``n_classes > 0``, ``label`` ``(N,)`` integers in ``0 .. n_classes`` (``n_classes`` is the
    null label). The step and the label are embedded and concatenated with ``x``; the output
    is the predicted noise, ``(N, data_dim)``, linear.
    """
    data_dim = check_positive_int(data_dim, "data_dim")
    if isinstance(n_classes, bool) or not isinstance(n_classes, (int, np.integer)) or n_classes < 0:
        raise ValueError(f"n_classes must be an integer >= 0 (0: unconditional), got {n_classes!r}")
    x = keras.Input((data_dim,), name="x")
    t = keras.Input((), dtype="int32", name="t")
    inputs, features = [x, t], [x, StepEmbedding(embedding_dim, name="step_embedding")(t)]
    if n_classes:
        label = keras.Input((), dtype="int32", name="label")
        inputs.append(label)
        features.append(layers.Embedding(n_classes + 1, embedding_dim, name="label_embedding")(label))
    h = layers.Concatenate()(features)
    for i, width in enumerate(hidden):
        h = layers.Dense(check_positive_int(width, "hidden width"), "silu", name=f"dense_{i}")(h)
    eps = layers.Dense(data_dim, name="eps")(h)
    return keras.Model(inputs, eps, name="noise_predictor")


# ---------------------------------------------------------------- loss, guidance, sampling


def diffusion_loss(
    denoiser: keras.Model,
    x0: tf.Tensor,
    t: tf.Tensor,
    noise: tf.Tensor,
    schedule: NoiseSchedule,
    labels: tf.Tensor | None = None,
) -> tf.Tensor:
    """Ho et al.'s simplified loss ``mean ||eps - eps_theta(x_t, t)||^2`` (mean over batch and dims).

    ``x_t`` is drawn with :func:`q_sample` from ``x0`` ``(N, d)``, steps ``t`` ``(N,)`` and
    ``noise`` ``(N, d)``; ``labels`` ``(N,)`` go to a conditional network.
    """
    x_t = q_sample(x0, t, noise, schedule)
    t = keras.ops.convert_to_tensor(t, "int32")
    inputs = [x_t, t] if labels is None else [x_t, t, keras.ops.convert_to_tensor(labels, "int32")]
    return keras.ops.mean(keras.ops.square(noise - denoiser(inputs, training=True)))


def guided_noise(eps_conditional: tf.Tensor, eps_unconditional: tf.Tensor, w: float) -> tf.Tensor:
    """Classifier-free guidance (Ho & Salimans 2022): ``(1 + w) eps(x, c) - w eps(x, null)``."""
    return (1.0 + w) * eps_conditional - w * eps_unconditional


def reverse_step(
    x_t: np.ndarray, t: int, eps: np.ndarray, noise: np.ndarray, schedule: NoiseSchedule
) -> np.ndarray:
    """One ancestral step ``x_t -> x_{t-1}`` of Ho et al.'s Algorithm 2.

    ``x_{t-1} = (x_t - beta_t / sqrt(1 - abar_t) eps) / sqrt(alpha_t) + sigma_t noise`` with
    ``sigma_t^2 = beta~_t``, the posterior variance (the paper's second choice, the better
    one for data that are nearly points, like our narrow Gaussians); ``beta~_1 = 0``.
    """
    beta, alpha, alpha_bar = schedule.betas[t], schedule.alphas[t], schedule.alpha_bars[t]
    mean = (x_t - beta / np.sqrt(1.0 - alpha_bar) * eps) / np.sqrt(alpha)
    return mean + np.sqrt(schedule.posterior_variances[t]) * noise


class Diffusion(keras.Model):
    """A DDPM as one ``keras.Model``: it owns the noise predictor, the schedule and the noise seed.

    ``compile(optimizer=...)`` then ``fit(x)`` (unconditional) or ``fit(x, labels)`` / a
    dataset of ``(x, labels)`` batches (conditional) trains on :func:`diffusion_loss`;
    :meth:`sample` draws new points, optionally with classifier-free guidance.

    Args:
        denoiser: from :func:`build_noise_predictor`; its inputs fix ``data_dim`` and
            whether the model is conditional.
        schedule: the :class:`NoiseSchedule`.
        n_classes: number of classes of a conditional denoiser (0 for an unconditional one).
        label_dropout: probability of replacing a label by the null label in training
            (classifier-free guidance; Ho & Salimans use 0.1 or 0.2).
        seed: seed of the training noise (steps, noise, label dropout).
    """

    def __init__(
        self,
        denoiser: keras.Model,
        schedule: NoiseSchedule,
        n_classes: int = 0,
        label_dropout: float = 0.1,
        seed: int | None = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        if not isinstance(schedule, NoiseSchedule):
            raise TypeError("schedule must be a NoiseSchedule: use diffusion.linear_schedule(T)")
        conditional = len(denoiser.inputs) == 3
        if conditional != (n_classes > 0):
            raise ValueError(
                f"the denoiser {'takes' if conditional else 'takes no'} labels but n_classes={n_classes}; "
                "build it with build_noise_predictor(n_classes=...) and pass the same n_classes"
            )
        if not 0.0 <= label_dropout < 1.0:
            raise ValueError(f"label_dropout must lie in [0, 1), got {label_dropout}")
        self.denoiser = denoiser
        self.schedule = schedule
        self.n_classes = int(n_classes)
        self.label_dropout = float(label_dropout)
        self.data_dim = int(denoiser.inputs[0].shape[-1])
        self.noise_seed = keras.random.SeedGenerator(seed)
        self.loss_tracker = keras.metrics.Mean(name="loss")

    @property
    def metrics(self) -> list[keras.metrics.Metric]:
        return [self.loss_tracker]

    def build_state(self) -> None:
        """Create the optimizer's variables so that a checkpoint can restore them."""
        self.optimizer.build(self.denoiser.trainable_variables)

    def check_labels(self, labels: object, n: int, allow_null: bool = False) -> np.ndarray:
        """``labels`` as int32 ``(n,)``, or ValueError naming the fix (unknown class, wrong length)."""
        if not self.n_classes:
            raise ValueError("this model is unconditional (n_classes=0): call it without labels")
        labels = np.asarray(labels)
        if labels.ndim == 0:
            labels = np.full(n, labels)
        if not np.issubdtype(labels.dtype, np.integer):
            raise TypeError(f"labels must be integer class indices, got dtype {labels.dtype}")
        if labels.shape != (n,):
            raise ValueError(f"expected {n} labels (one per example), got shape {labels.shape}")
        top = self.n_classes + 1 if allow_null else self.n_classes
        if labels.min() < 0 or labels.max() >= top:
            bad = labels[(labels < 0) | (labels >= top)][0]
            raise ValueError(f"unknown class label {bad}: the model knows classes 0 .. {self.n_classes - 1}")
        return labels.astype(np.int32)

    def call(self, inputs: list[tf.Tensor], training: bool = False) -> tf.Tensor:
        return self.denoiser(inputs, training=training)

    def train_step(self, data: object) -> dict[str, tf.Tensor]:
        x0, labels = (data[0], data[1]) if isinstance(data, (tuple, list)) else (data, None)
        batch = keras.ops.shape(x0)[0]
        t = keras.random.randint((batch,), 1, self.schedule.steps + 1, seed=self.noise_seed, dtype="int32")
        noise = keras.random.normal(keras.ops.shape(x0), seed=self.noise_seed)
        if self.n_classes:
            drop = keras.random.uniform((batch,), seed=self.noise_seed) < self.label_dropout
            labels = keras.ops.where(drop, self.n_classes, keras.ops.cast(labels, "int32"))
        with tf.GradientTape() as tape:
            loss = diffusion_loss(self.denoiser, x0, t, noise, self.schedule, labels)
        gradients = tape.gradient(loss, self.denoiser.trainable_variables)
        self.optimizer.apply_gradients(zip(gradients, self.denoiser.trainable_variables, strict=True))
        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result()}

    def fit(self, x=None, y=None, *args, **kwargs):
        """``keras.Model.fit`` after checking numpy data: ``x`` ``(N, data_dim)``, ``y`` the labels.

        A ``tf.data.Dataset`` yielding ``x`` batches (or ``(x, labels)`` batches for a
        conditional model) is used in its own order.
        """
        if isinstance(x, tf.data.Dataset):
            spec = x.element_spec
            if self.n_classes and not isinstance(spec, tuple):
                raise ValueError("a conditional model needs a dataset of (x, labels) batches")
            shape = (spec[0] if isinstance(spec, tuple) else spec).shape
            if tuple(shape[1:]) != (self.data_dim,):
                raise ValueError(
                    f"the dataset yields batches of shape {tuple(shape)}, expected (batch, {self.data_dim})"
                )
            kwargs.setdefault("shuffle", False)
        else:
            x = check_batch(x, (self.data_dim,), what="training data")
            if self.n_classes:
                if y is None:
                    raise ValueError("a conditional model needs labels: fit(x, labels)")
                y = self.check_labels(y, len(x))
            elif y is not None:
                raise ValueError("this model is unconditional (n_classes=0): fit(x) without labels")
        return super().fit(x, y, *args, **kwargs)

    @tf.function(reduce_retracing=True)
    def denoise(self, inputs: list[tf.Tensor]) -> tf.Tensor:
        """``denoiser(inputs)`` in inference mode, compiled once per input shape (sampling speed)."""
        return self.denoiser(inputs, training=False)

    def predict_noise(
        self,
        x_t: np.ndarray,
        t: int,
        labels: np.ndarray | None = None,
        w: float = 0.0,
        combine: Callable[..., object] = guided_noise,
    ) -> np.ndarray:
        """``eps_theta(x_t, t)``, guided by ``combine(eps(x, c), eps(x, null), w)`` when labels are given.

        ``w = 0`` skips the unconditional pass (the result is the conditional prediction).
        """
        n = len(x_t)
        steps = np.full(n, t, dtype=np.int32)
        if labels is None:
            if self.n_classes:
                labels = np.full(n, self.n_classes, dtype=np.int32)  # the null label: unconditional
                return keras.ops.convert_to_numpy(self.denoise([x_t, steps, labels]))
            return keras.ops.convert_to_numpy(self.denoise([x_t, steps]))
        if w == 0.0 and combine is guided_noise:
            return keras.ops.convert_to_numpy(self.denoise([x_t, steps, labels]))
        both = self.denoise(
            [
                np.concatenate([x_t, x_t]),
                np.concatenate([steps, steps]),
                np.concatenate([labels, np.full(n, self.n_classes, dtype=np.int32)]),
            ]
        )
        eps_conditional, eps_unconditional = np.split(keras.ops.convert_to_numpy(both), 2)
        return np.asarray(combine(eps_conditional, eps_unconditional, w), dtype=np.float32)

    def sample(
        self,
        n: int,
        labels: object = None,
        w: float = 0.0,
        seed: int | None = None,
        combine: Callable[..., object] = guided_noise,
        return_path: bool = False,
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Ancestral sampling (Ho et al.'s Algorithm 2) of ``n`` points, optionally guided.

        Args:
            n: number of samples.
            labels: ``None`` (unconditional), one class index for all, or ``(n,)`` indices.
            w: guidance weight; ``(1 + w) eps(x, c) - w eps(x, null)``.
            seed: seed of the sampling noise (numpy), so runs with equal seeds are equal.
            combine: how the two predictions are combined, :func:`guided_noise` by default.
            return_path: also return every state ``x_T .. x_0``, shape ``(T + 1, n, d)``.

        Returns:
            float32 ``(n, d)``, and the path when ``return_path`` is true.
        """
        n = check_positive_int(n, "n")
        if labels is not None:
            labels = self.check_labels(labels, n)
        elif w != 0.0:
            raise ValueError("guidance (w != 0) needs class labels to guide towards")
        rng = np.random.default_rng(seed)
        x = rng.standard_normal((n, self.data_dim)).astype(np.float32)
        path = [x]
        for t in range(self.schedule.steps, 0, -1):
            eps = self.predict_noise(x, t, labels, w, combine)
            noise = rng.standard_normal(x.shape).astype(np.float32)
            x = reverse_step(x, t, eps, noise, self.schedule).astype(np.float32)
            path.append(x)
        return (x, np.stack(path)) if return_path else x
