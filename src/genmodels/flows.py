"""A RealNVP normalising flow (Dinh, Sohl-Dickstein & Bengio 2017) for low-dimensional data.

A flow is an invertible map ``z = f(x)`` onto a simple base density ``p_Z = N(0, I)``. The
change-of-variables formula gives the exact log-likelihood

    log p_X(x) = log p_Z(f(x)) + log |det df/dx (x)|,

and sampling inverts the map: ``x = f^{-1}(z)``, ``z ~ N(0, I)``. RealNVP makes both the
inverse and the determinant cheap with *affine coupling* layers. A binary ``mask`` keeps
some coordinates; the others are scaled and shifted by functions of the kept ones:

    y = mask * x + (1 - mask) * (x * exp(s(mask * x)) + t(mask * x)),
    log |det dy/dx| = sum over the changed coordinates of s(mask * x).

The Jacobian is triangular (the kept coordinates pass through unchanged), so its log
determinant is that sum; and ``x = mask * y + (1 - mask) * (y - t) * exp(-s)`` undoes the
layer because ``s`` and ``t`` only see coordinates the layer does not change.

Shapes: data and codes are ``(N, d)`` float32; log-determinants and log-densities are
``(N,)``, in nats.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from genmodels.validation import check_batch, check_positive_int


def coupling_masks(data_dim: int, n_layers: int) -> list[np.ndarray]:
    """Alternating binary masks, ``(d,)`` each: even layers keep the first half, odd ones the rest."""
    data_dim, n_layers = check_positive_int(data_dim, "data_dim"), check_positive_int(n_layers, "n_layers")
    if data_dim < 2:
        raise ValueError("a coupling layer needs data_dim >= 2 (one part to keep, one to change)")
    first = (np.arange(data_dim) < data_dim // 2).astype(np.float32)
    return [first if i % 2 == 0 else 1.0 - first for i in range(n_layers)]


@keras.saving.register_keras_serializable(package="genmodels")
class AffineCoupling(keras.layers.Layer):
    """One affine coupling layer: ``call(x) -> (y, log|det dy/dx|)`` and ``inverse(y) -> x``.

    ``s`` and ``t`` come from one MLP of the kept coordinates; ``s`` is bounded as
    ``scale_limit * tanh(.)`` so that one layer cannot blow a coordinate up by more than
    ``exp(scale_limit)``, which keeps early training stable.

    Args:
        mask: ``(d,)`` of 0s and 1s; 1 = kept (passed through, conditions ``s`` and ``t``).
        hidden: widths of the MLP's hidden layers.
    """

    def __init__(
        self, mask: np.ndarray, hidden: Sequence[int] = (64, 64), scale_limit: float = 2.0, **kwargs
    ):
        super().__init__(**kwargs)
        self.mask = np.asarray(mask, dtype=np.float32)
        if self.mask.ndim != 1 or not np.all((self.mask == 0) | (self.mask == 1)) or self.mask.min() == 1:
            raise ValueError(
                "mask must be a 1-D array of 0s and 1s with at least one 0 (a coordinate to change)"
            )
        self.data_dim = len(self.mask)
        self.scale_limit = float(scale_limit)
        self.hidden_layers = [
            keras.layers.Dense(check_positive_int(w, "hidden width"), "relu", name=f"dense_{i}")
            for i, w in enumerate(hidden)
        ]
        # zero-initialised output: every layer starts as the identity map
        self.out = keras.layers.Dense(2 * self.data_dim, kernel_initializer="zeros", name="scale_shift")

    def build(self, input_shape: tuple) -> None:
        width = self.data_dim
        for layer in self.hidden_layers:
            layer.build((None, width))
            width = layer.units
        self.out.build((None, width))

    def scale_and_shift(self, kept: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """``(s, t)``, each ``(N, d)`` and zero on the kept coordinates, from ``kept = mask * x``."""
        h = kept
        for layer in self.hidden_layers:
            h = layer(h)
        raw_scale, shift = keras.ops.split(self.out(h), 2, axis=-1)
        changed = 1.0 - self.mask
        return changed * self.scale_limit * keras.ops.tanh(raw_scale), changed * shift

    def call(self, x: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        s, t = self.scale_and_shift(self.mask * x)
        y = self.mask * x + (1.0 - self.mask) * (x * keras.ops.exp(s) + t)
        return y, keras.ops.sum(s, axis=-1)

    def inverse(self, y: tf.Tensor) -> tf.Tensor:
        s, t = self.scale_and_shift(self.mask * y)  # mask * y == mask * x: the same s and t
        return self.mask * y + (1.0 - self.mask) * (y - t) * keras.ops.exp(-s)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "mask": self.mask.tolist(),
            "hidden": [layer.units for layer in self.hidden_layers],
            "scale_limit": self.scale_limit,
        }


def standard_normal_log_prob(z: tf.Tensor) -> tf.Tensor:
    """``log N(z; 0, I)`` per row: ``-0.5 * (|z|^2 + d log(2 pi))``; ``(N, d)`` -> ``(N,)``."""
    d = keras.ops.cast(keras.ops.shape(z)[-1], z.dtype)
    return -0.5 * (keras.ops.sum(keras.ops.square(z), axis=-1) + d * np.log(2.0 * np.pi))


class RealNVP(keras.Model):
    """A stack of affine couplings with alternating masks and a ``N(0, I)`` base density.

    ``compile(optimizer=...)`` then ``fit(x)`` maximises the exact log-likelihood (the loss
    logged as ``nll`` is ``-mean log p(x)`` in nats). ``forward`` maps data to codes,
    ``inverse`` codes to data, ``log_prob`` and ``sample`` are what a density model offers.

    Args:
        data_dim: ``d``.
        n_layers: number of coupling layers (at least 2, so every coordinate gets changed).
        hidden: widths of each coupling's MLP.
    """

    def __init__(
        self, data_dim: int = 2, n_layers: int = 8, hidden: Sequence[int] = (64, 64), **kwargs
    ) -> None:
        super().__init__(**kwargs)
        if check_positive_int(n_layers, "n_layers") < 2:
            raise ValueError("n_layers must be >= 2: one coupling leaves half of the coordinates unchanged")
        self.data_dim = check_positive_int(data_dim, "data_dim")
        self.couplings = [
            AffineCoupling(mask, hidden, name=f"coupling_{i}")
            for i, mask in enumerate(coupling_masks(data_dim, n_layers))
        ]
        for layer in self.couplings:
            layer.build((None, data_dim))
        self.loss_tracker = keras.metrics.Mean(name="nll")

    @property
    def metrics(self) -> list[keras.metrics.Metric]:
        return [self.loss_tracker]

    def forward(self, x: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """``z = f(x)`` and ``log |det df/dx|``: ``(N, d)`` -> ``(N, d)``, ``(N,)``."""
        log_det = keras.ops.zeros(keras.ops.shape(x)[:1], dtype=x.dtype)
        for layer in self.couplings:
            x, layer_log_det = layer(x)
            log_det = log_det + layer_log_det
        return x, log_det

    def inverse(self, z: tf.Tensor) -> tf.Tensor:
        """``x = f^{-1}(z)``: the layers undone in reverse order; ``(N, d)`` -> ``(N, d)``."""
        for layer in reversed(self.couplings):
            z = layer.inverse(z)
        return z

    def log_prob_tensor(self, x: tf.Tensor) -> tf.Tensor:
        """Change of variables: ``log p_Z(f(x)) + log |det df/dx|``, ``(N,)`` nats."""
        z, log_det = self.forward(x)
        return standard_normal_log_prob(z) + log_det

    def call(self, x: tf.Tensor, training: bool = False) -> tf.Tensor:
        return self.log_prob_tensor(x)

    def build_state(self) -> None:
        """Create the optimizer's variables so that a checkpoint can restore them."""
        self.optimizer.build(self.trainable_variables)

    def train_step(self, data: object) -> dict[str, tf.Tensor]:
        x = data[0] if isinstance(data, (tuple, list)) else data
        with tf.GradientTape() as tape:
            nll = -keras.ops.mean(self.log_prob_tensor(keras.ops.cast(x, "float32")))
        gradients = tape.gradient(nll, self.trainable_variables)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_variables, strict=True))
        self.loss_tracker.update_state(nll)
        return {"nll": self.loss_tracker.result()}

    def _check(self, x: object, what: str) -> np.ndarray:
        return check_batch(x, (self.data_dim,), what=what)

    def fit(self, x=None, *args, **kwargs):
        """``keras.Model.fit`` after checking numpy data: ``x`` of shape ``(N, data_dim)``, finite."""
        if not isinstance(x, tf.data.Dataset):
            x = self._check(x, "training data")
        return super().fit(x, *args, **kwargs)

    def log_prob(self, x: object) -> np.ndarray:
        """Exact ``log p(x)`` in nats, numpy ``(N,)``, for points ``x`` of shape ``(N, data_dim)``."""
        return keras.ops.convert_to_numpy(self.log_prob_tensor(self._check(x, "x"))).astype(np.float64)

    def encode(self, x: object) -> np.ndarray:
        """``z = f(x)``, numpy ``(N, data_dim)``."""
        return keras.ops.convert_to_numpy(self.forward(self._check(x, "x"))[0])

    def decode(self, z: object) -> np.ndarray:
        """``x = f^{-1}(z)``, numpy ``(N, data_dim)``."""
        return keras.ops.convert_to_numpy(self.inverse(self._check(z, "z")))

    def sample(self, n: int, seed: int | None = None) -> np.ndarray:
        """``n`` samples ``f^{-1}(z)``, ``z ~ N(0, I)`` (numpy, seeded): ``(n, data_dim)``."""
        n = check_positive_int(n, "n")
        z = np.random.default_rng(seed).standard_normal((n, self.data_dim)).astype(np.float32)
        return self.decode(z)
