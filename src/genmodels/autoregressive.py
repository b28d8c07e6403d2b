"""A masked autoencoder for distribution estimation (MADE; Germain et al. 2015) for binary vectors.

The chain rule writes any distribution over ``x = (x_1, ..., x_D)`` exactly as

    p(x) = p(x_1) p(x_2 | x_1) ... p(x_D | x_1, ..., x_{D-1}),

so a network that outputs, for every ``d``, the Bernoulli logit of ``p(x_d = 1 | x_<d)``
gives an exact, normalised log-likelihood in ONE forward pass. MADE builds such a network
from an ordinary MLP by multiplying each weight matrix with a binary mask:

* every input ``d`` gets the *degree* ``d`` (its position in the ordering, 1 .. D);
* every hidden unit gets a degree ``m`` in ``1 .. D - 1``: the largest input position it
  may see; a hidden unit of degree ``m`` connects to units of the layer below with degree
  ``<= m``;
* output ``d`` connects to hidden units of degree ``< d`` only (strictly).

Then output ``d`` depends on inputs ``x_1 .. x_{d-1}`` and nothing else. Sampling is
sequential: ``x_1`` first, then ``x_2`` given it, ..., one forward pass per dimension.

Conventions: vectors are ``(N, D)`` floats of 0s and 1s (images are flattened); logits
``(N, D)``; every log-likelihood is per example, in nats, summed over the ``D`` dimensions.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from genmodels.validation import check_batch, check_positive_int

BINARY_FIX = "Binarise intensities in [0, 1] first, e.g. with genmodels.data.binarize(images, rng)."


def hidden_degrees(n_units: int, n_inputs: int, lowest: int = 1) -> np.ndarray:
    """Degrees of one hidden layer: ``n_units`` integers spread evenly over ``lowest .. D - 1``.

    Germain et al. draw them at random; evenly spread degrees are deterministic and give
    every conditional ``p(x_d | x_<d)`` some hidden units that can see all of ``x_<d``.
    """
    n_units, n_inputs = check_positive_int(n_units, "n_units"), check_positive_int(n_inputs, "n_inputs")
    if n_inputs < 2:
        raise ValueError("an autoregressive model needs at least 2 dimensions (n_inputs >= 2)")
    return np.floor(np.linspace(lowest, n_inputs - 1 + 0.999, n_units)).astype(np.int64)


def made_masks(
    n_inputs: int, hidden: Sequence[int], ordering: np.ndarray | None = None
) -> tuple[list[np.ndarray], np.ndarray]:
    """The binary masks of a MADE with hidden layers of the given widths.

    Args:
        n_inputs: ``D``.
        hidden: widths of the hidden layers, e.g. ``(500,)``.
        ordering: a permutation of ``0 .. D-1``; ``ordering[k]`` is the input that comes
            ``k``-th in the chain rule. Default: the natural order.

    Returns:
        ``(masks, direct_mask)``: one float32 mask per weight matrix, shapes ``(D, h_1)``,
        ``(h_1, h_2)``, ..., ``(h_L, D)``, where ``mask[i, j] = 1`` lets unit ``i`` feed unit
        ``j``; and the ``(D, D)`` mask of a direct input-to-output connection
        (``1`` where input ``i`` comes strictly before output ``j``).
    """
    input_degrees = _input_degrees(n_inputs, ordering)
    degrees = [input_degrees]
    for width in hidden:
        degrees.append(hidden_degrees(width, n_inputs, lowest=int(degrees[-1].min())))
    masks = [
        (below[:, None] <= above[None, :]).astype(np.float32) for below, above in itertools.pairwise(degrees)
    ]
    masks.append((degrees[-1][:, None] < input_degrees[None, :]).astype(np.float32))
    direct = (input_degrees[:, None] < input_degrees[None, :]).astype(np.float32)
    return masks, direct


def _input_degrees(n_inputs: int, ordering: np.ndarray | None) -> np.ndarray:
    """Degree ``1 .. D`` of every input: its position in ``ordering`` plus one."""
    n_inputs = check_positive_int(n_inputs, "n_inputs")
    if ordering is None:
        return np.arange(1, n_inputs + 1)
    ordering = np.asarray(ordering)
    if ordering.shape != (n_inputs,) or not np.array_equal(np.sort(ordering), np.arange(n_inputs)):
        raise ValueError(
            f"ordering must be a permutation of 0 .. {n_inputs - 1}, e.g. np.random.permutation(D)"
        )
    degrees = np.empty(n_inputs, dtype=np.int64)
    degrees[ordering] = np.arange(1, n_inputs + 1)
    return degrees


@keras.saving.register_keras_serializable(package="genmodels")
class MaskedDense(keras.layers.Layer):
    """``y = x @ (kernel * mask) + bias``: a dense layer whose forbidden weights are held at zero.

    Shapes: ``(N, mask.shape[0])`` -> ``(N, mask.shape[1])``. The mask is a constant, not a
    weight, so training never turns a forbidden connection on.
    """

    def __init__(self, mask: np.ndarray, activation: str | None = None, use_bias: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.mask = np.asarray(mask, dtype=np.float32)
        if self.mask.ndim != 2:
            raise ValueError(f"mask must be a 2-D (inputs, units) array, got shape {self.mask.shape}")
        self.activation = keras.activations.get(activation)
        self.use_bias = use_bias

    def build(self, input_shape: tuple) -> None:
        if input_shape[-1] != self.mask.shape[0]:
            raise ValueError(f"the layer expects {self.mask.shape[0]} input features, got {input_shape[-1]}")
        self.kernel = self.add_weight(shape=self.mask.shape, initializer="glorot_uniform", name="kernel")
        self.bias = (
            self.add_weight(shape=(self.mask.shape[1],), initializer="zeros", name="bias")
            if (self.use_bias)
            else None
        )

    def call(self, x: tf.Tensor) -> tf.Tensor:
        y = keras.ops.matmul(x, self.kernel * self.mask)
        if self.bias is not None:
            y = y + self.bias
        return self.activation(y)


def build_made(
    n_inputs: int = 784,
    hidden: Sequence[int] = (500,),
    direct: bool = True,
    ordering: np.ndarray | None = None,
) -> keras.Model:
    """MADE network ``x -> logits``: ``(N, D)`` binary vectors to ``(N, D)`` Bernoulli logits.

    ``logits[:, d]`` is the logit of ``p(x_d = 1 | inputs before d in the ordering)``.
    Hidden layers are ReLU. ``direct=True`` adds a masked linear input-to-output path, the
    logistic autoregressive model of Frey (1998), which the hidden layers then refine.
    """
    n_inputs = check_positive_int(n_inputs, "n_inputs")
    masks, direct_mask = made_masks(
        n_inputs, [check_positive_int(h, "hidden width") for h in hidden], ordering
    )
    x = keras.Input((n_inputs,), name="x")
    h = x
    for i, mask in enumerate(masks[:-1]):
        h = MaskedDense(mask, "relu", name=f"masked_{i}")(h)
    logits = MaskedDense(masks[-1], name="logits")(h)
    if direct:
        logits = keras.layers.Add(name="with_direct")(
            [logits, MaskedDense(direct_mask, use_bias=False, name="direct")(x)]
        )
    return keras.Model(x, logits, name="made")


def bernoulli_log_prob(x: tf.Tensor, logits: tf.Tensor) -> tf.Tensor:
    """``sum_d x_d log sigmoid(l_d) + (1 - x_d) log(1 - sigmoid(l_d))`` = ``sum_d x_d l_d - softplus(l_d)``.

    Shapes: ``(N, D)`` and ``(N, D)`` -> ``(N,)``, nats.
    """
    x = keras.ops.cast(x, logits.dtype)
    return keras.ops.sum(x * logits - keras.ops.softplus(logits), axis=-1)


class MADE(keras.Model):
    """An autoregressive model of binary vectors as one ``keras.Model``.

    ``compile(optimizer=...)``, then ``fit`` on binary vectors (or on a stream of binary
    images, such as :class:`genmodels.vae.DynamicallyBinarized`, which are flattened)
    minimises ``-mean log p(x)``, the exact negative log-likelihood. ``log_prob`` scores
    data in one pass; ``sample`` draws new vectors, one dimension per pass.

    Args:
        network: from :func:`build_made`; ``(N, D) -> (N, D)`` logits.
        ordering: the ordering the network's masks were built with (default: natural).
    """

    def __init__(self, network: keras.Model, ordering: np.ndarray | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.network = network
        self.n_inputs = int(network.inputs[0].shape[-1])
        self.ordering = np.arange(self.n_inputs) if ordering is None else np.asarray(ordering)
        _input_degrees(self.n_inputs, self.ordering)  # checks the permutation
        self.loss_tracker = keras.metrics.Mean(name="nll")

    @property
    def metrics(self) -> list[keras.metrics.Metric]:
        return [self.loss_tracker]

    def call(self, x: tf.Tensor, training: bool = False) -> tf.Tensor:
        return self.network(keras.ops.reshape(x, (-1, self.n_inputs)), training=training)

    def build_state(self) -> None:
        """Create the optimizer's variables so that a checkpoint can restore them."""
        self.optimizer.build(self.network.trainable_variables)

    def train_step(self, data: object) -> dict[str, tf.Tensor]:
        x = data[0] if isinstance(data, (tuple, list)) else data
        x = keras.ops.reshape(keras.ops.cast(x, "float32"), (-1, self.n_inputs))
        with tf.GradientTape() as tape:
            nll = -keras.ops.mean(bernoulli_log_prob(x, self.network(x, training=True)))
        gradients = tape.gradient(nll, self.network.trainable_variables)
        self.optimizer.apply_gradients(zip(gradients, self.network.trainable_variables, strict=True))
        self.loss_tracker.update_state(nll)
        return {"nll": self.loss_tracker.result()}

    def check_binary(self, x: object) -> np.ndarray:
        """``x`` as float32 ``(N, D)`` of 0s and 1s (images are flattened), or a ValueError naming the fix."""
        array = np.asarray(x)
        if array.ndim >= 2 and int(np.prod(array.shape[1:])) == self.n_inputs:
            array = array.reshape(len(array), self.n_inputs)
        array = check_batch(array, (self.n_inputs,), (0.0, 1.0), what="x", fix=BINARY_FIX)
        if not np.all((array == 0) | (array == 1)):
            raise ValueError(f"x must hold only 0s and 1s (a Bernoulli model of binary data). {BINARY_FIX}")
        return array

    def log_prob(self, x: object, batch_size: int = 500) -> np.ndarray:
        """Exact ``log p(x)`` per example, in nats: ``(N, D)`` (or ``(N, *image_shape)``) -> ``(N,)``."""
        x = self.check_binary(x)
        parts = [
            bernoulli_log_prob(batch, self.network(batch, training=False))
            for batch in np.array_split(x, max(1, int(np.ceil(len(x) / batch_size))))
        ]
        return np.concatenate([keras.ops.convert_to_numpy(p) for p in parts]).astype(np.float64)

    @tf.function(reduce_retracing=True)
    def _conditional_probabilities(self, x: tf.Tensor) -> tf.Tensor:
        return keras.ops.sigmoid(self.network(x, training=False))

    def sample(self, n: int, seed: int | None = None) -> np.ndarray:
        """``n`` binary vectors, shape ``(n, D)``, drawn one dimension at a time: ``D`` network passes.

        Pass ``k`` computes every conditional from the dimensions drawn so far and draws
        dimension ``ordering[k]``; the masks guarantee it saw only earlier dimensions.
        """
        n = check_positive_int(n, "n")
        rng = np.random.default_rng(seed)
        x = np.zeros((n, self.n_inputs), dtype=np.float32)
        uniforms = rng.random((self.n_inputs, n), dtype=np.float32)
        for k, d in enumerate(self.ordering):
            p = self._conditional_probabilities(x).numpy()[:, d]
            x[:, d] = (uniforms[k] < p).astype(np.float32)
        return x
