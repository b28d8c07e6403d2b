"""Figures used across the book: image grids, 2-D samples over true centres, loss curves."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes


def _axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    return ax if ax is not None else plt.subplots(figsize=figsize)[1]


def image_grid(
    images: np.ndarray,
    ncols: int = 8,
    ax: Axes | None = None,
    title: str | None = None,
    value_range: tuple[float, float] | None = None,
) -> Axes:
    """Tile greyscale images into one picture.

    Args:
        images: shape ``(N, H, W)`` or ``(N, H, W, 1)``; values in ``[-1, 1]`` (tanh) or
            ``[0, 1]``, detected from the data unless ``value_range`` is given.
        ncols: images per row; rows are added as needed (blank cells stay white).
    """
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim != 3:
        raise ValueError(f"expected images of shape (N, H, W) or (N, H, W, 1), got {images.shape}")
    low, high = value_range or ((-1.0, 1.0) if images.min() < 0 else (0.0, 1.0))
    images = np.clip((images - low) / (high - low), 0.0, 1.0)
    n, h, w = images.shape
    ncols = min(ncols, n)
    nrows = -(-n // ncols)
    canvas = np.ones((nrows * (h + 1) + 1, ncols * (w + 1) + 1), dtype=np.float32)
    for i, image in enumerate(images):
        r, c = divmod(i, ncols)
        canvas[1 + r * (h + 1) : 1 + r * (h + 1) + h, 1 + c * (w + 1) : 1 + c * (w + 1) + w] = image
    ax = _axes(ax, (ncols * 0.6, nrows * 0.6))
    ax.imshow(canvas, cmap="gray_r", vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


def samples_2d(
    samples: np.ndarray,
    centers: np.ndarray | None = None,
    ax: Axes | None = None,
    title: str | None = None,
    limit: float | None = None,
) -> Axes:
    """Scatter 2-D samples (small blue dots) over the true centres (red crosses)."""
    samples = np.asarray(samples)
    ax = _axes(ax, (4.0, 4.0))
    ax.scatter(samples[:, 0], samples[:, 1], s=2, alpha=0.4, color="tab:blue", label="samples")
    if centers is not None:
        ax.scatter(centers[:, 0], centers[:, 1], marker="x", s=60, color="tab:red", label="true modes")
    if limit is None and centers is not None:
        limit = float(np.abs(centers).max()) * 1.4
    if limit is not None:
        ax.set_xlim(-limit, limit)
        ax.set_ylim(-limit, limit)
    ax.set_aspect("equal")
    if title:
        ax.set_title(title)
    return ax


def loss_curves(
    history: Mapping[str, Sequence[float]],
    keys: Sequence[str] | None = None,
    ax: Axes | None = None,
    xlabel: str = "epoch",
    title: str | None = None,
) -> Axes:
    """Plot metrics from a Keras ``History.history`` (or any dict of lists) against time."""
    keys = list(keys or history.keys())
    missing = [k for k in keys if k not in history]
    if missing:
        raise KeyError(f"history has no {missing}; it has {sorted(history)}")
    ax = _axes(ax, (5.0, 3.0))
    for key in keys:
        values = np.asarray(history[key], dtype=float)
        ax.plot(np.arange(1, len(values) + 1), values, label=key)
    ax.set_xlabel(xlabel)
    ax.legend()
    if title:
        ax.set_title(title)
    return ax
