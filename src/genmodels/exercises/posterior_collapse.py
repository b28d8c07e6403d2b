"""Checks for the exercises of the chapter "Posterior collapse and KL balancing"."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from genmodels.exercises.core import CheckResult, _as_array, call_answer, check_function, not_a_function

# ---------------------------------------------------------------- active units


def _active_cases() -> list[tuple[tuple[Any, ...], int]]:
    rng = np.random.default_rng(3)
    cases = []
    for n, scales in (
        (500, (1.0, 0.3, 0.05, 0.0)),
        (300, (0.12, 0.08, 2.0, 0.2, 0.01, 0.5)),
        (50, (0.0, 0.0)),
    ):
        mean = rng.normal(size=(n, len(scales))) * np.array(scales) + rng.normal(size=len(scales))
        expected = int(np.sum(mean.var(axis=0) > 0.01))
        cases.append(((mean.astype(np.float32),), expected))
    return cases


def check_active_units(function: Callable[..., Any] | None) -> CheckResult:
    """Exercise: ``function(mean)`` -> the number of active units of Burda et al. (2016).

    ``mean`` are the posterior means ``E_q[z|x]`` of N images, ``(N, latent_dim)``.
    """
    name = "active units"
    hint = (
        "a unit is a latent dimension (a column of mean); it is active when the variance of its "
        "posterior mean over the images exceeds 0.01."
    )
    if (feedback := not_a_function(name, function)) is not None:
        return feedback
    for number, ((mean,), expected) in enumerate(_active_cases(), start=1):
        answer, feedback = call_answer(name, function, (mean.copy(),), number, hint)
        if feedback is not None:
            return feedback
        value = _as_array(answer)
        if value is None or value.shape != ():
            return CheckResult(
                name, False, f"case {number}: return one number (a count), got {answer!r:.60}."
            )
        if value != expected:
            return CheckResult(name, False, f"case {number}: your count is not right. Hint: {hint}")
    return CheckResult(name, True, "passed all 3 cases.")


# ---------------------------------------------------------------- free bits


def _reference_free_bits(kl_per_dim: np.ndarray, free_bits: float) -> float:
    return float(np.sum(np.maximum(free_bits, kl_per_dim.mean(axis=0))))


def check_free_bits(function: Callable[..., Any] | None) -> CheckResult:
    """Exercise: ``function(kl_per_dim, free_bits)`` -> the free-bits KL term (a scalar tensor).

    ``kl_per_dim`` is a TensorFlow tensor ``(N, latent_dim)``; the answer must be
    ``sum_j max(free_bits, mean_n kl_per_dim[n, j])`` and let gradients through.
    """
    import tensorflow as tf

    name = "free bits"
    hint = (
        "first average each dimension's KL over the batch, then floor each average at free_bits, "
        "then sum over dimensions (Kingma et al. 2016 floor the batch average, not each example)."
    )
    rng = np.random.default_rng(8)
    cases = []
    for n, d, lam in ((4, 3, 0.5), (6, 5, 0.2), (3, 4, 0.0)):
        kl = (rng.exponential(0.4, size=(n, d)) * (rng.random(d) < 0.6)).astype(np.float32)
        cases.append(((tf.constant(kl), lam), _reference_free_bits(kl, lam)))
    result = check_function(name, function, cases, rtol=1e-4, atol=1e-5, hint=hint)
    if not result:
        return result
    kl = tf.Variable([[0.0, 2.0], [0.2, 1.0]])
    with tf.GradientTape() as tape:
        value = function(kl, 0.5)
    gradient = tape.gradient(value, kl) if tf.is_tensor(value) else None
    if gradient is None:
        return CheckResult(
            name,
            False,
            "no gradient reaches kl_per_dim: use TensorFlow operations (tf.maximum, tf.reduce_mean).",
        )
    if not np.allclose(gradient.numpy(), [[0.0, 0.5], [0.0, 0.5]], atol=1e-5):
        return CheckResult(name, False, f"the values are right but the gradient is not. Hint: {hint}")
    return CheckResult(
        name, True, "passed: right values, and no gradient pushes a dimension below its free bits."
    )


# ---------------------------------------------------------------- a schedule that cures collapse


def check_schedule(function: Callable[..., Any] | None, train: bool = True) -> CheckResult:
    """Exercise: ``function(total_steps)`` -> KL weights ``(total_steps,)`` that cure the collapse.

    The weights must lie in [0, 1] and end at 1 (the last step trains the ELBO). With ``train``,
    the chapter's collapsing VAE is trained with them (:func:`genmodels.posterior_collapse.
    schedule_run`) and passes when its KL is at least 1.5 times the plain ELBO's, it has more
    active units, and its ELBO is at most 2 nats worse.
    """
    name = "KL schedule"
    if (feedback := not_a_function(name, function)) is not None:
        return feedback
    for total in (7, 400):
        answer, feedback = call_answer(name, function, (total,), 1)
        if feedback is not None:
            return feedback
        weights = _as_array(answer)
        if weights is None or weights.shape != (total,):
            shape = None if weights is None else weights.shape
            return CheckResult(
                name, False, f"for total_steps={total} return {total} weights, got shape {shape}."
            )
        if not np.all(np.isfinite(weights)) or weights.min() < 0 or weights.max() > 1:
            return CheckResult(name, False, "every weight must be a number in [0, 1].")
        if not np.isclose(weights[-1], 1.0):
            return CheckResult(
                name, False, "the last weight must be 1, so that training ends on the ELBO itself."
            )
    if np.all(np.isclose(weights, 1.0)):
        return CheckResult(name, False, "a constant weight of 1 is the plain ELBO, which collapses.")
    if not train:
        return CheckResult(name, True, "passed: a valid schedule (not trained).")
    from genmodels import posterior_collapse

    plain = posterior_collapse.collapse_run("plain", posterior_collapse.EXERCISE_BUDGET)
    yours = posterior_collapse.schedule_run(function, posterior_collapse.EXERCISE_BUDGET)
    report = (
        f"yours: KL {yours['rate']:.2f} nats, {yours['active_units']} active units, "
        f"ELBO {yours['elbo']:.1f}; "
        f"plain ELBO: KL {plain['rate']:.2f}, {plain['active_units']} active units, ELBO {plain['elbo']:.1f}"
    )
    if yours["rate"] < 1.5 * plain["rate"] or yours["active_units"] <= plain["active_units"]:
        return CheckResult(
            name, False, f"{report}. The code is still (nearly) collapsed: keep beta small for longer."
        )
    if yours["elbo"] < plain["elbo"] - 2.0:
        return CheckResult(name, False, f"{report}. The code is used, but the ELBO is much worse.")
    return CheckResult(name, True, f"passed: {report}.")
