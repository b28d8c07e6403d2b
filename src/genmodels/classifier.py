"""A small Fashion-MNIST classifier whose features stand in for Inception in a Fréchet distance.

The Fréchet Inception Distance (Heusel et al. 2017) compares the means and covariances of
Inception-v3 features of real and generated images. Inception's weights cannot be
downloaded here, and its features were learnt on photographs, not 28x28 clothes. This
module trains a small CNN on Fashion-MNIST itself (in seconds on a CPU) and exposes its
penultimate layer as the feature map; :func:`genmodels.metrics.frechet_distance` does the rest.
Numbers computed with these features are **not** comparable with published FID values:
only with each other, for the same classifier weights.

Conventions:

* Images have shape ``(N, 28, 28, 1)`` with values in ``[-1, 1]``, the range of a tanh
  generator (:func:`genmodels.data.to_tanh_range` converts uint8 images).
* The classifier returns **logits** of shape ``(N, 10)``, one per class of
  :data:`genmodels.data.FASHION_MNIST_CLASSES`.
* The layer named :data:`FEATURE_LAYER` gives the features, shape ``(N, feature_dim)``.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import keras
import numpy as np
from keras import layers

from genmodels.training import CheckpointError
from genmodels.validation import InputCheckError, check_batch, check_positive_int

IMAGE_SHAPE: tuple[int, int, int] = (28, 28, 1)
N_CLASSES = 10
FEATURE_LAYER = "features"
WEIGHTS_FILE = "fashion_classifier.weights.h5"
TANH_RANGE_FIX = "Scale uint8 images (N, 28, 28) with genmodels.data.to_tanh_range(images)."


def build_fashion_classifier(feature_dim: int = 128, seed: int | None = 0) -> keras.Model:
    """A small CNN: ``(N, 28, 28, 1)`` images in ``[-1, 1]`` -> ``(N, 10)`` logits.

    Two stride-2 3x3 convolutions with ReLU (28 -> 14 -> 7; 32 then 64 channels), a dense
    ReLU layer named :data:`FEATURE_LAYER` of width ``feature_dim`` (the features), and a
    linear layer of 10 logits. About 0.4 M weights. Strides instead of pooling keep one
    epoch on 60,000 images at about 6 s on 2 CPU cores.

    Args:
        feature_dim: width of the feature layer.
        seed: seeds the initial weights (None: Keras' global random state).
    """
    feature_dim = check_positive_int(feature_dim, "feature_dim")

    def init(k: int) -> keras.initializers.Initializer:
        return keras.initializers.GlorotUniform(seed=None if seed is None else 1000 * int(seed) + k)

    image = keras.Input(IMAGE_SHAPE, name="image")
    h = layers.Conv2D(32, 3, strides=2, padding="same", activation="relu", kernel_initializer=init(0))(image)
    h = layers.Conv2D(64, 3, strides=2, padding="same", activation="relu", kernel_initializer=init(1))(h)
    h = layers.Flatten()(h)
    features = layers.Dense(feature_dim, activation="relu", kernel_initializer=init(2), name=FEATURE_LAYER)(h)
    logits = layers.Dense(N_CLASSES, kernel_initializer=init(3), name="logits")(features)
    return keras.Model(image, logits, name="fashion_classifier")


def check_images(images: object, what: str = "images") -> np.ndarray:
    """``images`` as float32 ``(N, 28, 28, 1)`` in ``[-1, 1]``, or :class:`InputCheckError`."""
    return check_batch(images, IMAGE_SHAPE, (-1.0, 1.0), what=what, fix=TANH_RANGE_FIX)


def _check_labels(labels: object, n: int) -> np.ndarray:
    labels = np.asarray(labels)
    if not np.issubdtype(labels.dtype, np.integer):
        raise InputCheckError(f"labels must be integers 0..9, got dtype {labels.dtype}")
    if labels.shape != (n,):
        raise InputCheckError(f"labels must have shape ({n},), one per image, got shape {labels.shape}")
    if labels.min() < 0 or labels.max() >= N_CLASSES:
        raise InputCheckError(f"labels must lie in 0..9, got values in [{labels.min()}, {labels.max()}]")
    return labels.astype(np.int64)


def train_fashion_classifier(
    images: np.ndarray,
    labels: np.ndarray,
    epochs: int = 2,
    batch_size: int = 128,
    seed: int = 0,
    feature_dim: int = 128,
    learning_rate: float = 1e-3,
    verbose: int = 0,
) -> keras.Model:
    """Build and train :func:`build_fashion_classifier` with Adam and cross-entropy on logits.

    Measured on 2 CPU cores with the 60,000 training images (seeds 0, 1, 2; test split of
    10,000): 1 epoch takes about 5-7 s and reaches 85.9-87.2% test accuracy, 2 epochs
    (the default) about 11 s and 87.5-88.9%. With 5,000 images, 1 epoch: about 1 s, 75%.

    Args:
        images: ``(N, 28, 28, 1)`` in ``[-1, 1]``.
        labels: ``(N,)`` integers in 0..9.
        epochs: passes over the data, each in a fresh order drawn from ``seed``.
        batch_size: images per Adam step.
        seed: seeds the initial weights and the shuffling, so a run repeats number for
            number; Keras' and NumPy's global random state are left alone.
        feature_dim: width of the feature layer.
        learning_rate: Adam's step size.
        verbose: Keras' progress output (0: silent).

    Returns:
        the trained, compiled classifier (its ``evaluate`` reports loss and accuracy).
    """
    images = check_images(images)
    labels = _check_labels(labels, len(images))
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    model = build_fashion_classifier(feature_dim, seed=seed)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        order = rng.permutation(len(images))
        model.fit(
            images[order], labels[order], batch_size=batch_size, epochs=1, shuffle=False, verbose=verbose
        )
    return model


def feature_extractor(classifier: keras.Model) -> keras.Model:
    """The classifier cut at its feature layer: ``(N, 28, 28, 1) -> (N, feature_dim)``.

    The extractor shares the classifier's weights (no copy).

    Raises:
        ValueError: the model has no layer named :data:`FEATURE_LAYER`.
    """
    try:
        features = classifier.get_layer(FEATURE_LAYER).output
    except ValueError:
        names = [layer.name for layer in classifier.layers]
        raise ValueError(
            f"the model {classifier.name!r} has no layer named {FEATURE_LAYER!r} (its layers: {names}); "
            "build it with genmodels.classifier.build_fashion_classifier"
        ) from None
    return keras.Model(classifier.inputs[0], features, name=f"{classifier.name}_features")


def predict_in_batches(model: keras.Model, images: np.ndarray, batch_size: int = 500) -> np.ndarray:
    """``model(images)`` in inference mode, ``batch_size`` images per call; a numpy array.

    ``images`` must already be checked; the result has shape ``(N, *output_shape)``.
    """
    batch_size = check_positive_int(batch_size, "batch_size")
    outputs = [
        keras.ops.convert_to_numpy(model(images[start : start + batch_size], training=False))
        for start in range(0, len(images), batch_size)
    ]
    return np.concatenate(outputs)


def classifier_accuracy(classifier: keras.Model, images: np.ndarray, labels: np.ndarray) -> float:
    """Share of ``images`` (``(N, 28, 28, 1)`` in ``[-1, 1]``) whose arg-max logit equals the label."""
    images = check_images(images)
    labels = _check_labels(labels, len(images))
    predicted = predict_in_batches(classifier, images).argmax(axis=1)
    return float(np.mean(predicted == labels))


# ---------------------------------------------------------------- reuse across runs


def save_classifier(classifier: keras.Model, directory: str | os.PathLike) -> Path:
    """Write the weights to ``directory / WEIGHTS_FILE`` (folder created); returns the path."""
    path = Path(directory) / WEIGHTS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # Keras 3.15 turns each variable into numpy in a way NumPy 2 deprecates; harmless.
        warnings.filterwarnings("ignore", "__array__ implementation", DeprecationWarning)
        classifier.save_weights(path)
    return path


def load_classifier(directory: str | os.PathLike, feature_dim: int = 128) -> keras.Model:
    """Rebuild the classifier and load the weights saved by :func:`save_classifier`.

    The model comes back uncompiled: measure it with :func:`classifier_accuracy`.

    Raises:
        FileNotFoundError: ``directory`` holds no :data:`WEIGHTS_FILE`.
        CheckpointError: the file is corrupt, or was written by another architecture
            (e.g. another ``feature_dim``).
    """
    path = Path(directory) / WEIGHTS_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"no saved classifier at {path}; train one and save_classifier(model, folder)"
        )
    model = build_fashion_classifier(feature_dim)
    try:
        # A mismatched file makes Keras warn about every part it skips before it raises;
        # hold those warnings back and raise one clear error instead.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model.load_weights(path)
    except ValueError as error:
        first = str(error).strip().splitlines()[0][:300]
        raise CheckpointError(
            f"{path} does not fit this classifier (feature_dim={feature_dim}): it was saved from "
            f"another architecture ({first}). Delete it to train again, or pass the feature_dim "
            "it was trained with."
        ) from None
    except OSError as error:  # h5py: not an HDF5 file, truncated file
        first = str(error).strip().splitlines()[0][:300]
        raise CheckpointError(
            f"{path} is corrupt or incomplete ({first}); delete it to train again."
        ) from None
    for warning in caught:  # the load worked: pass on what Keras had to say about it
        if issubclass(warning.category, UserWarning):
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    return model


def load_or_train_fashion_classifier(
    directory: str | os.PathLike, images: np.ndarray, labels: np.ndarray, **train_kwargs
) -> keras.Model:
    """Load the classifier saved in ``directory``, or train one and save it there.

    A re-run of a chapter then skips training. The file does not record how the
    classifier was trained: delete it after changing ``images`` or ``train_kwargs``.

    Args:
        directory: where :data:`WEIGHTS_FILE` lives (e.g. ``training.checkpoint_dir("fid")``).
        images, labels, train_kwargs: as for :func:`train_fashion_classifier`.
    """
    path = Path(directory) / WEIGHTS_FILE
    if path.is_file():
        return load_classifier(directory, feature_dim=train_kwargs.get("feature_dim", 128))
    model = train_fashion_classifier(images, labels, **train_kwargs)
    save_classifier(model, directory)
    return model
