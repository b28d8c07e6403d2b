"""Checks for the exercises of the chapter "Generalisation and memorisation" (article §1.6.3)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from genmodels.exercises.core import CheckResult, call_answer, check_function, not_a_function

# ---------------------------------------------------------------- an augmentation, not a shuffle


def _test_images(n: int = 64, seed: int = 0) -> np.ndarray:
    """Real Fashion-MNIST training images in [0, 1], ``(n, 28, 28, 1)`` (garments, not noise)."""
    from genmodels import data

    images, _ = data.load_fashion_mnist("train")
    rows = np.random.default_rng(seed).choice(len(images), n, replace=False)
    return data.to_unit_interval(images[rows])


def _flip_shift_distance(first: np.ndarray, second: np.ndarray, max_shift: int = 2) -> np.ndarray:
    """Distance from each ``first[i]`` to the nearest flip/shift (up to ``max_shift``) of ``second[i]``."""
    best = np.full(len(first), np.inf)
    for candidate in (second, second[:, :, ::-1]):
        padded = np.pad(candidate, ((0, 0), (max_shift, max_shift), (max_shift, max_shift), (0, 0)))
        for dy in range(2 * max_shift + 1):
            for dx in range(2 * max_shift + 1):
                moved = padded[:, dy : dy + first.shape[1], dx : dx + first.shape[2]]
                best = np.minimum(best, np.linalg.norm((first - moved).reshape(len(first), -1), axis=1))
    return best


def check_augmentation(function: Callable[..., Any] | None) -> CheckResult:
    """Exercise: ``function(images, rng)`` -> new images a garment could look like, not a reordering.

    Passes when the output has the input's shape and range, differs from the input, is not
    a permutation of the input images, changes with the random generator, and keeps every
    image recognisably itself: nearer (up to a flip and a 2-pixel shift) to its own input
    than to any other input image.
    """
    name = "augmentation"
    if (feedback := not_a_function(name, function)) is not None:
        return feedback
    images = _test_images()
    outputs = []
    for case, seed in enumerate((1, 2), start=1):
        answer, feedback = call_answer(name, function, (images.copy(), np.random.default_rng(seed)), case)
        if feedback is not None:
            return feedback
        answer = np.asarray(answer, dtype=np.float64)
        if answer.shape != images.shape:
            return CheckResult(
                name, False, f"expected shape {images.shape} (the input's), got {answer.shape}."
            )
        if not np.all(np.isfinite(answer)) or answer.min() < 0 or answer.max() > 1:
            return CheckResult(name, False, "the images must stay intensities in [0, 1].")
        outputs.append(answer)
    first, second = outputs
    flat_in, flat_out = images.reshape(len(images), -1), first.reshape(len(first), -1)
    if np.array_equal(first, images):
        return CheckResult(name, False, "the images come back unchanged: nothing new to learn from.")
    each_found = all(any(np.array_equal(row, other) for other in flat_in) for row in flat_out)
    if each_found:
        return CheckResult(
            name,
            False,
            "every output is one of the input images, only in another place: that is shuffling, "
            "which changes the order of the examples, not the examples. Make new images.",
        )
    if np.array_equal(first, second):
        return CheckResult(name, False, "two different random generators gave the same output: use `rng`.")
    own = _flip_shift_distance(first, images)
    others = np.array(
        [_flip_shift_distance(first, np.roll(images, shift, axis=0)).min() for shift in (1, 7, 23)]
    )
    if np.any(own >= others.min()):
        return CheckResult(
            name,
            False,
            "some outputs no longer look like their own input (nearer to another garment than to "
            "themselves): an augmentation must keep what the image shows. Hint: mirror it or move "
            "it by a pixel or two.",
        )
    return CheckResult(name, True, "passed: new images, each still recognisably its own garment.")


# ---------------------------------------------------------------- a copier that moved one pixel


def _reference_shift_tolerant(samples: np.ndarray, train: np.ndarray) -> np.ndarray:
    from genmodels.neighbours import nearest_neighbours

    padded = np.pad(samples, ((0, 0), (1, 1), (1, 1), (0, 0)))
    best = np.full(len(samples), np.inf)
    for dy in range(3):
        for dx in range(3):
            moved = padded[:, dy : dy + samples.shape[1], dx : dx + samples.shape[2]]
            best = np.minimum(best, nearest_neighbours(moved, train)[0][:, 0])
    return best


def check_shift_tolerant_distance(function: Callable[..., Any] | None) -> CheckResult:
    """Exercise: ``function(samples, train)`` -> ``(S,)``: the distance from each sample to its nearest
    training image when the sample may first be moved by up to one pixel in each direction
    (black fill), i.e. the minimum over the 9 shifts of the nearest-neighbour distance."""
    name = "shift-tolerant nearest distance"
    rng = np.random.default_rng(4)
    train = rng.random((40, 10, 10, 1)).astype(np.float32)
    train[:, [0, -1]] = 0.0
    train[:, :, [0, -1]] = 0.0  # black borders, so a one-pixel shift loses nothing
    shifted_copies = np.roll(train[:6], shift=1, axis=2)
    fresh = rng.random((5, 10, 10, 1)).astype(np.float32)
    cases = [
        ((shifted_copies, train), _reference_shift_tolerant(shifted_copies, train)),
        ((fresh, train), _reference_shift_tolerant(fresh, train)),
        ((train[:3], train), np.zeros(3)),
    ]
    result = check_function(
        name,
        function,
        cases,
        rtol=1e-4,
        atol=1e-4,
        hint="move each sample by dy, dx in {-1, 0, 1} (pad with zeros and crop), take the nearest "
        "training image for each of the 9 versions, keep the smallest distance.",
    )
    if result:
        return CheckResult(name, True, "passed: a copy moved by one pixel has distance 0 again.")
    return result


# ---------------------------------------------------------------- train with the augmentation


def check_augmented_vae(
    model: Any, baseline: dict[str, float], min_narrowing: float = 3.0, max_loss: float = 1.0
) -> CheckResult:
    """Exercise: a VAE trained on the chapter's first 1,000 training images with an augmentation,
    for the same number of steps as the run without it.

    ``baseline`` is that run's measurements (:func:`genmodels.generalisation.measure`). Passes
    when the gap of the ELBO is narrower by at least ``min_narrowing`` nats and the test
    ``-L_100`` is at most ``max_loss`` nats worse.
    """
    from genmodels import generalisation, vae

    name = "VAE trained with augmentation"
    if model is None or model is Ellipsis:
        return CheckResult(name, False, "not answered yet: assign your trained VAE.")
    if not isinstance(model, vae.VAE):
        return CheckResult(name, False, f"expected a genmodels.vae.VAE, got {type(model).__name__}.")
    steps = int(model.optimizer.iterations.numpy()) if model.optimizer is not None else 0
    budget = generalisation.EPOCHS * generalisation.STEPS_PER_EPOCH
    if steps != budget:
        return CheckResult(
            name, False, f"the model took {steps} steps; compare at the baseline's budget of {budget}."
        )
    images = generalisation.Data.load()
    gap = generalisation.gap_of_the_elbo(
        model, images.train_eval(1000, generalisation.N_GAP), images.test_gap()
    )["gap"]
    test_nll = float(generalisation.negative_bounds(model, images.test_eval, seed=2)["nll"].mean())
    report = (
        f"gap {gap:.1f} nats (without augmentation {baseline['gap']:.1f}), test -L_100 {test_nll:.1f} "
        f"(without {baseline['test_nll']:.1f})"
    )
    if gap > baseline["gap"] - min_narrowing:
        return CheckResult(
            name,
            False,
            f"{report}: the gap should narrow by at least {min_narrowing:g} nats. Did the augmentation "
            "reach the training stream (the `augment` argument), and does it make new images?",
        )
    if test_nll > baseline["test_nll"] + max_loss:
        return CheckResult(
            name, False, f"{report}: the test bound got worse; the augmentation changes the images too much."
        )
    return CheckResult(name, True, f"passed: {report}.")
