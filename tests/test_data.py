"""genmodels.data: the IDX reader, the Fashion-MNIST look-up chain, scaling and the toy mixtures."""

from __future__ import annotations

import gzip
import itertools
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from genmodels import data
from genmodels.data import DataNotFoundError

FILE_NAMES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


def idx_bytes(array: np.ndarray, type_code: int = 0x08) -> bytes:
    """The IDX format written from its specification: 0, 0, type, ndim, big-endian sizes, data."""
    header = bytes([0, 0, type_code, array.ndim])
    header += b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def write_idx(path: Path, array: np.ndarray, **kwargs) -> Path:
    path.write_bytes(gzip.compress(idx_bytes(array, **kwargs), compresslevel=1))
    return path


def fake_images(n: int, offset: int) -> np.ndarray:
    """Image i has pixel (r, c) = (i + offset + 28 r + c) mod 256: every image differs."""
    first = ((offset + np.arange(n)) % 256).astype(np.uint8).reshape(n, 1, 1)
    pattern = (np.arange(28 * 28) % 256).astype(np.uint8).reshape(1, 28, 28)
    return first + pattern  # uint8 arithmetic wraps around mod 256


def fake_labels(n: int, offset: int) -> np.ndarray:
    return ((np.arange(n) * 7 + offset) % 10).astype(np.uint8)


@pytest.fixture(scope="module")
def fake_fashion_mnist(tmp_path_factory) -> Path:
    """A folder with the four files at the real sizes (60,000 / 10,000) and known content."""
    folder = tmp_path_factory.mktemp("fake-fashion-mnist")
    write_idx(folder / FILE_NAMES[0], fake_images(60_000, offset=0))
    write_idx(folder / FILE_NAMES[1], fake_labels(60_000, offset=0))
    write_idx(folder / FILE_NAMES[2], fake_images(10_000, offset=3))
    write_idx(folder / FILE_NAMES[3], fake_labels(10_000, offset=5))
    return folder


def touch_all(folder: Path) -> Path:
    """A folder that *looks* complete to the look-up (the files exist; content is irrelevant)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in FILE_NAMES:
        (folder / name).write_bytes(b"")
    return folder


@pytest.fixture
def no_copy_anywhere(tmp_path, monkeypatch):
    """Point every place of the look-up chain at empty folders."""
    monkeypatch.delenv(data.ENV_VAR, raising=False)
    monkeypatch.setattr(data, "KERAS_CACHE", tmp_path / "keras-cache" / "fashion-mnist")
    monkeypatch.setattr(data, "DEBIAN_DIR", tmp_path / "debian" / "fashion-mnist")
    return tmp_path


# ---------------------------------------------------------------- the IDX reader


def test_read_idx_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(5, 3, 4), dtype=np.uint8)
    labels = np.array([0, 9, 3, 255], dtype=np.uint8)
    out_images = data._read_idx(write_idx(tmp_path / "i.gz", images), expected_dims=3)
    out_labels = data._read_idx(write_idx(tmp_path / "l.gz", labels), expected_dims=1)
    assert out_images.dtype == np.uint8 and out_images.shape == (5, 3, 4)
    np.testing.assert_array_equal(out_images, images)
    np.testing.assert_array_equal(out_labels, labels)


def test_read_idx_rejects_wrong_magic(tmp_path):
    path = write_idx(tmp_path / "f.gz", np.zeros((2, 2), np.uint8), type_code=0x0D)  # 0x0D = float
    with pytest.raises(ValueError, match="not an unsigned-byte IDX file"):
        data._read_idx(path, expected_dims=2)
    path.write_bytes(gzip.compress(b"\x1f\x8b" + bytes(30)))  # not IDX at all
    with pytest.raises(ValueError, match="not an unsigned-byte IDX file"):
        data._read_idx(path, expected_dims=2)


def test_read_idx_rejects_wrong_number_of_dimensions(tmp_path):
    path = write_idx(tmp_path / "l.gz", np.zeros(10, np.uint8))
    with pytest.raises(ValueError, match="1 dimensions, expected 3"):
        data._read_idx(path, expected_dims=3)


@pytest.mark.parametrize("keep", [20, 4 + 4 * 3 + 3 * 28 * 28 - 1])
def test_read_idx_rejects_truncated_payload(tmp_path, keep):
    raw = idx_bytes(np.zeros((3, 28, 28), np.uint8))[:keep]  # header says 3 images; fewer bytes follow
    path = tmp_path / "t.gz"
    path.write_bytes(gzip.compress(raw))
    with pytest.raises(ValueError, match="truncated"):
        data._read_idx(path, expected_dims=3)


def test_read_idx_rejects_truncated_header(tmp_path):
    path = tmp_path / "t.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros((3, 28, 28), np.uint8))[:9]))
    with pytest.raises(ValueError, match="truncated"):
        data._read_idx(path, expected_dims=3)


def test_read_idx_rejects_cut_off_gzip_download(tmp_path):
    rng = np.random.default_rng(1)
    compressed = gzip.compress(idx_bytes(rng.integers(0, 256, (50, 28, 28), dtype=np.uint8)))
    path = tmp_path / "partial.gz"
    path.write_bytes(compressed[: len(compressed) // 2])
    with pytest.raises(ValueError, match="corrupt download"):
        data._read_idx(path, expected_dims=3)
    path.write_bytes(b"<html>proxy error page</html>")
    with pytest.raises(ValueError, match="corrupt download"):
        data._read_idx(path, expected_dims=3)


# ---------------------------------------------------------------- Fashion-MNIST look-up


def test_load_from_explicit_path(fake_fashion_mnist, no_copy_anywhere):
    x, y = data.load_fashion_mnist("train", path=fake_fashion_mnist, download=False)
    assert x.shape == (60_000, 28, 28) and x.dtype == np.uint8
    assert y.shape == (60_000,) and y.dtype == np.int64
    for i in (0, 1, 12_345, 59_999):
        np.testing.assert_array_equal(x[i], fake_images(60_000, 0)[i])
        assert y[i] == (7 * i) % 10
    x, y = data.load_fashion_mnist("test", path=str(fake_fashion_mnist), download=False)
    assert x.shape == (10_000, 28, 28) and y.shape == (10_000,)
    assert x[0, 0, 0] == 3 and x[7, 1, 2] == (7 + 3 + 28 + 2) % 256
    assert y[4] == (4 * 7 + 5) % 10


def test_load_rejects_bad_split(fake_fashion_mnist):
    with pytest.raises(ValueError, match="'train' or 'test'"):
        data.load_fashion_mnist("validation", path=fake_fashion_mnist)


def test_load_checks_the_sizes(tmp_path):
    folder = tmp_path / "small"
    folder.mkdir()
    for name in FILE_NAMES:
        array = fake_images(100, 0) if "images" in name else fake_labels(100, 0)
        write_idx(folder / name, array)
    with pytest.raises(ValueError, match=r"expected \(10000, 28, 28\)"):
        data.load_fashion_mnist("test", path=folder, download=False)


@pytest.mark.skipif(
    not all((data.DEBIAN_DIR / name).is_file() for name in FILE_NAMES),
    reason="Debian's dataset-fashion-mnist is not installed",
)
def test_load_the_debian_copy():
    x, y = data.load_fashion_mnist("test", path=data.DEBIAN_DIR, download=False)
    assert x.shape == (10_000, 28, 28) and x.dtype == np.uint8
    assert x.min() == 0 and x.max() == 255
    np.testing.assert_array_equal(np.bincount(y, minlength=10), np.full(10, 1000))  # balanced
    # Each image of the real data set has a background of zeros and some bright pixels.
    assert np.median(x.reshape(len(x), -1).max(axis=1)) > 200


def test_lookup_order(tmp_path, monkeypatch):
    env_dir = touch_all(tmp_path / "env")
    cache = touch_all(tmp_path / "keras" / "fashion-mnist")
    debian = touch_all(tmp_path / "debian" / "fashion-mnist")
    explicit = touch_all(tmp_path / "explicit")
    monkeypatch.setattr(data, "KERAS_CACHE", cache)
    monkeypatch.setattr(data, "DEBIAN_DIR", debian)
    monkeypatch.setenv(data.ENV_VAR, str(env_dir))
    assert data.find_fashion_mnist(explicit) == explicit
    assert data.find_fashion_mnist() == env_dir
    monkeypatch.delenv(data.ENV_VAR)
    assert data.find_fashion_mnist() == cache
    (cache / FILE_NAMES[3]).unlink()  # an incomplete folder does not count
    assert data.find_fashion_mnist() == debian
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path / "does-not-exist"))
    assert data.find_fashion_mnist() == debian
    (debian / FILE_NAMES[0]).unlink()
    assert data.find_fashion_mnist() is None
    # An explicit path is the only place looked at, even when it is empty.
    monkeypatch.setenv(data.ENV_VAR, str(env_dir))
    assert data.find_fashion_mnist(tmp_path / "empty") is None


def test_env_var_beats_keras_cache_and_debian_when_loading(fake_fashion_mnist, tmp_path, monkeypatch):
    # The other two places hold a *different* (small, valid-looking) test split.
    other = tmp_path / "other"
    other.mkdir()
    for name in FILE_NAMES:
        array = fake_images(10_000, 100) if "images" in name else fake_labels(10_000, 1)
        write_idx(other / name, array)
    monkeypatch.setattr(data, "KERAS_CACHE", other)
    monkeypatch.setattr(data, "DEBIAN_DIR", other)
    monkeypatch.setenv(data.ENV_VAR, str(fake_fashion_mnist))
    x, _ = data.load_fashion_mnist("test", download=False)
    assert x[0, 0, 0] == 3  # the env folder's content, not the other's (100)
    monkeypatch.delenv(data.ENV_VAR)
    x, _ = data.load_fashion_mnist("test", download=False)
    assert x[0, 0, 0] == 100


def _assert_says_how_to_get_it(message: str) -> None:
    assert "apt-get install dataset-fashion-mnist" in message
    assert "keras.datasets.fashion_mnist.load_data()" in message
    assert data.ENV_VAR in message


def test_no_copy_and_no_download(no_copy_anywhere):
    with pytest.raises(DataNotFoundError) as info:
        data.load_fashion_mnist(download=False)
    message = str(info.value)
    _assert_says_how_to_get_it(message)
    assert str(data.KERAS_CACHE) in message and str(data.DEBIAN_DIR) in message
    assert isinstance(info.value, FileNotFoundError)


def test_no_copy_and_download_fails(no_copy_anywhere, monkeypatch):
    import keras

    def offline():
        raise OSError("URL fetch failure: no network")

    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", offline)
    with pytest.raises(DataNotFoundError) as info:
        data.load_fashion_mnist("test")
    _assert_says_how_to_get_it(str(info.value))
    assert "download failed" in str(info.value) and "no network" in str(info.value)


def test_download_fills_the_keras_cache(no_copy_anywhere, fake_fashion_mnist, monkeypatch):
    import keras

    calls = []

    def fake_download():  # what Keras does: put the four files in its cache
        calls.append(1)
        data.KERAS_CACHE.mkdir(parents=True)
        for name in FILE_NAMES:
            (data.KERAS_CACHE / name).symlink_to(fake_fashion_mnist / name)

    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", fake_download)
    x, _ = data.load_fashion_mnist("test")
    assert calls == [1] and x.shape == (10_000, 28, 28) and x[0, 0, 0] == 3


def test_explicit_path_never_downloads(no_copy_anywhere, monkeypatch):
    import keras

    def must_not_run():
        raise AssertionError("downloaded although an explicit path was given")

    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", must_not_run)
    with pytest.raises(DataNotFoundError, match=str(no_copy_anywhere / "nowhere")):
        data.load_fashion_mnist(path=no_copy_anywhere / "nowhere")


def test_keras_cache_follows_keras_home(tmp_path):
    code = "import genmodels.data as d; print(d.KERAS_CACHE)"
    env = {**os.environ, "KERAS_HOME": str(tmp_path / "kh")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert Path(out.stdout.strip()) == tmp_path / "kh" / "datasets" / "fashion-mnist"


# ---------------------------------------------------------------- scaling and binarisation


def test_to_unit_interval_and_tanh_range():
    images = np.array([[[0, 51], [204, 255]]], dtype=np.uint8)  # shape (1, 2, 2)
    unit = data.to_unit_interval(images)
    assert unit.shape == (1, 2, 2, 1) and unit.dtype == np.float32
    np.testing.assert_allclose(unit[0, :, :, 0], [[0.0, 0.2], [0.8, 1.0]], atol=1e-7)
    tanh = data.to_tanh_range(images)
    assert tanh.shape == (1, 2, 2, 1) and tanh.dtype == np.float32
    np.testing.assert_allclose(tanh[0, :, :, 0], [[-1.0, -0.6], [0.6, 1.0]], atol=1e-6)
    full = np.arange(256, dtype=np.uint8).reshape(1, 16, 16)
    assert data.to_unit_interval(full).min() == 0.0 and data.to_unit_interval(full).max() == 1.0
    assert data.to_tanh_range(full).min() == -1.0 and data.to_tanh_range(full).max() == 1.0


@pytest.mark.parametrize("convert", [data.to_unit_interval, data.to_tanh_range])
def test_scaling_rejects_floats(convert):
    with pytest.raises(TypeError, match="uint8"):
        convert(np.zeros((2, 28, 28), np.float32))


def test_binarize_mean_matches_intensity():
    rng = np.random.default_rng(0)
    p = np.linspace(0.0, 1.0, 11, dtype=np.float32).reshape(1, 11)
    draws = 20_000
    samples = data.binarize(np.repeat(p, draws, axis=0), rng)
    assert samples.shape == (draws, 11) and samples.dtype == np.float32
    assert set(np.unique(samples)) <= {0.0, 1.0}
    mean = samples.mean(axis=0)
    se = np.sqrt(p[0] * (1 - p[0]) / draws)
    assert np.all(np.abs(mean - p[0]) <= 5 * se + 1e-12)
    assert mean[0] == 0.0 and mean[-1] == 1.0  # 0 and 1 are deterministic
    # A fresh call gives a fresh binarisation.
    half = np.full((100,), 0.5)
    assert not np.array_equal(data.binarize(half, rng), data.binarize(half, rng))


@pytest.mark.parametrize("bad", [np.array([0.5, 1.5]), np.array([-0.1, 0.5]), np.array([0, 255], np.uint8)])
def test_binarize_rejects_out_of_range(bad):
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        data.binarize(bad, np.random.default_rng(0))


# ---------------------------------------------------------------- 2-D mixtures


def test_ring_centers_are_eight_distinct_points_on_radius_two():
    centers = data.ring_centers()
    assert centers.shape == (8, 2)
    np.testing.assert_allclose(np.linalg.norm(centers, axis=1), 2.0)
    pairwise = np.linalg.norm(centers[:, None] - centers[None], axis=-1)[~np.eye(8, dtype=bool)]
    # Neighbours on a circle of radius 2 split in 8 equal arcs are 2 * 2 sin(pi/8) apart.
    np.testing.assert_allclose(pairwise.min(), 4 * np.sin(np.pi / 8), rtol=1e-12)
    angles = np.sort(np.mod(np.arctan2(centers[:, 1], centers[:, 0]), 2 * np.pi))
    np.testing.assert_allclose(angles, np.arange(8) * np.pi / 4, atol=1e-12)


def test_grid_centers():
    centers = data.grid_centers()
    assert centers.shape == (25, 2)
    expected = {(-4.0 + 2 * i, -4.0 + 2 * j) for i, j in itertools.product(range(5), range(5))}
    assert {tuple(map(float, c)) for c in centers} == expected


@pytest.mark.parametrize(
    ("sampler", "centers", "std"),
    [(data.ring, data.ring_centers(), 0.02), (data.grid, data.grid_centers(), 0.05)],
)
def test_mixture_samples(sampler, centers, std):
    n = 100_000
    points = sampler(n, np.random.default_rng(0))
    assert points.shape == (n, 2) and points.dtype == np.float32
    nearest = np.linalg.norm(points[:, None, :] - centers[None], axis=-1).argmin(axis=1)
    counts = np.bincount(nearest, minlength=len(centers))
    expected = n / len(centers)  # equal weights: binomial counts, 5 standard errors
    assert np.all(np.abs(counts - expected) < 5 * np.sqrt(expected))
    for k in range(len(centers)):
        mine = points[nearest == k].astype(np.float64)
        np.testing.assert_allclose(mine.mean(axis=0), centers[k], atol=5 * std / np.sqrt(len(mine)))
        np.testing.assert_allclose(mine.std(axis=0), std, rtol=0.05)


def test_sample_mixture_general_and_errors():
    rng = np.random.default_rng(3)
    centers = np.array([[0.0, 0.0, 0.0], [10.0, 0.0, 0.0]])
    points = data.sample_mixture(centers, 1.0, 50_000, rng)
    assert points.shape == (50_000, 3)
    left = points[points[:, 0] < 5]
    assert abs(len(left) / len(points) - 0.5) < 0.01
    np.testing.assert_allclose(left.std(axis=0), 1.0, rtol=0.03)
    with pytest.raises(ValueError, match="std must be positive"):
        data.sample_mixture(centers, 0.0, 10, rng)
    with pytest.raises(ValueError, match="n_modes, dim"):
        data.sample_mixture(np.zeros(3), 1.0, 10, rng)
