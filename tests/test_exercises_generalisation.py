"""genmodels.exercises.generalisation: right answers pass, wrong ones fail with a hint, nothing raises."""

from __future__ import annotations

import numpy as np
import pytest

from genmodels import augmentation, generalisation, neighbours
from genmodels.exercises import generalisation as checks


def not_done(*args):
    raise NotImplementedError


def crashes(*args):
    return 1 / 0


# ---------------------------------------------------------------- augmentation


def flip(images, rng):
    coins = rng.random(len(images)) < 0.5
    return np.where(coins[:, None, None, None], images[:, :, ::-1, :], images)


@pytest.mark.parametrize(
    "answer",
    [flip, augmentation.random_flip, augmentation.flip_and_shift, augmentation.AUGMENTATIONS["shift"]],
)
def test_augmentations_pass(answer):
    result = checks.check_augmentation(answer)
    assert result, result.message


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (lambda images, rng: images[rng.permutation(len(images))], "shuffling"),
        (lambda images, rng: images, "unchanged"),
        (lambda images, rng: images[:, :, ::-1], "rng"),
        (lambda images, rng: rng.random(images.shape), "look like"),
        (
            lambda images, rng: np.broadcast_to(images.mean(axis=0), images.shape) * rng.uniform(0.5, 1),
            "look like",
        ),
        (lambda images, rng: images[:, :20], "shape"),
        (lambda images, rng: images * 255, "[0, 1]"),
        (not_done, "not answered"),
        (crashes, "ZeroDivisionError"),
        (None, "not answered"),
    ],
)
def test_wrong_augmentations_fail_with_feedback(answer, words):
    result = checks.check_augmentation(answer)
    assert not result
    assert words in result.message


# ---------------------------------------------------------------- shift-tolerant distance


def tolerant(samples, train):
    height, width = samples.shape[1:3]
    padded = np.pad(samples, ((0, 0), (1, 1), (1, 1), (0, 0)))
    best = np.full(len(samples), np.inf)
    for dy in range(3):
        for dx in range(3):
            moved = padded[:, dy : dy + height, dx : dx + width]
            best = np.minimum(best, neighbours.nearest_neighbours(moved, train)[0][:, 0])
    return best


def test_shift_tolerant_distance_passes():
    result = checks.check_shift_tolerant_distance(tolerant)
    assert result, result.message


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (lambda samples, train: neighbours.nearest_neighbours(samples, train)[0][:, 0], "Hint"),
        (lambda samples, train: tolerant(samples, train) ** 2, "Hint"),
        (not_done, "not answered"),
        (crashes, "ZeroDivisionError"),
    ],
)
def test_wrong_shift_tolerant_distances_fail(answer, words):
    result = checks.check_shift_tolerant_distance(answer)
    assert not result
    assert words in result.message


# ---------------------------------------------------------------- the trained VAE

BASELINE = {"gap": 20.0, "test_nll": 240.0}


@pytest.mark.parametrize(("answer", "words"), [(None, "not answered"), (..., "not answered"), (3, "VAE")])
def test_augmented_vae_not_answered_or_wrong_type(answer, words):
    result = checks.check_augmented_vae(answer, BASELINE)
    assert not result and words in result.message


def test_augmented_vae_must_have_the_baselines_budget():
    untrained = generalisation.Run(1000).recipe().build(60_000)
    result = checks.check_augmented_vae(untrained, BASELINE)
    assert not result and "budget" in result.message


def test_augmented_vae_is_compared_with_the_baseline(monkeypatch, tmp_path):
    monkeypatch.setattr(generalisation, "EPOCHS", 1)
    monkeypatch.setattr(generalisation, "STEPS_PER_EPOCH", 5)
    monkeypatch.setattr(generalisation, "WARM_UP_EPOCHS", 0.5)
    monkeypatch.setattr(generalisation, "N_EVAL", 100)
    monkeypatch.setattr(generalisation, "N_GAP", 300)
    monkeypatch.setattr(generalisation, "IW_SAMPLES", 2)
    images, _ = generalisation.data.load_fashion_mnist("train")
    model = generalisation.train_variant(
        generalisation.Run(200),
        generalisation.data.to_unit_interval(images[:200]),
        directory=tmp_path,
        augment=flip,
    )
    assert checks.check_augmented_vae(model, {"gap": 1e6, "test_nll": 1e6})  # any model beats this
    wider = checks.check_augmented_vae(model, {"gap": -1e6, "test_nll": 1e6})  # no gap is this narrow
    assert not wider and "narrow" in wider.message
    worse = checks.check_augmented_vae(model, {"gap": 1e6, "test_nll": 1.0})  # no model is this good
    assert not worse and "worse" in worse.message
