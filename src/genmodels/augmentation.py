"""Data augmentation for Fashion-MNIST, and a training stream with a fixed number of steps.

Augmentation makes *new* training examples: transformed copies that the model should find
as likely as the originals (a shirt mirrored left to right is still a shirt). Shuffling is
not augmentation: it changes the order in which the same examples are visited, so the
training objective, a sum over the examples, is the same number after it.

Images are float32 ``(N, 28, 28, 1)`` intensities in [0, 1] on a black (0) background.
"""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np

from genmodels.validation import check_batch, check_positive_int

Augmentation = Callable[[np.ndarray, np.random.Generator], np.ndarray]


def _check_images(images: object) -> np.ndarray:
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(
            f"images must have shape (N, height, width, channels), got shape {images.shape}; "
            "add the channel axis with genmodels.data.to_unit_interval(uint8_images)"
        )
    return check_batch(
        images, images.shape[1:], (0.0, 1.0), what="images", fix="Scale with genmodels.data.to_unit_interval."
    )


def random_flip(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Mirror each image left to right with probability 1/2; ``(N, H, W, C)`` in and out."""
    images = _check_images(images)
    flip = rng.random(len(images)) < 0.5
    return np.where(flip[:, None, None, None], images[:, :, ::-1, :], images)


def random_shift(images: np.ndarray, rng: np.random.Generator, max_shift: int = 2) -> np.ndarray:
    """Move each image by whole pixels, up to ``max_shift`` in each direction, filling with black.

    The offsets ``(dy, dx)`` are drawn uniformly from ``{-max_shift, ..., max_shift}``;
    shapes ``(N, H, W, C)`` in and out. Pixels moved past the border are lost.
    """
    images = _check_images(images)
    max_shift = check_positive_int(max_shift, "max_shift")
    n, height, width, _ = images.shape
    if 2 * max_shift >= min(height, width):
        raise ValueError(f"max_shift {max_shift} is too large for {height} x {width} images")
    padded = np.pad(images, ((0, 0), (max_shift, max_shift), (max_shift, max_shift), (0, 0)))
    dy, dx = (max_shift + rng.integers(-max_shift, max_shift + 1, size=(2, n)))[:, :, None]
    rows = dy[:, :, None] + np.arange(height)[None, :, None]  # (n, H, 1)
    cols = dx[:, None, :] + np.arange(width)[None, None, :]  # (n, 1, W)
    return padded[np.arange(n)[:, None, None], rows, cols]


def flip_and_shift(images: np.ndarray, rng: np.random.Generator, max_shift: int = 1) -> np.ndarray:
    """:func:`random_flip`, then :func:`random_shift` by up to ``max_shift`` pixels."""
    return random_shift(random_flip(images, rng), rng, max_shift)


AUGMENTATIONS: dict[str, Augmentation | None] = {
    "none": None,
    "flip": random_flip,
    "shift": lambda images, rng: random_shift(images, rng, 1),
    "flip_shift": flip_and_shift,
}


class TrainingStream(keras.utils.PyDataset):
    """Batches of dynamically binarised, optionally augmented images; a fixed number per epoch.

    An "epoch" is ``steps_per_epoch`` batches whatever the number of images, so models
    trained on 1,000 or 60,000 images take the same number of gradient steps: a small data
    set is then visited many times, which is what exposes overfitting. Each epoch walks
    through fresh permutations of the images (``order="shuffled"``) or through the images in
    their stored order again and again (``order="fixed"``); each batch is augmented (when
    ``augmentation`` is given) and binarised afresh. The draws depend only on
    ``(seed, epoch, batch)``, so a run can be repeated and resumed.

    Args:
        images: intensities in [0, 1], ``(N, 28, 28, 1)``.
        batch_size: images per batch, at most N.
        steps_per_epoch: batches per epoch.
        seed: seed of the order, the augmentation and the binarisation.
        augmentation: ``f(images, rng) -> images`` (e.g. :func:`random_flip`) or None.
        order: ``"shuffled"`` or ``"fixed"``.
        first_epoch: the number of the first epoch (where a resumed run starts), so that a
            resumed run sees the batches an uninterrupted one would have seen.

    Yields:
        float32 batches of 0s and 1s, ``(batch_size, 28, 28, 1)``.
    """

    def __init__(
        self,
        images: np.ndarray,
        batch_size: int,
        steps_per_epoch: int,
        seed: int = 0,
        augmentation: Augmentation | None = None,
        order: str = "shuffled",
        first_epoch: int = 0,
    ) -> None:
        super().__init__()
        self.images = _check_images(images)
        self.batch_size = check_positive_int(batch_size, "batch_size")
        self.steps_per_epoch = check_positive_int(steps_per_epoch, "steps_per_epoch")
        if self.batch_size > len(self.images):
            raise ValueError(f"batch_size {batch_size} exceeds the {len(self.images)} images")
        if order not in ("shuffled", "fixed"):
            raise ValueError(f"order must be 'shuffled' or 'fixed', got {order!r}")
        if augmentation is not None and not callable(augmentation):
            raise TypeError(f"augmentation must be a function f(images, rng) or None, got {augmentation!r}")
        self.seed, self.order, self.augmentation = int(seed), order, augmentation
        if first_epoch < 0:
            raise ValueError(f"first_epoch must be >= 0, got {first_epoch!r}")
        self.epoch, self._started = int(first_epoch), False
        self._make_order()

    def _make_order(self) -> None:
        """The row of every image of this epoch: whole passes over the data, then the start of one."""
        n, needed = len(self.images), self.steps_per_epoch * self.batch_size
        first_pass = (self.epoch * needed) // n  # the passes continue from epoch to epoch
        passes = range(first_pass, first_pass + needed // n + 2)
        if self.order == "fixed":
            rows = np.concatenate([np.arange(n) for _ in passes])
        else:
            rows = np.concatenate([np.random.default_rng([self.seed, p]).permutation(n) for p in passes])
        offset = (self.epoch * needed) % n
        self.rows = rows[offset : offset + needed]

    def on_epoch_begin(self) -> None:
        """Keras calls this before every epoch."""
        if self._started:
            self.epoch += 1
            self._make_order()
        self._started = True

    def __len__(self) -> int:
        return self.steps_per_epoch

    def __getitem__(self, index: int) -> np.ndarray:
        rows = self.rows[index * self.batch_size : (index + 1) * self.batch_size]
        rng = np.random.default_rng([self.seed, self.epoch, index, 1])
        batch = self.images[rows]
        if self.augmentation is not None:
            batch = self.augmentation(batch, rng)
        return (rng.random(batch.shape, dtype=np.float32) < batch).astype(np.float32)
