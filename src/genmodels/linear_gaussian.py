"""A linear-Gaussian latent-variable model where every quantity of VAE theory is exact.

Probabilistic PCA (Tipping & Bishop 1999) is the simplest "VAE" whose evidence is tractable::

    z ~ N(0, I_k),        x | z ~ N(W z + b, sigma^2 I_d)

Integrating ``z`` out gives the marginal likelihood (the *evidence*) in closed form,
``x ~ N(b, W W^T + sigma^2 I_d)``, and the true posterior is Gaussian too::

    p(z | x) = N(M^-1 W^T (x - b), sigma^2 M^-1),    M = W^T W + sigma^2 I_k.

For any Gaussian ``q(z) = N(m, S)`` the ELBO has a closed form as well, so the identity
``log p(x) = ELBO(q) + KL(q || p(z|x))`` can be checked to rounding error, and Monte Carlo
estimators (the ELBO, its gradients, the importance-weighted bound of Burda et al. 2016) can
be compared with exact values.

Conventions: numpy float64 throughout; ``d`` is the data dimension, ``k`` the latent one.
Functions of ``x`` accept one point ``(d,)`` or a batch ``(..., d)`` and return ``(...)``;
all log-densities, KLs and bounds are in nats.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from genmodels.densities import LOG_2PI


def _cholesky(cov: np.ndarray, name: str = "cov") -> np.ndarray:
    """Lower Cholesky factor of a (stack of) symmetric positive definite matrix ``(..., k, k)``."""
    cov = np.asarray(cov, dtype=np.float64)
    if cov.ndim < 2 or cov.shape[-1] != cov.shape[-2]:
        raise ValueError(f"{name} must be a square matrix (..., k, k), got shape {cov.shape}")
    try:
        return np.linalg.cholesky(cov)
    except np.linalg.LinAlgError as error:
        raise ValueError(f"{name} must be symmetric positive definite") from error


def _log_det(chol: np.ndarray) -> np.ndarray:
    """``log det(L L^T)`` from a lower Cholesky factor ``(..., k, k)``; shape ``(...)``."""
    return 2.0 * np.sum(np.log(np.diagonal(chol, axis1=-2, axis2=-1)), axis=-1)


def gaussian_log_density(z: np.ndarray, mean: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """``log N(z; mean, cov)``.

    Args:
        z: points, shape ``(..., k)``.
        mean: shape ``(..., k)`` (broadcasts against ``z``).
        cov: shape ``(k, k)``, symmetric positive definite.

    Returns:
        shape ``(...)``.
    """
    chol = _cholesky(cov)
    diff = np.asarray(z, dtype=np.float64) - np.asarray(mean, dtype=np.float64)
    k = diff.shape[-1]
    # Solve L u = diff for every point at once: u = diff L^-T, so ||u||^2 = diff^T cov^-1 diff.
    u = np.linalg.solve(chol, diff.reshape(-1, k).T).T.reshape(diff.shape)
    return -0.5 * (np.sum(u**2, axis=-1) + _log_det(chol) + k * LOG_2PI)


def kl_multivariate_normal(
    mean0: np.ndarray, cov0: np.ndarray, mean1: np.ndarray, cov1: np.ndarray
) -> np.ndarray:
    """``KL(N(mean0, cov0) || N(mean1, cov1))`` in nats.

    ``0.5 * [tr(cov1^-1 cov0) + (mean1 - mean0)^T cov1^-1 (mean1 - mean0) - k
    + log det cov1 - log det cov0]``.

    Args:
        mean0, mean1: shape ``(..., k)``.
        cov0, cov1: shape ``(..., k, k)`` (stacks broadcast), symmetric positive definite.

    Returns:
        shape ``(...)``; 0 exactly when the two Gaussians are equal, positive otherwise.
    """
    mean0, mean1 = np.asarray(mean0, dtype=np.float64), np.asarray(mean1, dtype=np.float64)
    cov0, cov1 = np.asarray(cov0, dtype=np.float64), np.asarray(cov1, dtype=np.float64)
    k = mean0.shape[-1]
    chol0, chol1 = _cholesky(cov0, "cov0"), _cholesky(cov1, "cov1")
    trace = np.trace(np.linalg.solve(cov1, cov0), axis1=-2, axis2=-1)
    diff = (mean1 - mean0)[..., None]
    mahalanobis = np.squeeze(np.swapaxes(diff, -1, -2) @ np.linalg.solve(cov1, diff), axis=(-2, -1))
    return 0.5 * (trace + mahalanobis - k + _log_det(chol1) - _log_det(chol0))


def gaussian_kl(mean: np.ndarray, log_var: np.ndarray) -> np.ndarray:
    """``KL(N(mean, diag exp(log_var)) || N(0, I))`` in nats, the VAE's KL term.

    Closed form ``0.5 * sum(exp(log_var) + mean**2 - 1 - log_var)`` over the last axis.
    Shapes: ``(..., k)`` in, ``(...)`` out. The same formula, name and argument order as
    ``genmodels.vae.gaussian_kl`` (TensorFlow); :func:`kl_multivariate_normal` is the general
    KL between two Gaussians with full covariances.
    """
    mean, log_var = np.asarray(mean, dtype=np.float64), np.asarray(log_var, dtype=np.float64)
    return 0.5 * np.sum(np.exp(log_var) + mean**2 - 1.0 - log_var, axis=-1)


@dataclass(frozen=True)
class LinearGaussian:
    """Probabilistic PCA: ``z ~ N(0, I_k)``, ``x | z ~ N(W z + b, sigma^2 I_d)``.

    Attributes:
        W: loading matrix, shape ``(d, k)``.
        b: offset, shape ``(d,)``.
        sigma: observation noise standard deviation, > 0.
    """

    W: np.ndarray
    b: np.ndarray
    sigma: float

    def __post_init__(self) -> None:
        W = np.asarray(self.W, dtype=np.float64)
        b = np.asarray(self.b, dtype=np.float64)
        if W.ndim != 2 or b.shape != (W.shape[0],):
            raise ValueError(f"W must be (d, k) and b (d,), got {W.shape} and {b.shape}")
        if not (np.isfinite(self.sigma) and self.sigma > 0):
            raise ValueError(f"sigma must be a positive number, got {self.sigma!r}")
        object.__setattr__(self, "W", W)
        object.__setattr__(self, "b", b)
        object.__setattr__(self, "sigma", float(self.sigma))

    @classmethod
    def random(cls, d: int = 5, k: int = 2, sigma: float = 0.5, seed: int = 0) -> LinearGaussian:
        """A model with standard-normal ``W`` ``(d, k)`` and ``b`` ``(d,)`` drawn from ``seed``."""
        rng = np.random.default_rng(seed)
        return cls(rng.standard_normal((d, k)), rng.standard_normal(d), sigma)

    @property
    def d(self) -> int:
        """Data dimension."""
        return self.W.shape[0]

    @property
    def k(self) -> int:
        """Latent dimension."""
        return self.W.shape[1]

    # ------------------------------------------------------------ the generative model

    def sample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Ancestral sampling: ``z ~ p(z)``, then ``x ~ p(x|z)``; returns ``x (n, d)``, ``z (n, k)``."""
        z = rng.standard_normal((n, self.k))
        x = z @ self.W.T + self.b + self.sigma * rng.standard_normal((n, self.d))
        return x, z

    def log_prior(self, z: np.ndarray) -> np.ndarray:
        """``log p(z) = log N(z; 0, I_k)``; ``(..., k) -> (...)``."""
        z = np.asarray(z, dtype=np.float64)
        return -0.5 * (np.sum(z**2, axis=-1) + self.k * LOG_2PI)

    def _residual(self, x: np.ndarray, z: np.ndarray) -> np.ndarray:
        """``x - (W z + b)``; ``x (..., d)``, ``z (..., k)`` -> ``(..., d)``."""
        return np.asarray(x, dtype=np.float64) - (np.asarray(z, dtype=np.float64) @ self.W.T + self.b)

    def _log_normaliser(self) -> float:
        """``d log(2 pi sigma^2)``, minus twice the log-normaliser of ``p(x|z)``."""
        return self.d * float(np.log(2 * np.pi * self.sigma**2))

    def log_likelihood(self, x: np.ndarray, z: np.ndarray) -> np.ndarray:
        """``log p(x|z) = log N(x; W z + b, sigma^2 I)``; ``x (..., d)``, ``z (..., k)`` -> ``(...)``."""
        residual = self._residual(x, z)
        return -0.5 * (np.sum(residual**2, axis=-1) / self.sigma**2 + self._log_normaliser())

    def log_joint(self, x: np.ndarray, z: np.ndarray) -> np.ndarray:
        """``log p(x, z) = log p(x|z) + log p(z)``; shapes as :meth:`log_likelihood`."""
        return self.log_likelihood(x, z) + self.log_prior(z)

    # ------------------------------------------------------------ exact inference

    def marginal(self) -> tuple[np.ndarray, np.ndarray]:
        """The evidence ``p(x) = N(b, W W^T + sigma^2 I_d)``: returns ``mean (d,)``, ``cov (d, d)``."""
        return self.b.copy(), self.W @ self.W.T + self.sigma**2 * np.eye(self.d)

    def log_marginal(self, x: np.ndarray) -> np.ndarray:
        """``log p(x) = log integral p(x|z) p(z) dz``, exact; ``(..., d) -> (...)``."""
        mean, cov = self.marginal()
        return gaussian_log_density(x, mean, cov)

    def posterior(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The true posterior ``p(z|x) = N(M^-1 W^T (x - b), sigma^2 M^-1)``, ``M = W^T W + sigma^2 I``.

        Returns:
            ``mean`` of shape ``(..., k)`` and ``cov`` of shape ``(k, k)`` (the same for every x).
        """
        M = self.W.T @ self.W + self.sigma**2 * np.eye(self.k)
        centred = np.asarray(x, dtype=np.float64) - self.b
        mean = np.linalg.solve(M, (centred @ self.W).reshape(-1, self.k).T).T.reshape(
            (*centred.shape[:-1], self.k)
        )
        return mean, self.sigma**2 * np.linalg.inv(M)

    # ------------------------------------------------------------ the ELBO of a Gaussian q

    def expected_log_likelihood(self, x: np.ndarray, q_mean: np.ndarray, q_cov: np.ndarray) -> np.ndarray:
        """``E_{z ~ N(q_mean, q_cov)} log p(x|z)``, exact.

        ``-d/2 log(2 pi sigma^2) - (||x - b - W m||^2 + tr(W^T W S)) / (2 sigma^2)``.
        Shapes: ``x (..., d)``, ``q_mean (..., k)``, ``q_cov (..., k, k)`` -> ``(...)``.
        """
        residual = self._residual(x, q_mean)
        spread = np.trace(self.W.T @ self.W @ np.asarray(q_cov, dtype=np.float64), axis1=-2, axis2=-1)
        return -0.5 * ((np.sum(residual**2, axis=-1) + spread) / self.sigma**2 + self._log_normaliser())

    def elbo(self, x: np.ndarray, q_mean: np.ndarray, q_cov: np.ndarray) -> np.ndarray:
        """``ELBO(q) = E_q log p(x|z) - KL(q || p(z))`` for ``q = N(q_mean, q_cov)``, exact.

        Shapes: ``x (..., d)``, ``q_mean (..., k)``, ``q_cov (..., k, k)`` -> ``(...)``.
        """
        q_mean = np.asarray(q_mean, dtype=np.float64)
        kl_prior = kl_multivariate_normal(q_mean, q_cov, np.zeros(self.k), np.eye(self.k))
        return self.expected_log_likelihood(x, q_mean, q_cov) - kl_prior

    def elbo_grad_mean(self, x: np.ndarray, q_mean: np.ndarray) -> np.ndarray:
        """``d ELBO / d q_mean = W^T (x - b - W m) / sigma^2 - m`` (it does not depend on ``q_cov``).

        Shapes: ``x (..., d)``, ``q_mean (..., k)`` -> ``(..., k)``.
        """
        q_mean = np.asarray(q_mean, dtype=np.float64)
        return self._residual(x, q_mean) @ self.W / self.sigma**2 - q_mean

    # ------------------------------------------------------------ Monte Carlo estimators

    def log_weights(
        self, x: np.ndarray, q_mean: np.ndarray, q_cov: np.ndarray, n: int, rng: np.random.Generator
    ) -> np.ndarray:
        """``log w = log p(x, z) - log q(z)`` for ``n`` draws ``z ~ q = N(q_mean, q_cov)``.

        Args:
            x: one data point ``(d,)``; ``q_mean`` ``(k,)``; ``q_cov`` ``(k, k)``.
            n: number of draws; the result has shape ``(n,)`` (``E[log w]`` is the ELBO).
        """
        z = np.asarray(q_mean, dtype=np.float64) + rng.standard_normal((n, self.k)) @ _cholesky(q_cov).T
        return self.log_joint(x, z) - gaussian_log_density(z, q_mean, q_cov)

    def importance_weighted_bound(
        self,
        x: np.ndarray,
        q_mean: np.ndarray,
        q_cov: np.ndarray,
        k: int,
        n_repeats: int,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """``n_repeats`` independent draws of ``L_k = log (1/k) sum_i w_i`` (Burda et al. 2016).

        ``E[L_1]`` is the ELBO; ``E[L_k]`` increases with ``k`` towards ``log p(x)``.
        Shapes: ``x (d,)``, ``q_mean (k,)``, ``q_cov (k, k)``; returns ``(n_repeats,)``.
        """
        log_w = self.log_weights(x, q_mean, q_cov, k * n_repeats, rng).reshape(n_repeats, k)
        return logsumexp(log_w, axis=1) - np.log(k)

    def reparameterized_grads(
        self, x: np.ndarray, q_mean: np.ndarray, q_cov: np.ndarray, n: int, rng: np.random.Generator
    ) -> np.ndarray:
        """One-sample pathwise estimates of ``d ELBO / d q_mean``; shape ``(n, k)``.

        With ``z = m + L eps`` (``L L^T = q_cov``), the derivative of
        ``log p(x, z) - log q(z)`` along ``z(m)`` is ``grad_z log p(x, z) = W^T (x - b - W z)
        / sigma^2 - z``: the ``log q`` term contributes zero because ``z - m`` does not move with ``m``.
        """
        z = np.asarray(q_mean, dtype=np.float64) + rng.standard_normal((n, self.k)) @ _cholesky(q_cov).T
        return self._residual(x, z) @ self.W / self.sigma**2 - z

    def score_function_grads(
        self,
        x: np.ndarray,
        q_mean: np.ndarray,
        q_cov: np.ndarray,
        n: int,
        rng: np.random.Generator,
        baseline: float = 0.0,
    ) -> np.ndarray:
        """One-sample score-function (REINFORCE) estimates of ``d ELBO / d q_mean``; ``(n, k)``.

        ``(log p(x, z) - log q(z) - baseline) * grad_m log q(z)`` with
        ``grad_m log q(z) = q_cov^-1 (z - m)``; unbiased for any constant ``baseline``.
        """
        q_mean = np.asarray(q_mean, dtype=np.float64)
        z = q_mean + rng.standard_normal((n, self.k)) @ _cholesky(q_cov).T
        f = self.log_joint(x, z) - gaussian_log_density(z, q_mean, q_cov) - baseline
        score = np.linalg.solve(q_cov, (z - q_mean).T).T
        return f[:, None] * score
