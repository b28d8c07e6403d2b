"""Checks for the exercises of the chapter "Mode collapse".

Every check returns a :class:`~genmodels.exercises.core.CheckResult` and never raises on a
wrong answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from genmodels.exercises.core import CheckResult, call_answer, check_function, describe_error, not_a_function


def _reference_reverse_kl(counts: np.ndarray) -> float:
    q = np.asarray(counts, float) / np.sum(counts)
    nonzero = q > 0
    return float(np.sum(q[nonzero] * np.log(q[nonzero] * len(q))))


def check_reverse_kl(function: Callable[[np.ndarray], Any] | None) -> CheckResult:
    """Exercise 1: ``function(counts)`` -> ``KL(q || uniform)`` in nats, ``q = counts / sum(counts)``."""
    cases_in = [
        np.full(8, 100),  # uniform: 0
        np.array([2500, 0, 0, 0, 0, 0, 0, 0]),  # one mode: log 8
        np.array([300, 300, 300, 300, 0, 0, 0, 0]),  # half the modes: log 2
        np.array([5, 1, 0, 3, 9, 0, 2, 7, 1, 1, 0, 4]),
        np.arange(1, 26),
    ]
    cases = [((counts,), _reference_reverse_kl(counts)) for counts in cases_in]
    return check_function(
        "reverse KL of a mode histogram",
        function,
        cases,
        rtol=1e-6,
        atol=1e-9,
        hint="normalise the counts to q, compare with the uniform u = 1/M over all M modes (empty "
        "ones included) and sum q log(q / u) over the modes with q > 0 only (0 log 0 = 0).",
    )


def _reference_minibatch_std(features: np.ndarray) -> np.ndarray:
    features = np.asarray(features, float)
    spread = np.sqrt(features.var(axis=0) + 1e-8).mean()
    return np.concatenate([features, np.full((len(features), 1), spread)], axis=1)


def check_minibatch_std(function: Callable[[np.ndarray], Any] | None) -> CheckResult:
    """Exercise 2: ``function(features)`` -> features ``(N, f)`` with the minibatch-std column appended."""
    rng = np.random.default_rng(11)
    cases_in = [
        rng.normal(size=(16, 3)),
        np.ones((8, 4)),  # a collapsed batch: sqrt(1e-8) = 1e-4
        rng.normal(scale=[0.1, 5.0], size=(64, 2)),
        rng.uniform(size=(5, 1)),
    ]
    cases = [((x,), _reference_minibatch_std(x)) for x in cases_in]
    return check_function(
        "minibatch standard deviation",
        function,
        cases,
        rtol=1e-5,
        atol=1e-8,
        hint="take the standard deviation of each feature across the batch (axis 0, divide by N, "
        "add 1e-8 to the variance before the square root), average those f numbers into one, and "
        "append it as a new last column, the same value in every row: (N, f) -> (N, f + 1).",
    )


def check_packing(
    function: Callable[[Any, int], Any] | None, steps: int = 2000, min_modes: int = 8
) -> CheckResult:
    """Exercise 3: ``function(points, m)`` packs ``(N, d)`` into ``(N / m, m d)``; then it trains.

    After the value checks, a PacGAN2 is trained on the ring with the reader's packing
    (``steps`` steps, seed 0) and must cover ``min_modes`` modes under the strict count.
    """
    name = "packing"
    if (feedback := not_a_function(name, function)) is not None:
        return feedback
    import tensorflow as tf

    from genmodels import experiments

    points = np.arange(24, dtype=np.float32).reshape(12, 2)
    hint = (
        "consecutive points go side by side: rows 0..m-1 of the batch become the first pack, "
        "so a (12, 2) batch with m = 3 becomes (4, 6) and its first row is x0, y0, x1, y1, x2, y2."
    )
    for case, m in enumerate((1, 2, 3, 4), start=1):
        answer, feedback = call_answer(name, function, (tf.constant(points), m), case, hint)
        if feedback is not None:
            return feedback
        try:
            got = np.asarray(answer)
        except Exception as error:
            return CheckResult(
                name, False, f"case {case}: the result is not an array ({describe_error(error)})."
            )
        want = points.reshape(-1, 2 * m)
        if got.shape != want.shape:
            return CheckResult(
                name, False, f"case {case}: m = {m} should give shape {want.shape}, got {got.shape}."
            )
        if not np.array_equal(got, want):
            return CheckResult(
                name,
                False,
                f"case {case}: the shape is right but the points are in the wrong places. Hint: {hint}",
            )
    try:
        result = experiments.train_run("pacgan2", "ring", 0, steps, 512, pack_function=function)
    except Exception as error:
        return CheckResult(
            name,
            False,
            f"training with your packing failed: {describe_error(error)}. "
            "It must work on tf tensors inside a tf.function (use tf.reshape).",
        )
    if result.diverged:
        return CheckResult(name, False, "training with your packing diverged (NaN).")
    report = result.report
    if report.modes_strict < min_modes:
        return CheckResult(name, False, f"your PacGAN2 covered only {report.modes_strict} modes: {report}.")
    return CheckResult(name, True, f"passed; PacGAN2 with your packing after {steps} steps: {report}.")
