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


def _check_mixture(
    centers: np.ndarray, std: float, n_std: float, strict_fraction: float, samples: np.ndarray
) -> tuple[np.ndarray, float]:
    """The checks of :func:`mode_coverage` on its arguments (the samples' shape: ``check_batch``)."""
    from genmodels.validation import InputCheckError

    values = np.asarray(samples)
    if np.issubdtype(values.dtype, np.floating) and np.isnan(values).any():
        raise InputCheckError(
            f"samples contain {int(np.isnan(values).sum())} NaN values: the generator has diverged. "
            "Record the run as diverged (genmodels.experiments does) rather than measuring it."
        )
    try:
        centers = np.asarray(centers, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"centers must be a numeric array of shape (n_modes, dim): {error}") from None
    if centers.ndim != 2 or centers.shape[0] == 0 or centers.shape[1] == 0:
        raise ValueError(
            f"centers must have shape (n_modes, dim), e.g. (8, 2) from data.ring_centers(), "
            f"got shape {centers.shape}"
        )
    if not np.all(np.isfinite(centers)):
        raise ValueError("centers contain NaN or infinite values")
    if isinstance(std, bool) or not isinstance(std, (int, float, np.integer, np.floating)):
        raise TypeError(f"std must be a number (e.g. data.RING_STD), got {type(std).__name__}")
    if not np.isfinite(std) or std <= 0:
        raise ValueError(f"std must be a positive number (0.02 for the ring, 0.05 for the grid), got {std}")
    if not n_std > 0:
        raise ValueError(f"n_std must be positive (3 in the published protocol), got {n_std}")
    if not 0 <= strict_fraction <= 1:
        raise ValueError(f"strict_fraction must lie in [0, 1] (0.01 by default), got {strict_fraction}")
    return centers, float(std)


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

    Raises:
        ValueError: centres not of shape ``(M, d)``, a std that is not positive, samples of
            another dimension or with NaN (a diverged generator).
    """
    centers, std = _check_mixture(centers, std, n_std, strict_fraction, samples)
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


# ---------------------------------------------------------------- Fréchet distance of features


def _check_features(features: object, name: str) -> np.ndarray:
    """``features`` as a float64 ``(N, d)`` array, or InputCheckError naming it."""
    from genmodels.validation import InputCheckError

    array = np.asarray(features)
    if array.ndim != 2:
        raise InputCheckError(
            f"{name} must have shape (N, d), one row of d features per example, got shape {array.shape}"
            + (" (for scalar data use x.reshape(-1, 1))" if array.ndim == 1 else "")
        )
    check_batch(array, array.shape[1:], what=name)  # numeric, non-empty, finite
    return array.astype(np.float64)


def _trace_sqrt_product(cov_a: np.ndarray, cov_b: np.ndarray, eps: float) -> float:
    """``Tr((S_a S_b)^(1/2))`` with ``scipy.linalg.sqrtm`` in float64, as the reference FID code.

    When the square root is not finite or does not square back to ``S_a S_b`` (relative
    error above 1e-6: near-singular covariances), it is taken again with ``eps * I`` added
    to both covariances. An imaginary part left by round-off is dropped; a large one raises.
    """
    import warnings

    from scipy import linalg

    product = cov_a @ cov_b
    scale = max(np.linalg.norm(product), np.finfo(np.float64).tiny)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", linalg.LinAlgWarning)  # judged by the residual below
        root = linalg.sqrtm(product)
        if not np.all(np.isfinite(root)) or np.linalg.norm(root @ root - product) > 1e-6 * scale:
            offset = eps * np.eye(len(cov_a))
            root = linalg.sqrtm((cov_a + offset) @ (cov_b + offset))
    diagonal = np.diagonal(root)
    if not np.all(np.isfinite(diagonal)):
        raise ValueError(
            "the square root of S_a S_b is not finite even with an offset; "
            "use more examples or fewer features"
        )
    if np.iscomplexobj(diagonal):
        imaginary = np.abs(diagonal.imag).max()
        if imaginary > 1e-3 * max(1.0, np.abs(diagonal.real).max()):
            raise ValueError(
                f"the square root of S_a S_b has an imaginary part of {imaginary:.3g}; the covariances "
                "are too ill-conditioned: use more examples or fewer features"
            )
    return float(np.sum(diagonal.real))


def frechet_distance(features_a: np.ndarray, features_b: np.ndarray, eps: float = 1e-6) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (Heusel et al. 2017).

    With sample means ``mu`` and covariances ``S`` (``ddof=1``) of each set,
    ``FD = ||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2))``: the squared 2-Wasserstein
    distance between ``N(mu_a, S_a)`` and ``N(mu_b, S_b)``, in squared feature units. With
    Inception-v3 pool features it is the FID; with other features the numbers are
    comparable only with each other. For diagonal covariances it reduces to
    ``||mu_a - mu_b||^2 + sum_i (sigma_a,i - sigma_b,i)^2``.

    Numerics follow the reference FID code: the matrix square root is
    ``scipy.linalg.sqrtm`` in float64; when it fails (near-singular covariances) both
    covariances get ``eps * I`` added and it is taken again; a tiny imaginary part left by
    round-off is dropped. Features constant in both sets (dead ReLU units) are set aside
    first: they add exactly their squared mean difference. The estimate is biased upwards
    for finite samples (roughly by ``O(d / N)``), so compare values only at equal sample sizes.

    Args:
        features_a: shape ``(N_a, d)``.
        features_b: shape ``(N_b, d)``; the same ``d``, the sizes may differ.
        eps: the diagonal offset used when the square root fails.

    Returns:
        the distance, a float >= 0.

    Raises:
        InputCheckError: not 2-D, different ``d``, NaN/inf, or ``N <= d`` in either set
            (then the covariance is singular and the estimate mostly bias).
        ValueError: the square root stays non-finite or keeps a large imaginary part.
    """
    from genmodels.validation import InputCheckError

    a = _check_features(features_a, "features_a")
    b = _check_features(features_b, "features_b")
    if a.shape[1] != b.shape[1]:
        raise InputCheckError(
            f"features_a has {a.shape[1]} features per example, features_b {b.shape[1]}: "
            "both sets must come from the same feature extractor"
        )
    d = a.shape[1]
    for name, x in (("features_a", a), ("features_b", b)):
        if len(x) <= d:
            raise InputCheckError(
                f"{name} has {len(x)} examples of {d} features; a {d}x{d} covariance needs more "
                f"examples than features (N > d; in practice N >= 10 d, i.e. {10 * d} here)"
            )
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    diff = mu_a - mu_b
    # A feature constant in both sets (a ReLU unit that never fires, say) adds a zero row
    # and column to both covariances: it contributes exactly its squared mean difference,
    # so drop it before the square root, which dislikes singular matrices.
    varies = (np.ptp(a, axis=0) > 0) | (np.ptp(b, axis=0) > 0)
    if not varies.any():
        return float(diff @ diff)
    cov_a = np.atleast_2d(np.cov(a[:, varies], rowvar=False))
    cov_b = np.atleast_2d(np.cov(b[:, varies], rowvar=False))
    trace_sqrt = _trace_sqrt_product(cov_a, cov_b, eps)
    value = float(diff @ diff + np.trace(cov_a) + np.trace(cov_b) - 2.0 * trace_sqrt)
    # Round-off can leave identical sets at -1e-12 or so; a clearly negative value is left
    # as is, since it would point to a numerical failure rather than a distance.
    tolerance = 1e-9 * (diff @ diff + np.trace(cov_a) + np.trace(cov_b))
    return 0.0 if -tolerance <= value < 0.0 else value


def class_histogram(
    classifier: object,
    images: np.ndarray,
    n_classes: int = 10,
    batch_size: int = 500,
    value_range: tuple[float, float] | None = (-1.0, 1.0),
) -> np.ndarray:
    """How many images the classifier assigns to each class (arg-max of its logits).

    With the Fashion-MNIST classifier of :mod:`genmodels.classifier`, the histogram of
    generated images shows whether a generator makes all 10 kinds of clothes, and how often.

    Args:
        classifier: a Keras model ``(N, *image_shape) -> (N, n_classes)`` logits or probabilities.
        images: shape ``(N, *image_shape)``, values in ``value_range`` (``[-1, 1]`` for tanh
            images; None skips the range check).
        n_classes: number of classes; must equal the classifier's output width.
        batch_size: images per forward pass.

    Returns:
        int64 counts of shape ``(n_classes,)`` summing to ``N``.
    """
    from genmodels.classifier import TANH_RANGE_FIX, predict_in_batches
    from genmodels.validation import check_positive_int

    n_classes = check_positive_int(n_classes, "n_classes")
    out_shape = tuple(classifier.outputs[0].shape[1:])
    if out_shape != (n_classes,):
        raise ValueError(
            f"n_classes is {n_classes} but the classifier returns shape "
            f"(N, {', '.join(map(str, out_shape))}); pass n_classes={out_shape[-1]}"
        )
    fix = TANH_RANGE_FIX if value_range == (-1.0, 1.0) else ""
    images = check_batch(images, classifier.inputs[0].shape[1:], value_range, what="images", fix=fix)
    predicted = predict_in_batches(classifier, images, batch_size).argmax(axis=1)
    return np.bincount(predicted, minlength=n_classes).astype(np.int64)


def classifier_frechet_distance(
    extractor: object,
    real_images: np.ndarray,
    fake_images: np.ndarray,
    batch_size: int = 500,
    value_range: tuple[float, float] | None = (-1.0, 1.0),
) -> float:
    """:func:`frechet_distance` between the features of real and generated images.

    Args:
        extractor: ``(N, *image_shape) -> (N, d)``, e.g.
            ``genmodels.classifier.feature_extractor(classifier)``.
        real_images, fake_images: shape ``(N, *image_shape)`` with values in ``value_range``;
            use the same number of each (the estimate's bias depends on it) and at least
            10 times ``d``, e.g. 2,000 for 128 features.
        batch_size: images per forward pass.
        value_range: the range both sets must lie in (None: not checked). Both sets must
            be scaled alike, or the distance measures the scaling.
    """
    from genmodels.classifier import TANH_RANGE_FIX, predict_in_batches

    shape = extractor.inputs[0].shape[1:]
    fix = TANH_RANGE_FIX if value_range == (-1.0, 1.0) else ""
    real = check_batch(real_images, shape, value_range, what="real images", fix=fix)
    fake = check_batch(fake_images, shape, value_range, what="fake images", fix=fix)
    return frechet_distance(
        predict_in_batches(extractor, real, batch_size), predict_in_batches(extractor, fake, batch_size)
    )
