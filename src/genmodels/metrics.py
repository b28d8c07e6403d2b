"""Measurements of sample quality and diversity.

Mode coverage follows the protocol of VEEGAN (Srivastava et al. 2017) and PacGAN
(Lin et al. 2018) on the 2-D mixtures: draw 2,500 samples; a sample is *high quality* when
it lies within 3 standard deviations of its nearest centre; a mode is *covered* when at
least one high-quality sample is nearest to it. Because one stray point is enough for that
rule, a diffuse generator can "cover" modes it barely visits, so :func:`mode_coverage`
also reports a stricter count: modes holding at least 1% of the high-quality samples.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from genmodels.validation import check_batch


@dataclass(frozen=True)
class ModeReport:
    """Result of :func:`mode_coverage`.

    Attributes:
        modes: modes covered under the published rule (>= 1 high-quality sample).
        modes_strict: modes holding >= ``strict_fraction`` of the high-quality samples.
        n_modes: number of true modes.
        high_quality: fraction of samples within ``3 std`` of their nearest centre.
        reverse_kl: ``KL(q || uniform)`` in nats, where ``q`` is the histogram of the
            high-quality samples over modes (``inf`` when no sample is high quality).
        counts: high-quality samples per mode, shape ``(n_modes,)``.
    """

    modes: int
    modes_strict: int
    n_modes: int
    high_quality: float
    reverse_kl: float
    counts: np.ndarray

    def __str__(self) -> str:
        return (
            f"{self.modes}/{self.n_modes} modes (strict: {self.modes_strict}), "
            f"{100 * self.high_quality:.1f}% high quality, reverse KL {self.reverse_kl:.3f}"
        )


def mode_coverage(
    samples: np.ndarray,
    centers: np.ndarray,
    std: float,
    n_std: float = 3.0,
    strict_fraction: float = 0.01,
) -> ModeReport:
    """Count covered modes, the high-quality fraction and the reverse KL of 2-D samples.

    Args:
        samples: generated points, shape ``(N, d)`` (2,500 in the published protocol).
        centers: the true modes' centres, shape ``(M, d)``.
        std: the true modes' standard deviation (0.02 for the ring, 0.05 for the grid).
        n_std: the high-quality radius in standard deviations (3 in the protocol).
        strict_fraction: share of high-quality samples a mode needs for the strict count.
    """
    centers = np.asarray(centers, dtype=np.float64)
    samples = check_batch(samples, centers.shape[1:], what="samples").astype(np.float64)
    distances = np.linalg.norm(samples[:, None, :] - centers[None, :, :], axis=-1)
    nearest = distances.argmin(axis=1)
    good = distances.min(axis=1) <= n_std * std
    counts = np.bincount(nearest[good], minlength=len(centers))
    n_good = int(good.sum())
    if n_good:
        q = counts / n_good
        nonzero = q > 0
        reverse_kl = float(np.sum(q[nonzero] * np.log(q[nonzero] * len(centers))))
    else:
        reverse_kl = float("inf")
    return ModeReport(
        modes=int(np.count_nonzero(counts)),
        modes_strict=int(np.count_nonzero(counts >= max(1, strict_fraction * n_good))),
        n_modes=len(centers),
        high_quality=n_good / len(samples),
        reverse_kl=reverse_kl,
        counts=counts,
    )


def importance_weighted_bound(
    encoder: object,
    decoder: object,
    x: np.ndarray,
    k: int,
    batch_size: int | None = None,
    seed: int | None = None,
) -> np.ndarray:
    """The importance-weighted bound ``L_k`` of Burda et al. 2016, per example, in nats.

    ``L_k(x) = log (1/k) sum_i p(x|z_i) p(z_i) / q(z_i|x)`` with ``z_1..z_k ~ q(z|x)``,
    computed with ``logsumexp``. ``E[L_1]`` is the ELBO, ``E[L_k]`` grows with ``k`` and
    tends to ``log p(x)``; with binarised ``x``, ``-L_k`` (k = 1000, say) estimates the NLL.

    Args:
        encoder: ``(N, *data_shape) -> (mean, log_var)``, a Gaussian ``q(z|x)``
            (see :func:`genmodels.vae.build_mlp_encoder`).
        decoder: ``(N, latent_dim) -> (N, *data_shape)`` Bernoulli logits.
        x: images of shape ``(N, *data_shape)`` with values in ``[0, 1]``.
        k: number of importance samples per example.
        batch_size: examples per decoder call; default ``max(1, 16384 // k)``, so that one
            call decodes at most about 16k latent vectors whatever ``k`` is.
        seed: seed of the numpy generator that draws ``z``.

    Returns:
        float64 array of shape ``(N,)``.
    """
    import keras
    from scipy.special import logsumexp

    from genmodels.vae import bernoulli_log_likelihood, check_vae_networks
    from genmodels.validation import check_positive_int

    latent_dim, data_shape = check_vae_networks(encoder, decoder)
    k = check_positive_int(k, "k")
    batch_size = check_positive_int(batch_size or max(1, 16_384 // k), "batch_size")
    x = check_batch(x, data_shape, (0.0, 1.0), what="x")
    rng = np.random.default_rng(seed)
    bounds = []
    for start in range(0, len(x), batch_size):
        batch = x[start : start + batch_size]
        mean, log_var = (keras.ops.convert_to_numpy(t) for t in encoder(batch, training=False))
        eps = rng.standard_normal((k, *mean.shape)).astype(np.float32)
        z = mean + np.exp(0.5 * log_var) * eps  # (k, B, latent_dim)
        log_q = -0.5 * np.sum(eps**2 + log_var + np.log(2 * np.pi), axis=-1, dtype=np.float64)
        log_prior = -0.5 * np.sum(z**2 + np.log(2 * np.pi), axis=-1, dtype=np.float64)
        logits = decoder(z.reshape(-1, latent_dim), training=False)
        repeated = np.broadcast_to(batch, (k, *batch.shape)).reshape(-1, *data_shape)
        log_lik = keras.ops.convert_to_numpy(bernoulli_log_likelihood(repeated, logits))
        log_w = log_lik.reshape(k, -1).astype(np.float64) + log_prior - log_q  # (k, B)
        bounds.append(logsumexp(log_w, axis=0) - np.log(k))
    return np.concatenate(bounds)
