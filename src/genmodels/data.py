"""Data sets of the book: Fashion-MNIST images and 2-D Gaussian mixtures.

Fashion-MNIST is looked up, in this order, at

1. an explicit ``path`` argument, or the ``GENMODELS_FASHION_MNIST`` environment variable;
2. the Keras cache, ``~/.keras/datasets/fashion-mnist/``;
3. Debian's ``dataset-fashion-mnist`` package, ``/usr/share/datasets/fashion-mnist/``;
4. a Keras download (only when ``download=True``, the default).

Every place holds the four gzipped IDX files of the original release. When none is
reachable, :class:`DataNotFoundError` says exactly how to get a copy.

The toy mixtures follow the protocol of the mode-collapse literature (VEEGAN, PacGAN):
a ring of 8 Gaussians of radius 2 and standard deviation 0.02, and a 5 x 5 grid of
Gaussians at ``(-4 + 2i, -4 + 2j)`` with standard deviation 0.05.
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import numpy as np

FASHION_MNIST_CLASSES: tuple[str, ...] = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

ENV_VAR = "GENMODELS_FASHION_MNIST"
# Keras downloads into $KERAS_HOME/datasets when KERAS_HOME is set, else ~/.keras/datasets.
KERAS_CACHE = Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras") / "datasets" / "fashion-mnist"
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
_SIZES = {"train": 60_000, "test": 10_000}

RING_RADIUS = 2.0
RING_STD = 0.02
GRID_STD = 0.05


class DataNotFoundError(FileNotFoundError):
    """No copy of a data set could be found or downloaded."""


def _how_to_get_fashion_mnist(tried: list[str], download_error: str | None) -> str:
    lines = ["Fashion-MNIST was not found. Looked in:"]
    lines += [f"  - {place}" for place in tried]
    if download_error:
        lines.append(f"The Keras download failed too: {download_error}")
    lines += [
        "Get a copy in one of these ways, then run again:",
        '  * online: python -c "import keras; keras.datasets.fashion_mnist.load_data()"',
        "    (stores it in ~/.keras/datasets/fashion-mnist/);",
        "  * Debian/Ubuntu, offline mirror: sudo apt-get install dataset-fashion-mnist",
        "    (installs /usr/share/datasets/fashion-mnist/);",
        "  * by hand: put train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz,",
        "    t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz from",
        "    https://github.com/zalandoresearch/fashion-mnist in a folder and set",
        f"    {ENV_VAR}=/that/folder (or pass path=...).",
    ]
    return "\n".join(lines)


def _read_idx(path: Path, expected_dims: int) -> np.ndarray:
    """Read a gzipped IDX file (the MNIST format) into a uint8 array."""
    try:
        with gzip.open(path, "rb") as handle:
            raw = handle.read()
    except (gzip.BadGzipFile, EOFError, zlib.error) as error:  # a cut-off or damaged download
        raise ValueError(f"{path} is not a complete gzip file (corrupt download?): {error}") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path} is not an unsigned-byte IDX file (corrupt download?)")
    dims = raw[3]
    if dims != expected_dims:
        raise ValueError(f"{path} has {dims} dimensions, expected {expected_dims}")
    if len(raw) < 4 + 4 * dims:
        raise ValueError(f"{path} is truncated: its header is cut off")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"{path} is truncated: {data.size} bytes for shape {shape}")
    return data.reshape(shape)


def _candidate_dirs(path: str | os.PathLike | None) -> list[Path]:
    if path is not None:
        return [Path(path)]
    dirs = []
    if os.environ.get(ENV_VAR):
        dirs.append(Path(os.environ[ENV_VAR]))
    return [*dirs, KERAS_CACHE, DEBIAN_DIR]


def find_fashion_mnist(path: str | os.PathLike | None = None) -> Path | None:
    """Return the first folder of the look-up chain that holds all four files, else None."""
    for folder in _candidate_dirs(path):
        if all((folder / name).is_file() for pair in _FILES.values() for name in pair):
            return folder
    return None


def load_fashion_mnist(
    split: str = "train",
    path: str | os.PathLike | None = None,
    download: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Load one split of Fashion-MNIST.

    Args:
        split: ``"train"`` (60,000 images) or ``"test"`` (10,000 images).
        path: a folder with the four gzipped IDX files; skips the rest of the chain.
        download: try a Keras download when no local copy exists.

    Returns:
        ``(images, labels)``: uint8 images of shape ``(N, 28, 28)`` with values 0..255,
        and int64 labels of shape ``(N,)`` in 0..9 (see :data:`FASHION_MNIST_CLASSES`).

    Raises:
        DataNotFoundError: no copy is reachable; the message says how to get one.
    """
    if split not in _FILES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    folder = find_fashion_mnist(path)
    download_error = None
    if folder is None and download and path is None:
        try:
            import keras

            keras.datasets.fashion_mnist.load_data()
            folder = find_fashion_mnist()
        except Exception as error:  # no network, proxy, blocked host: all end the same
            download_error = f"{type(error).__name__}: {error}".splitlines()[0][:200]
    if folder is None:
        tried = [str(p) for p in _candidate_dirs(path)]
        if path is None and not os.environ.get(ENV_VAR):
            tried.insert(0, f"${ENV_VAR} (not set)")
        raise DataNotFoundError(_how_to_get_fashion_mnist(tried, download_error))
    image_file, label_file = _FILES[split]
    images = _read_idx(folder / image_file, expected_dims=3)
    labels = _read_idx(folder / label_file, expected_dims=1).astype(np.int64)
    if images.shape != (_SIZES[split], 28, 28) or labels.shape != (_SIZES[split],):
        raise ValueError(
            f"{folder} holds a {split} split of shape {images.shape} / {labels.shape}, "
            f"expected ({_SIZES[split]}, 28, 28) / ({_SIZES[split]},)"
        )
    return images, labels


def to_unit_interval(images: np.ndarray) -> np.ndarray:
    """uint8 images (values 0..255) -> float32 in [0, 1] with a trailing channel axis.

    Shapes: ``(N, 28, 28)`` -> ``(N, 28, 28, 1)``.
    """
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise TypeError(f"expected uint8 pixels 0..255, got dtype {images.dtype}")
    return (images.astype(np.float32) / 255.0)[..., None]


def to_tanh_range(images: np.ndarray) -> np.ndarray:
    """uint8 images -> float32 in [-1, 1] with a channel axis (the range of a tanh generator)."""
    return to_unit_interval(images) * 2.0 - 1.0


def binarize(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Dynamic binarisation: each pixel becomes 1 with probability equal to its intensity.

    Args:
        images: floats in [0, 1], any shape.
        rng: the random generator; call again each epoch for a fresh binarisation
            (this is the protocol of Burda et al. 2016 for likelihood numbers).

    Returns:
        float32 array of 0s and 1s with the shape of ``images``.
    """
    images = np.asarray(images, dtype=np.float32)
    if images.size and (images.min() < 0.0 or images.max() > 1.0):
        raise ValueError(
            f"binarize expects intensities in [0, 1], got [{images.min():.3g}, {images.max():.3g}]"
            " (divide uint8 pixels by 255 first, e.g. with to_unit_interval)"
        )
    return (rng.random(images.shape) < images).astype(np.float32)


def ring_centers(n_modes: int = 8, radius: float = RING_RADIUS) -> np.ndarray:
    """Centres of ``n_modes`` Gaussians evenly spaced on a circle; shape ``(n_modes, 2)``.

    ``endpoint=False`` matters: with ``np.linspace(0, 2*pi, n)`` the first and last
    centres coincide and the "8-mode" ring has only 7 distinct modes.
    """
    angles = np.linspace(0.0, 2.0 * np.pi, n_modes, endpoint=False)
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def grid_centers(side: int = 5, spacing: float = 2.0) -> np.ndarray:
    """Centres of a ``side x side`` grid centred on 0, e.g. (-4 + 2i, -4 + 2j); shape ``(side**2, 2)``."""
    offsets = (np.arange(side) - (side - 1) / 2.0) * spacing
    xx, yy = np.meshgrid(offsets, offsets, indexing="ij")
    return np.stack([xx.ravel(), yy.ravel()], axis=1)


def sample_mixture(centers: np.ndarray, std: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """Draw ``n`` points from an equal-weight mixture of isotropic Gaussians.

    Returns float32 of shape ``(n, dim)`` where ``dim = centers.shape[1]``.
    """
    centers = np.asarray(centers, dtype=np.float64)
    if centers.ndim != 2:
        raise ValueError(f"centers must have shape (n_modes, dim), got {centers.shape}")
    if std <= 0:
        raise ValueError(f"std must be positive, got {std}")
    which = rng.integers(0, len(centers), size=n)
    points = centers[which] + std * rng.standard_normal((n, centers.shape[1]))
    return points.astype(np.float32)


def ring(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` samples of the 8-Gaussian ring (radius 2, std 0.02); shape ``(n, 2)``."""
    return sample_mixture(ring_centers(), RING_STD, n, rng)


def grid(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` samples of the 25-Gaussian grid (spacing 2, std 0.05); shape ``(n, 2)``."""
    return sample_mixture(grid_centers(), GRID_STD, n, rng)
