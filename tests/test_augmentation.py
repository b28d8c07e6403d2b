"""genmodels.augmentation: flips and shifts do what they say; the stream takes a fixed number of steps."""

from __future__ import annotations

import numpy as np
import pytest

from genmodels import augmentation


def images(n=64, seed=0):
    return np.random.default_rng(seed).random((n, 28, 28, 1)).astype(np.float32)


def test_flip_mirrors_about_half_of_the_images():
    x = images(400)
    flipped = augmentation.random_flip(x, np.random.default_rng(1))
    mirrored = np.array([np.array_equal(f, o[:, ::-1]) for f, o in zip(flipped, x, strict=True)])
    same = np.array([np.array_equal(f, o) for f, o in zip(flipped, x, strict=True)])
    assert np.all(mirrored | same) and 0.4 < mirrored.mean() < 0.6


def test_shift_moves_by_whole_pixels_within_the_limit():
    x = np.zeros((50, 28, 28, 1), np.float32)
    x[:, 10, 12, 0] = 1.0  # one bright pixel
    shifted = augmentation.random_shift(x, np.random.default_rng(2), max_shift=2)
    positions = np.argwhere(shifted[..., 0] == 1.0)
    assert len(positions) == 50  # every image keeps its pixel
    assert np.all(np.abs(positions[:, 1] - 10) <= 2) and np.all(np.abs(positions[:, 2] - 12) <= 2)
    assert len({tuple(p[1:]) for p in positions}) > 10  # many offsets drawn
    assert shifted.sum() == 50


def test_augmentation_keeps_values_and_shapes():
    x = images()
    for name, function in augmentation.AUGMENTATIONS.items():
        if function is None:
            continue
        out = function(x, np.random.default_rng(3))
        assert out.shape == x.shape and out.min() >= 0 and out.max() <= 1, name


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        (np.zeros((4, 28, 28)), "channels"),
        (np.zeros((0, 28, 28, 1)), "empty"),
        (np.full((4, 28, 28, 1), 255.0), r"\[0, 1\]"),
    ],
)
def test_bad_images_get_a_clear_error(bad, match):
    with pytest.raises(ValueError, match=match):
        augmentation.random_flip(bad, np.random.default_rng(0))


def test_shift_refuses_a_shift_as_large_as_the_image():
    with pytest.raises(ValueError, match="too large"):
        augmentation.random_shift(images(2), np.random.default_rng(0), max_shift=14)


def test_stream_takes_the_same_steps_whatever_the_data_size():
    for n in (200, 5000):
        stream = augmentation.TrainingStream(images(n), batch_size=100, steps_per_epoch=30)
        assert len(stream) == 30
        assert stream[29].shape == (100, 28, 28, 1)
        assert set(np.unique(stream[0])) <= {0.0, 1.0}


def test_stream_visits_every_image_equally_often():
    stream = augmentation.TrainingStream(images(50), batch_size=10, steps_per_epoch=7)
    visits = []
    for _ in range(5):  # 5 epochs of 70 rows = 350 = 7 whole passes over the 50 images
        stream.on_epoch_begin()
        visits.append(stream.rows)
    counts = np.bincount(np.concatenate(visits), minlength=50)
    assert np.all(counts == 7)


def test_fixed_order_repeats_and_shuffled_order_does_not():
    fixed = augmentation.TrainingStream(images(40), 10, 4, order="fixed")
    shuffled = augmentation.TrainingStream(images(40), 10, 4, order="shuffled")
    np.testing.assert_array_equal(fixed.rows, np.arange(40))
    first = shuffled.rows.copy()
    shuffled.on_epoch_begin()
    shuffled.on_epoch_begin()
    assert sorted(first) == list(range(40)) and not np.array_equal(first, shuffled.rows)


def test_a_resumed_stream_continues_where_the_run_stopped():
    x = images(30)
    whole = augmentation.TrainingStream(x, 10, 4, seed=2, augmentation=augmentation.random_flip)
    for _ in range(3):  # epochs 0, 1, 2
        whole.on_epoch_begin()
    resumed = augmentation.TrainingStream(
        x, 10, 4, seed=2, augmentation=augmentation.random_flip, first_epoch=2
    )
    resumed.on_epoch_begin()
    np.testing.assert_array_equal(whole.rows, resumed.rows)
    np.testing.assert_array_equal(whole[3], resumed[3])


def test_stream_is_repeatable_and_augments():
    x = images(100)
    one = augmentation.TrainingStream(x, 20, 3, seed=4, augmentation=augmentation.random_flip)
    two = augmentation.TrainingStream(x, 20, 3, seed=4, augmentation=augmentation.random_flip)
    np.testing.assert_array_equal(one[1], two[1])


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"batch_size": 500}, ValueError, "exceeds"),
        ({"steps_per_epoch": 0}, ValueError, "positive"),
        ({"order": "random"}, ValueError, "order"),
        ({"augmentation": "flip"}, TypeError, "function"),
        ({"first_epoch": -1}, ValueError, "first_epoch"),
    ],
)
def test_stream_refuses_bad_settings(kwargs, error, match):
    settings = {"batch_size": 10, "steps_per_epoch": 2, **kwargs}
    with pytest.raises(error, match=match):
        augmentation.TrainingStream(images(100), **settings)
