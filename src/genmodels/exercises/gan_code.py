"""Checks for the exercises of the chapter "GAN in code"."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from genmodels.exercises.core import CheckResult, check_function, describe_error, not_a_function


def _reference_d_loss(real_logits: np.ndarray, fake_logits: np.ndarray) -> float:
    # -log sigmoid(l) = log(1 + e^-l) = logaddexp(0, -l); -log(1 - sigmoid(l)) = logaddexp(0, l)
    return float(np.mean(np.logaddexp(0, -real_logits)) + np.mean(np.logaddexp(0, fake_logits)))


def check_discriminator_loss(
    function: Callable[[np.ndarray, np.ndarray], Any] | None,
) -> CheckResult:
    """Exercise 1: ``function(real_logits, fake_logits)`` -> the discriminator's loss (scalar)."""
    rng = np.random.default_rng(7)
    cases = [
        ((np.zeros(4), np.zeros(4)), 2 * np.log(2.0)),
        ((rng.normal(size=16), rng.normal(size=16)), None),
        ((np.array([3.0, -1.0]), np.array([-2.0, 0.5, 4.0])), None),
        ((np.array([800.0, -800.0]), np.array([-800.0, 800.0])), None),
    ]
    cases = [(args, _reference_d_loss(*args) if want is None else want) for args, want in cases]
    return check_function(
        "discriminator loss",
        function,
        cases,
        rtol=1e-5,
        hint="-log D(x) = softplus(-l) and -log(1 - D(x)) = softplus(l) with D = sigmoid(l); "
        "np.logaddexp(0, l) is a softplus that never overflows (case 4 has logits of ±800).",
    )


def check_article_generator_fix(builder: Callable[[int], Any] | None) -> CheckResult:
    """Exercise 2: ``builder(z_dim)`` -> a Keras generator whose output the article's
    discriminator (784-vectors in [0, 1]) accepts."""
    name = "fixed article generator"
    if (feedback := not_a_function(name, builder)) is not None:
        return feedback
    try:
        model = builder(100)
        z = np.random.default_rng(0).normal(size=(5, 100)).astype(np.float32)
        out = np.asarray(model(z))
    except NotImplementedError:
        return CheckResult(name, False, "not answered yet: the function still raises NotImplementedError.")
    except Exception as error:
        return CheckResult(name, False, f"building or calling the generator failed: {describe_error(error)}")
    if out.shape != (5, 784):
        return CheckResult(
            name,
            False,
            f"for 5 noise vectors the output has shape {out.shape}, the discriminator needs "
            "(5, 784). Hint: the Reshape((28, 28)) followed by Dense(784) acts on the last "
            "axis only; end with Dense(784) and reshape only when you need images.",
        )
    if out.min() < 0 or out.max() > 1:
        return CheckResult(name, False, "outputs must lie in [0, 1] like the pixels: end with a sigmoid.")
    return CheckResult(name, True, "passed: (N, 100) noise -> (N, 784) pixels in [0, 1].")


def check_covered_modes(
    function: Callable[[np.ndarray, np.ndarray, float], Any] | None,
) -> CheckResult:
    """Exercise 3: ``function(samples, centers, std)`` -> modes covered (published rule)."""
    from genmodels.data import RING_STD, ring_centers, sample_mixture
    from genmodels.metrics import mode_coverage

    rng = np.random.default_rng(3)
    centers = ring_centers()
    cases = []
    for kept in ([0], [0, 1, 2, 3, 4, 5, 6, 7], [1, 5, 6]):
        samples = sample_mixture(centers[kept], RING_STD, 500, rng)
        cases.append(((samples, centers, RING_STD), mode_coverage(samples, centers, RING_STD).modes))
    spread = rng.normal(scale=2.0, size=(2500, 2)).astype(np.float32)
    cases.append(((spread, centers, RING_STD), mode_coverage(spread, centers, RING_STD).modes))
    return check_function(
        "covered modes",
        function,
        cases,
        atol=0.0,
        hint="a sample counts only if it is within 3 std of its nearest centre; a mode is "
        "covered when at least one such sample is nearest to it.",
    )
