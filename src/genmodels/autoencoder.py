"""A plain (deterministic) autoencoder, and principal-component features to compare sets of images.

An autoencoder learns ``encoder: x -> z`` and ``decoder: z -> x`` so that
``decoder(encoder(x)) ~ x`` (Hinton & Salakhutdinov 2006). Nothing in its training says
which codes ``z`` are valid: the codes of the training images fill some region of the code
space, of some shape and scale the training happened to produce, and a code drawn from
anywhere else decodes to whatever the decoder does there. It is a compressor, not a
generative model. A VAE is the same pair of networks plus a prior ``p(z)`` that its
training pulls the codes towards, which is what makes ``decoder(z), z ~ p(z)`` a sampler.

Conventions: images ``(N, 28, 28, 1)`` with intensities in ``[0, 1]``; codes
``(N, latent_dim)``; the decoder outputs Bernoulli logits (as :mod:`genmodels.vae`), and
the reconstruction loss is the binary cross-entropy summed over pixels, per image, in nats.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import keras
import numpy as np
import tensorflow as tf

from genmodels.vae import UNIT_INTERVAL_FIX, bernoulli_log_likelihood
from genmodels.validation import check_batch, check_positive_int


def build_encoder(
    data_shape: Sequence[int] = (28, 28, 1), latent_dim: int = 32, hidden: Sequence[int] = (512, 256)
) -> keras.Model:
    """Deterministic MLP encoder ``(N, *data_shape) -> (N, latent_dim)``, one code per image."""
    latent_dim = check_positive_int(latent_dim, "latent_dim")
    x = keras.Input(tuple(data_shape), name="x")
    h = keras.layers.Flatten()(x)
    for i, width in enumerate(hidden):
        h = keras.layers.Dense(check_positive_int(width, "hidden width"), "relu", name=f"dense_{i}")(h)
    return keras.Model(x, keras.layers.Dense(latent_dim, name="code")(h), name="encoder")


class Autoencoder(keras.Model):
    """Encoder and decoder trained on the reconstruction loss alone; ``fit(images)``.

    Args:
        encoder: ``(N, *data_shape) -> (N, latent_dim)``, see :func:`build_encoder`.
        decoder: ``(N, latent_dim) -> (N, *data_shape)`` logits, e.g. ``vae.build_mlp_decoder``.
    """

    def __init__(self, encoder: keras.Model, decoder: keras.Model, **kwargs) -> None:
        super().__init__(**kwargs)
        self.latent_dim = int(encoder.outputs[0].shape[-1])
        self.data_shape = tuple(encoder.inputs[0].shape[1:])
        if (
            tuple(decoder.inputs[0].shape[1:]) != (self.latent_dim,)
            or tuple(decoder.outputs[0].shape[1:]) != self.data_shape
        ):
            raise ValueError(
                f"the decoder must map ({self.latent_dim},) -> {self.data_shape}, got "
                f"{tuple(decoder.inputs[0].shape[1:])} -> {tuple(decoder.outputs[0].shape[1:])}"
            )
        self.encoder, self.decoder = encoder, decoder
        self.loss_tracker = keras.metrics.Mean(name="loss")

    @property
    def metrics(self) -> list[keras.metrics.Metric]:
        return [self.loss_tracker]

    def call(self, x: tf.Tensor, training: bool = False) -> tf.Tensor:
        return self.decoder(self.encoder(x, training=training), training=training)

    def build_state(self) -> None:
        """Create the optimizer's variables so that a checkpoint can restore them."""
        self.optimizer.build(self.trainable_variables)

    def train_step(self, data: object) -> dict[str, tf.Tensor]:
        x = data[0] if isinstance(data, (tuple, list)) else data
        with tf.GradientTape() as tape:
            loss = -tf.reduce_mean(bernoulli_log_likelihood(x, self(x, training=True)))
        gradients = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_variables, strict=True))
        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result()}

    def fit(self, x=None, *args, **kwargs):
        """``keras.Model.fit`` after checking numpy images: ``(N, *data_shape)``, values in [0, 1]."""
        if isinstance(x, np.ndarray):
            x = check_batch(x, self.data_shape, (0.0, 1.0), what="images", fix=UNIT_INTERVAL_FIX)
        return super().fit(x, *args, **kwargs)

    def encode(self, x: object) -> np.ndarray:
        """Codes of images ``(N, *data_shape)`` in [0, 1]: numpy ``(N, latent_dim)``."""
        x = check_batch(x, self.data_shape, (0.0, 1.0), what="images", fix=UNIT_INTERVAL_FIX)
        return keras.ops.convert_to_numpy(self.encoder(x, training=False))

    def decode(self, z: object) -> np.ndarray:
        """Pixel probabilities ``sigmoid(decoder(z))`` for codes ``(N, latent_dim)``."""
        z = check_batch(z, (self.latent_dim,), what="codes z")
        return keras.ops.convert_to_numpy(tf.sigmoid(self.decoder(z, training=False)))


def principal_component_features(
    reference: object, n_components: int = 50
) -> Callable[[np.ndarray], np.ndarray]:
    """Features for comparing sets of images: coordinates on ``reference``'s leading principal axes.

    Args:
        reference: images ``(M, ...)`` that define the axes (e.g. 10,000 training images).
        n_components: how many axes to keep.

    Returns:
        ``features(images)``: ``(N, ...)`` with ``reference``'s image shape -> ``(N, n_components)``
        float64, the centred images projected on the axes in order of decreasing variance.
    """
    reference = np.asarray(reference, dtype=np.float64)
    n_components = check_positive_int(n_components, "n_components")
    flat = reference.reshape(len(reference), -1)
    if n_components > min(flat.shape):
        raise ValueError(f"n_components must be at most {min(flat.shape)} for {flat.shape} reference data")
    mean = flat.mean(axis=0)
    axes = np.linalg.svd(flat - mean, full_matrices=False)[2][:n_components]

    def features(images: np.ndarray) -> np.ndarray:
        images = np.asarray(images, dtype=np.float64)
        if images.shape[1:] != reference.shape[1:]:
            raise ValueError(
                f"images of shape {images.shape[1:]} given, the axes are for {reference.shape[1:]}"
            )
        return (images.reshape(len(images), -1) - mean) @ axes.T

    return features
