"""Diagnostics of a VAE's latent code and of its inference, and the KL-weight schedules that cure collapse.

What they measure (all per example and in nats unless said otherwise):

* :func:`kl_per_dimension`: ``KL(q(z_j|x) || N(0, 1))`` for every latent dimension ``j``.
  A dimension whose KL is ~0 for every ``x`` carries no information about ``x``.
* :func:`active_units`: Burda et al. (2016) call dimension ``j`` *active* when
  ``Cov_x(E_q[z_j | x]) > 0.01``: its posterior mean moves with the input.
* :func:`inference_gaps`: Cremer et al. (2018) split ``log p(x) - ELBO(q_phi)`` into the
  *approximation gap* ``log p(x) - ELBO(q*)`` (the Gaussian family is too poor, even for the
  best ``q*`` of it) and the *amortisation gap* ``ELBO(q*) - ELBO(q_phi)`` (one encoder for all
  ``x`` misses each example's best ``q*``). ``log p(x)`` is estimated by ``L_k`` with a large k.
* :func:`rate_distortion`: Alemi et al. (2018): the rate ``R = KL(q(z|x) || p(z))`` and the
  distortion ``D = -E_q log p(x|z)``; ``ELBO = -(D + R)``, and a KL weight ``beta`` picks a
  point on the ``(R, D)`` curve.

Schedules of the KL weight, one value per optimizer step: :func:`linear_warm_up`
(Bowman et al. 2016) and :func:`cyclical_schedule` (Fu et al. 2019). :func:`free_bits_kl` is
the KL term with free bits (Kingma et al. 2016).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from genmodels.validation import check_batch, check_positive_int

# ---------------------------------------------------------------- the latent code


def _check_posterior(mean: object, log_var: object | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """``mean`` (and ``log_var``) as float arrays ``(N, latent_dim)`` of the same shape, N >= 1."""
    mean = np.asarray(mean, dtype=np.float64)
    if mean.ndim != 2 or mean.shape[1] == 0:
        raise ValueError(
            f"mean must have shape (N, latent_dim): one row per example, e.g. from vae.encode(x), "
            f"got shape {mean.shape}"
        )
    if mean.shape[0] == 0:
        raise ValueError("mean is empty (0 examples): pass the codes of at least one image")
    if not np.all(np.isfinite(mean)):
        raise ValueError("mean contains NaN or infinite values")
    if log_var is None:
        return mean, None
    log_var = np.asarray(log_var, dtype=np.float64)
    if log_var.shape != mean.shape:
        raise ValueError(f"mean and log_var must have the same shape, got {mean.shape} and {log_var.shape}")
    if not np.all(np.isfinite(log_var)):
        raise ValueError("log_var contains NaN or infinite values")
    return mean, log_var


def kl_per_dimension(mean: object, log_var: object) -> np.ndarray:
    """``KL(N(mean_j, exp(log_var_j)) || N(0, 1))`` per example and dimension, ``(N, d)`` in nats.

    Summed over ``j`` it is :func:`genmodels.vae.gaussian_kl`; averaged over examples, it says
    which dimensions the code uses.
    """
    mean, log_var = _check_posterior(mean, log_var)
    return 0.5 * (np.exp(log_var) + mean**2 - 1.0 - log_var)


def active_units(mean: object, threshold: float = 0.01) -> tuple[int, np.ndarray]:
    """Active units of Burda et al. (2016): dimensions with ``Var_x(E_q[z_j|x]) > threshold``.

    Args:
        mean: posterior means ``E_q[z|x]`` of many examples, ``(N, latent_dim)``, N >= 2.
        threshold: 0.01 in the paper.

    Returns:
        ``(count, variances)``, ``variances`` of shape ``(latent_dim,)``.
    """
    mean, _ = _check_posterior(mean)
    if len(mean) < 2:
        raise ValueError("a variance over examples needs at least 2 examples (rows of mean)")
    if not threshold >= 0:
        raise ValueError(f"threshold must be >= 0 (0.01 in Burda et al. 2016), got {threshold!r}")
    variances = mean.var(axis=0)
    return int(np.sum(variances > threshold)), variances


# ---------------------------------------------------------------- KL-weight schedules


def _check_steps(total_steps: object, name: str = "total_steps") -> int:
    if isinstance(total_steps, bool) or not isinstance(total_steps, (int, np.integer)) or total_steps < 1:
        raise ValueError(
            f"{name} must be a positive integer (optimizer steps: epochs x steps per epoch), "
            f"got {total_steps!r}"
        )
    return int(total_steps)


def linear_warm_up(total_steps: int, warm_up_steps: int, target: float = 1.0) -> np.ndarray:
    """KL annealing: ``beta`` rises linearly from 0 to ``target`` over ``warm_up_steps``, then stays.

    Returns float32 ``(total_steps,)``: the weight of step ``t`` is ``target * min(1, t / warm_up_steps)``.
    ``warm_up_steps = 0`` is no warm-up (``target`` throughout).
    """
    total_steps = _check_steps(total_steps)
    if (
        isinstance(warm_up_steps, bool)
        or not isinstance(warm_up_steps, (int, np.integer))
        or warm_up_steps < 0
    ):
        raise ValueError(f"warm_up_steps must be an integer >= 0, got {warm_up_steps!r}")
    if not (np.isfinite(target) and target >= 0):
        raise ValueError(f"target must be a finite number >= 0, got {target!r}")
    if warm_up_steps == 0:
        return np.full(total_steps, target, dtype=np.float32)
    steps = np.arange(total_steps, dtype=np.float64)
    return (target * np.minimum(1.0, steps / warm_up_steps)).astype(np.float32)


def cyclical_schedule(
    total_steps: int, cycles: int = 4, ratio: float = 0.5, target: float = 1.0
) -> np.ndarray:
    """Cyclical annealing (Fu et al. 2019): ``cycles`` repeats of a ramp from 0 to ``target``.

    Each cycle spends the fraction ``ratio`` of its steps rising linearly from 0 and the rest
    at ``target``. Returns float32 ``(total_steps,)``.
    """
    total_steps = _check_steps(total_steps)
    cycles = check_positive_int(cycles, "cycles")
    if cycles > total_steps:
        raise ValueError(f"{cycles} cycles do not fit in {total_steps} steps")
    if not 0 < ratio <= 1:
        raise ValueError(f"ratio must lie in (0, 1] (0.5 in Fu et al. 2019), got {ratio!r}")
    if not (np.isfinite(target) and target >= 0):
        raise ValueError(f"target must be a finite number >= 0, got {target!r}")
    period = total_steps / cycles
    position = (np.arange(total_steps) % period) / period  # in [0, 1) within the cycle
    return (target * np.minimum(1.0, position / ratio)).astype(np.float32)


def free_bits_kl(kl_per_dim: tf.Tensor, free_bits: float) -> tf.Tensor:
    """The KL term with free bits (Kingma et al. 2016): ``sum_j max(free_bits, mean_batch KL_j)``.

    Each dimension's KL, averaged over the mini-batch, costs nothing below ``free_bits`` nats,
    so the optimizer gains nothing by pushing it further towards the prior.

    Args:
        kl_per_dim: ``(N, latent_dim)``, e.g. ``0.5 * (exp(log_var) + mean**2 - 1 - log_var)``.
        free_bits: ``lambda`` in nats per dimension, >= 0 (0: the plain KL's batch mean).

    Returns:
        a scalar tensor, to replace ``mean_batch KL`` in the loss.
    """
    if kl_per_dim.shape.rank != 2:
        raise ValueError(f"kl_per_dim must have shape (N, latent_dim), got {kl_per_dim.shape}")
    if not (np.isfinite(free_bits) and free_bits >= 0):
        raise ValueError(f"free_bits must be a finite number >= 0 (nats per dimension), got {free_bits!r}")
    per_dim = tf.reduce_mean(kl_per_dim, axis=0)
    return tf.reduce_sum(tf.maximum(tf.cast(free_bits, per_dim.dtype), per_dim))


class KLWeightSchedule(keras.callbacks.Callback):
    """Sets ``model.beta`` before every step from a schedule ``(total_steps,)`` (last value after it ends).

    The step is read from the optimizer's counter, so a resumed run continues the schedule.
    """

    def __init__(self, schedule: np.ndarray) -> None:
        super().__init__()
        schedule = np.asarray(schedule, dtype=np.float32)
        if schedule.ndim != 1 or len(schedule) == 0 or not np.all(np.isfinite(schedule)):
            raise ValueError("schedule must be a non-empty 1-D array of finite weights, one per step")
        self.schedule = schedule

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        step = min(int(self.model.optimizer.iterations.numpy()), len(self.schedule) - 1)
        self.model.beta.assign(float(self.schedule[step]))


# ---------------------------------------------------------------- rate and distortion


@dataclass(frozen=True)
class RateDistortion:
    """Test-set averages in nats per image: ``rate`` = KL, ``distortion`` = -E_q log p(x|z), ``elbo``."""

    rate: float
    distortion: float

    @property
    def elbo(self) -> float:
        return -(self.rate + self.distortion)


def rate_distortion(
    encoder: keras.Model, decoder: keras.Model, x: np.ndarray, samples: int = 4, seed: int = 0
) -> RateDistortion:
    """Rate and distortion of a VAE with a Gaussian encoder and a Bernoulli decoder ``z -> logits``.

    Args:
        x: binary (or [0, 1]) images ``(N, *data_shape)``, N >= 1.
        samples: draws of ``z ~ q(z|x)`` per image for the distortion.
    """
    from genmodels.vae import bernoulli_log_likelihood, check_vae_networks, gaussian_kl

    _, data_shape = check_vae_networks(encoder, decoder)
    x = check_batch(x, data_shape, (0.0, 1.0), what="x")
    samples = check_positive_int(samples, "samples")
    mean, log_var = (keras.ops.convert_to_numpy(t) for t in encoder(x, training=False))
    rng = np.random.default_rng(seed)
    log_lik = [
        bernoulli_log_likelihood(
            x, decoder(mean + np.exp(0.5 * log_var) * rng.standard_normal(mean.shape, dtype=np.float32))
        )
        for _ in range(samples)
    ]
    distortion = -float(np.mean(np.stack(log_lik)))
    return RateDistortion(float(np.mean(gaussian_kl(mean, log_var))), distortion)


def is_rate_distortion_monotone(
    betas: Sequence[float], rates: Sequence[float], distortions: Sequence[float]
) -> bool:
    """True when a larger ``beta`` gives a strictly smaller rate and a strictly larger distortion."""
    betas, rates, distortions = (np.asarray(v, dtype=np.float64) for v in (betas, rates, distortions))
    if not (
        betas.ndim == rates.ndim == distortions.ndim == 1 and len(betas) == len(rates) == len(distortions)
    ):
        raise ValueError("betas, rates and distortions must be 1-D sequences of the same length")
    if len(betas) < 2:
        raise ValueError("a curve needs at least 2 points")
    order = np.argsort(betas)
    return bool(np.all(np.diff(rates[order]) < 0) and np.all(np.diff(distortions[order]) > 0))


# ---------------------------------------------------------------- inference gaps


def gaussian_elbo(
    decoder: Callable[[tf.Tensor], tf.Tensor],
    x: tf.Tensor,
    mean: tf.Tensor,
    log_var: tf.Tensor,
    eps: tf.Tensor,
) -> tf.Tensor:
    """Monte Carlo ELBO of ``q = N(mean, exp(log_var))`` per example, ``(N,)`` nats.

    ``eps`` ``(S, N, latent_dim)`` are standard normal draws (reused: common random numbers make
    two ``q`` comparable); ``decoder(z)`` maps ``(S * N, latent_dim)`` to Bernoulli logits.
    """
    from genmodels.vae import bernoulli_log_likelihood, gaussian_kl

    samples, n, latent_dim = eps.shape
    z = mean[None] + tf.exp(0.5 * log_var)[None] * eps
    repeated = tf.reshape(tf.broadcast_to(x[None], (samples, *x.shape)), (samples * n, *x.shape[1:]))
    log_lik = bernoulli_log_likelihood(repeated, decoder(tf.reshape(z, (samples * n, latent_dim))))
    return tf.reduce_mean(tf.reshape(log_lik, (samples, n)), axis=0) - gaussian_kl(mean, log_var)


def optimise_posteriors(
    decoder: keras.Model,
    x: np.ndarray,
    mean: np.ndarray,
    log_var: np.ndarray,
    steps: int = 300,
    samples: int = 8,
    learning_rate: float = 0.02,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """The best Gaussian ``q*(z|x)`` for every image on its own: ``steps`` of Adam on its ELBO.

    Starts from the encoder's ``(mean, log_var)`` (each ``(N, latent_dim)``) and returns the
    optimised pair. The decoder is held fixed. This is the "optimal" ``q`` of Cremer et al.
    (2018), found by local gradient ascent (so its ELBO is a lower estimate of the best).
    """
    steps, samples = check_positive_int(steps, "steps"), check_positive_int(samples, "samples")
    x = tf.constant(x, tf.float32)
    mean_param = tf.Variable(np.asarray(mean, np.float32))
    log_var_param = tf.Variable(np.asarray(log_var, np.float32))
    optimizer = keras.optimizers.Adam(learning_rate)
    noise = tf.random.Generator.from_seed(seed)

    @tf.function
    def step() -> None:
        eps = noise.normal((samples, *mean_param.shape))
        with tf.GradientTape() as tape:
            loss = -tf.reduce_sum(gaussian_elbo(decoder, x, mean_param, log_var_param, eps))
        gradients = tape.gradient(loss, [mean_param, log_var_param])
        optimizer.apply_gradients(zip(gradients, [mean_param, log_var_param], strict=True))

    for _ in range(steps):
        step()
    return mean_param.numpy(), log_var_param.numpy()


@dataclass(frozen=True)
class InferenceGaps:
    """Per-example arrays ``(N,)`` in nats and the decomposition of Cremer et al. (2018).

    ``log_px`` (``L_k``), ``elbo_optimised`` (ELBO of the per-example ``q*``) and
    ``elbo_amortised`` (ELBO of the encoder's ``q``).
    """

    log_px: np.ndarray
    elbo_optimised: np.ndarray
    elbo_amortised: np.ndarray

    @property
    def approximation_gap(self) -> float:
        """Mean ``log p(x) - ELBO(q*)``: what the Gaussian family costs."""
        return float(np.mean(self.log_px - self.elbo_optimised))

    @property
    def amortisation_gap(self) -> float:
        """Mean ``ELBO(q*) - ELBO(q_phi)``: what sharing one encoder across images costs."""
        return float(np.mean(self.elbo_optimised - self.elbo_amortised))

    @property
    def inference_gap(self) -> float:
        """Mean ``log p(x) - ELBO(q_phi)``, the sum of the two."""
        return float(np.mean(self.log_px - self.elbo_amortised))


def inference_gaps(
    encoder: keras.Model,
    decoder: keras.Model,
    x: np.ndarray,
    k: int = 5000,
    steps: int = 300,
    elbo_samples: int = 100,
    seed: int = 0,
    cache_dir: object = None,
) -> InferenceGaps:
    """The approximation and amortisation gaps of a VAE on images ``x`` ``(N, *data_shape)``.

    ``log p(x)`` is estimated by ``L_k`` with the encoder as proposal
    (:func:`genmodels.vae.importance_weighted_bounds`, cached in ``cache_dir``); it is itself
    a lower bound, so the approximation gap it gives is a lower estimate too. Both ELBOs are
    averaged over the same ``elbo_samples`` draws of ``eps``.
    """
    from genmodels.vae import check_vae_networks, importance_weighted_bounds

    _, data_shape = check_vae_networks(encoder, decoder)
    x = check_batch(x, data_shape, (0.0, 1.0), what="x")
    k, elbo_samples = check_positive_int(k, "k"), check_positive_int(elbo_samples, "elbo_samples")
    log_px = importance_weighted_bounds(encoder, decoder, x, ks=(k,), seed=seed, cache_dir=cache_dir)[k]
    mean, log_var = (keras.ops.convert_to_numpy(t) for t in encoder(x, training=False))
    best_mean, best_log_var = optimise_posteriors(decoder, x, mean, log_var, steps=steps, seed=seed)
    eps = tf.constant(
        np.random.default_rng(seed + 1).standard_normal((elbo_samples, *mean.shape)), tf.float32
    )

    def elbo(m: np.ndarray, v: np.ndarray) -> np.ndarray:
        parts = [
            gaussian_elbo(
                decoder, tf.constant(x[rows]), m[rows], v[rows], tf.gather(eps, rows, axis=1)
            ).numpy()
            for rows in np.array_split(np.arange(len(x)), max(1, len(x) * elbo_samples // 20_000))
        ]
        return np.concatenate(parts).astype(np.float64)

    return InferenceGaps(log_px, elbo(best_mean, best_log_var), elbo(mean, log_var))
