"""Nearest neighbours in the training set: does a generative model copy its training data?

A model that returns its training images scores like real data on every metric that compares
samples with the data distribution (likelihood aside). What catches it is a comparison with
the training set itself: how close is each sample to its nearest training image, compared
with how close *new* images from the same distribution (the test set) are to theirs?

Conventions: every set is an array ``(N, *item_shape)`` of one item shape (images
``(28, 28, 1)`` in [0, 1], or feature vectors); items are compared flattened, with the
Euclidean distance in the units of the values (for images in [0, 1]: a distance of 1 is one
pixel changed from black to white, or 4 pixels changed by a half each).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from genmodels.validation import check_positive_int


def _as_set(items: object, what: str) -> np.ndarray:
    """``items`` as a float32 ``(N, *item_shape)`` numpy array, or a ValueError naming the fix."""
    array = np.asarray(items)
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise TypeError(f"{what} must be numeric, got dtype {array.dtype}")
    if array.ndim < 2:
        raise ValueError(
            f"{what} must have shape (N, ...) with one item per row, got shape {array.shape}; "
            "a single image needs a leading axis: images[None]"
        )
    if len(array) == 0:
        raise ValueError(f"{what} is empty: nearest neighbours need at least one item")
    array = array.astype(np.float32, copy=False)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{what} contains NaN or infinite values")
    return array


def _same_items(first: np.ndarray, second: np.ndarray, names: tuple[str, str]) -> None:
    if first.shape[1:] != second.shape[1:]:
        raise ValueError(
            f"{names[0]} have items of shape {first.shape[1:]} but {names[1]} {second.shape[1:]}: "
            "compare images of the same size and scale (e.g. both from data.to_unit_interval)"
        )


def nearest_neighbours(
    queries: np.ndarray, reference: np.ndarray, k: int = 1, batch_size: int = 256
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest items of ``reference`` to each query, by exact Euclidean distance.

    Candidates come from ``|q|^2 + |r|^2 - 2 q.r`` (one matrix product per batch of
    queries); the distances of the best candidates are then recomputed from the differences,
    so an exact copy has distance exactly 0.

    Args:
        queries: ``(Q, *item_shape)``.
        reference: ``(R, *item_shape)``, e.g. the training set.
        k: neighbours per query, at most ``R``.
        batch_size: queries per matrix product (memory: ``batch_size * R`` floats).

    Returns:
        ``(distances, indices)``, each ``(Q, k)``, nearest first; ``indices`` index ``reference``.
    """
    queries, reference = _as_set(queries, "queries"), _as_set(reference, "reference")
    _same_items(queries, reference, ("queries", "the reference set"))
    k, batch_size = check_positive_int(k, "k"), check_positive_int(batch_size, "batch_size")
    if k > len(reference):
        raise ValueError(f"k = {k} exceeds the {len(reference)} items of the reference set")
    flat_queries, flat_reference = queries.reshape(len(queries), -1), reference.reshape(len(reference), -1)
    reference_norms = np.einsum("ij,ij->i", flat_reference, flat_reference)
    candidates = min(len(reference), k + 8)  # a margin for the rounding of the fast formula
    distances, indices = np.empty((len(queries), k)), np.empty((len(queries), k), dtype=np.int64)
    for start in range(0, len(queries), batch_size):
        batch = flat_queries[start : start + batch_size]
        squared = reference_norms[None, :] - 2.0 * batch @ flat_reference.T  # + |q|^2, same per row
        best = np.argpartition(squared, candidates - 1, axis=1)[:, :candidates]
        exact = np.linalg.norm(flat_reference[best] - batch[:, None, :], axis=-1)
        order = np.argsort(exact, axis=1, kind="stable")[:, :k]
        distances[start : start + len(batch)] = np.take_along_axis(exact, order, axis=1)
        indices[start : start + len(batch)] = np.take_along_axis(best, order, axis=1)
    return distances, indices


@dataclass(frozen=True)
class CopyingReport:
    """The copying check of one set of samples against a training set.

    Attributes:
        sample_distances: ``(S,)`` distance of each sample to its nearest training item.
        sample_neighbours: ``(S,)`` index of that training item.
        test_distances: ``(T,)`` the same for held-out (test) items: what new data look like.
        threshold: the ``quantile`` of ``test_distances``; a sample nearer than this to a
            training item is flagged as a copy (so a share ``quantile`` of new data is flagged too).
        flagged: share of samples nearer than ``threshold`` to a training item.
        median_ratio: median sample distance / median test distance (near 1: no sign of
            copying; near 0: the samples sit on training items).
    """

    sample_distances: np.ndarray
    sample_neighbours: np.ndarray
    test_distances: np.ndarray
    threshold: float
    flagged: float
    median_ratio: float


class CopyingCheck:
    """Compares samples with a training set, calibrated on held-out items of the same distribution.

    The distance from each held-out (test) item to its nearest training item is computed
    once, when the check is made; it is what new data look like. Calling the check on a set
    of samples returns a :class:`CopyingReport`.

    Args:
        train: the model's training set ``(R, *item_shape)``.
        test: held-out items of the same distribution ``(T, *item_shape)``, none in ``train``.
        quantile: the false-alarm rate on new data that sets the copy threshold, in (0, 1).
    """

    def __init__(self, train: np.ndarray, test: np.ndarray, quantile: float = 0.01) -> None:
        if not 0.0 < quantile < 1.0:
            raise ValueError(f"quantile must lie strictly between 0 and 1, got {quantile!r}")
        self.train, test = _as_set(train, "train"), _as_set(test, "test")
        _same_items(test, self.train, ("test items", "training items"))
        self.test_distances = nearest_neighbours(test, self.train)[0][:, 0]
        self.threshold = float(np.quantile(self.test_distances, quantile))

    def __call__(self, samples: np.ndarray) -> CopyingReport:
        """The copying report of a model's ``samples`` ``(S, *item_shape)``."""
        samples = _as_set(samples, "samples")
        _same_items(samples, self.train, ("samples", "training items"))
        distances, indices = (a[:, 0] for a in nearest_neighbours(samples, self.train))
        return CopyingReport(
            sample_distances=distances,
            sample_neighbours=indices,
            test_distances=self.test_distances,
            threshold=self.threshold,
            flagged=float(np.mean(distances < self.threshold)),
            median_ratio=float(np.median(distances) / np.median(self.test_distances)),
        )


def closer_to_train(samples: np.ndarray, train: np.ndarray, held_out: np.ndarray) -> float:
    """Share of samples whose nearest ``train`` item is nearer than their nearest ``held_out`` item.

    With ``train`` and ``held_out`` of the same size and distribution, samples drawn afresh
    from that distribution give about 0.5; a model that reproduces its training items gives 1.
    (The idea of the data-copying test of Meehan et al. 2020, reduced to one number.)

    Args:
        samples: ``(S, *item_shape)``.
        train: the model's training items ``(N, *item_shape)``.
        held_out: ``(N, *item_shape)`` items it never saw, as many as ``train``.
    """
    samples, train = _as_set(samples, "samples"), _as_set(train, "train")
    held_out = _as_set(held_out, "held_out")
    _same_items(samples, train, ("samples", "training items"))
    _same_items(held_out, train, ("held-out items", "training items"))
    if len(train) != len(held_out):
        raise ValueError(
            f"train has {len(train)} items and held_out {len(held_out)}: use sets of the same size, "
            "or the larger set is nearer by its size alone (e.g. train[:n] and held_out[:n])"
        )
    to_train = nearest_neighbours(samples, train)[0][:, 0]
    to_held_out = nearest_neighbours(samples, held_out)[0][:, 0]
    return float(np.mean(to_train < to_held_out))


def closest_pairs(report: CopyingReport, n: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """The ``n`` samples nearest to a training item: ``(sample indices, training indices)``, each ``(n,)``."""
    n = min(check_positive_int(n, "n"), len(report.sample_distances))
    order = np.argsort(report.sample_distances, kind="stable")[:n]
    return order, report.sample_neighbours[order]
