"""Checks for the exercises of the chapter "Where the field went"."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from genmodels.exercises.core import CheckResult, call_answer, check_function, not_a_function


def _reference_forward_marginal(
    x0: np.ndarray, t: np.ndarray, noise: np.ndarray, betas: np.ndarray
) -> np.ndarray:
    alpha_bar = np.cumprod(1.0 - betas)[t][:, None]
    return np.sqrt(alpha_bar) * x0 + np.sqrt(1.0 - alpha_bar) * noise


def check_forward_marginal(function: Callable[..., Any] | None) -> CheckResult:
    """Exercise 1: ``function(x0, t, noise, betas)`` -> ``x_t`` drawn from ``q(x_t | x_0)`` in one step.

    ``betas`` has shape ``(T + 1,)`` with ``betas[0] = 0``; ``t`` holds integer steps, ``(N,)``.
    """
    from genmodels.diffusion import linear_schedule

    rng = np.random.default_rng(11)
    cases = []
    for steps, t in (
        (10, np.array([1, 1, 1])),
        (100, np.array([0, 3, 50, 100])),
        (50, rng.integers(0, 51, 64)),
    ):
        betas = linear_schedule(steps).betas
        x0 = rng.normal(size=(len(t), 2))
        noise = rng.normal(size=(len(t), 2))
        cases.append(((x0, t, noise, betas), _reference_forward_marginal(x0, t, noise, betas)))
    return check_function(
        "forward marginal q(x_t | x_0)",
        function,
        cases,
        rtol=1e-5,
        atol=1e-6,
        hint="abar_t is the product of alpha_s = 1 - beta_s for s = 1 .. t (np.cumprod); x_t mixes x0 "
        "and noise with weights whose squares add up to 1.",
    )


def check_guided_noise(
    function: Callable[..., Any] | None, model: Any = None, label: int = 0, w: float = 2.0
) -> CheckResult:
    """Exercise 2: ``function(eps_conditional, eps_unconditional, w)`` -> the guided prediction.

    With a conditional :class:`genmodels.diffusion.Diffusion` as ``model``, the check also samples
    with the reader's function plugged into the sampler and compares with the library's.
    """
    name = "classifier-free guidance"
    rng = np.random.default_rng(5)
    cases = []
    for weight in (0.0, 1.0, 3.0, -1.0, 0.25):
        conditional, unconditional = rng.normal(size=(6, 2)), rng.normal(size=(6, 2))
        cases.append(
            ((conditional, unconditional, weight), (1 + weight) * conditional - weight * unconditional)
        )
    numbers = check_function(
        name,
        function,
        cases,
        hint="w = 0 must give the conditional prediction, w = -1 the unconditional one, and the "
        "result moves *away* from the unconditional prediction as w grows.",
    )
    if not numbers or model is None:
        return numbers
    from genmodels.diffusion import guided_noise

    samples, feedback = call_answer(
        name, lambda: model.sample(256, labels=label, w=w, seed=0, combine=function), (), 1
    )
    if feedback is not None:
        return feedback
    reference = model.sample(256, labels=label, w=w, seed=0, combine=guided_noise)
    if not np.allclose(samples, reference, rtol=1e-4, atol=1e-4):
        return CheckResult(
            name, False, "the numbers are right but the sampler's result differs: return an array."
        )
    return CheckResult(
        name, True, f"passed all {len(cases)} cases, and the sampler guided by it gives the same samples."
    )


def _reference_copy_fraction(samples: np.ndarray, train: np.ndarray, radius: float) -> float:
    distances = np.linalg.norm(samples[:, None, :] - train[None, :, :], axis=-1)
    return float(np.mean(distances.min(axis=1) <= radius))


def check_copy_fraction(function: Callable[..., Any] | None) -> CheckResult:
    """Exercise 3: ``function(samples, train, radius)`` -> share of samples near a training point."""
    if (feedback := not_a_function("near-copy fraction", function)) is not None:
        return feedback
    rng = np.random.default_rng(2)
    train = rng.normal(size=(40, 2))
    copies = train[:10] + 1e-4 * rng.normal(size=(10, 2))
    fresh = rng.normal(size=(30, 2)) + 6.0  # far from every training point
    cases = [
        ((np.concatenate([copies, fresh]), train, 0.01), None),
        ((copies[:3], train, 0.01), None),
        ((train[:1] + np.array([[0.3, 0.0]]), train[:1], 0.5), None),
        ((np.concatenate([fresh, train[:5]]), np.concatenate([train, fresh[:1]]), 1e-6), None),
    ]
    cases = [(args, _reference_copy_fraction(*args)) for args, _ in cases]
    return check_function(
        "near-copy fraction",
        function,
        cases,
        rtol=1e-6,
        hint="for every *generated* sample find its nearest training point; a sample counts as a copy "
        "when that distance is at most the radius; return the share of samples (a number in [0, 1]).",
    )
