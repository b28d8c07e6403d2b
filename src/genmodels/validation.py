"""Input checks that turn bad input into one clear message.

TensorFlow reports a wrong shape or dtype from deep inside a graph; these checks run
first, on the Python side, and say what was expected, what came in and how to fix it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class InputCheckError(ValueError):
    """Data given to a model has the wrong shape, dtype or value range."""


def _describe(array: np.ndarray) -> str:
    if array.size == 0:
        return f"shape {array.shape}, empty"
    return f"shape {array.shape}, dtype {array.dtype}, values in [{array.min():.4g}, {array.max():.4g}]"


def check_batch(
    data: object,
    feature_shape: Sequence[int],
    value_range: tuple[float, float] | None = None,
    *,
    what: str = "data",
    fix: str = "",
) -> np.ndarray:
    """Check an array of examples and return it as a float32 numpy array.

    Args:
        data: array-like of shape ``(N, *feature_shape)``.
        feature_shape: the shape of one example, e.g. ``(28, 28, 1)`` or ``(2,)``.
        value_range: inclusive ``(low, high)`` every value must lie in, or None.
        what: how the message names the data ("real images", "x", ...).
        fix: a hint appended to the message, e.g. which helper converts the data.

    Raises:
        InputCheckError: wrong rank or shape, non-numeric, NaN/inf, or out of range.
    """
    try:
        array = np.asarray(data)
    except Exception as error:  # ragged lists and the like
        raise InputCheckError(f"{what} could not be turned into an array: {error}") from None
    expected = (None, *tuple(int(d) for d in feature_shape))
    hint = f" {fix}" if fix else ""
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise InputCheckError(f"{what} must be numeric, got dtype {array.dtype}.{hint}")
    if array.ndim != len(expected) or tuple(array.shape[1:]) != expected[1:]:
        raise InputCheckError(
            f"{what} must have shape (N, {', '.join(map(str, expected[1:]))}), got {_describe(array)}.{hint}"
        )
    if array.shape[0] == 0:
        raise InputCheckError(f"{what} is empty (0 examples).")
    array = array.astype(np.float32, copy=False)
    if not np.all(np.isfinite(array)):
        raise InputCheckError(f"{what} contains NaN or infinite values.{hint}")
    if value_range is not None:
        low, high = value_range
        if array.min() < low or array.max() > high:
            raise InputCheckError(
                f"{what} must have values in [{low:g}, {high:g}], got {_describe(array)}.{hint}"
            )
    return array


def check_positive_int(value: object, name: str) -> int:
    """Return ``value`` as int, or raise ValueError naming the argument."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)
