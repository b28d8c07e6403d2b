"""Checks for the exercises of the chapter "Background and history".

Every check returns a :class:`~genmodels.exercises.core.CheckResult`; none raises on a wrong
answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from genmodels.exercises.core import CheckResult, check_function, describe_error, not_a_function

# Markov (1913): 20,000 letters of Eugene Onegin; 8,638 vowels, of which 1,104 are followed
# by a vowel; 11,362 consonants, of which 3,827 are followed by a consonant.
ONEGIN_TRANSITIONS = np.array(
    [[1104 / 8638, 7534 / 8638], [(11362 - 3827) / 11362, 3827 / 11362]]
)  # rows: from (vowel, consonant); columns: to (vowel, consonant)


def _reference_stationary(P: np.ndarray) -> np.ndarray:
    """Solve pi P = pi, sum(pi) = 1 as a least-squares system (unique for an ergodic chain)."""
    k = P.shape[0]
    A = np.vstack([P.T - np.eye(k), np.ones((1, k))])
    b = np.concatenate([np.zeros(k), [1.0]])
    return np.linalg.lstsq(A, b, rcond=None)[0]


def check_stationary_distribution(function: Callable[[np.ndarray], Any] | None) -> CheckResult:
    """Exercise 1: ``function(P)`` -> the stationary distribution ``pi`` (``pi P = pi``, sums to 1)
    of a row-stochastic transition matrix ``P``."""
    rng = np.random.default_rng(11)
    matrices = [ONEGIN_TRANSITIONS, np.array([[0.5, 0.5, 0.0], [0.25, 0.5, 0.25], [0.0, 0.5, 0.5]])]
    random = rng.random((5, 5)) + 0.05
    matrices.append(random / random.sum(axis=1, keepdims=True))
    cases = [((P.copy(),), _reference_stationary(P)) for P in matrices]
    return check_function(
        "stationary distribution",
        function,
        cases,
        rtol=1e-6,
        atol=1e-8,
        hint="pi is a left eigenvector of P with eigenvalue 1: take the eigenvector of P.T whose "
        "eigenvalue is closest to 1 and divide it by its sum (it may come out negative or "
        "complex; take the real part). Or solve (P.T - I) pi = 0 together with sum(pi) = 1.",
    )


def _bimodal_log_density(x: float) -> float:
    # 0.5 N(-1.5, 0.7^2) + 0.5 N(1.5, 0.7^2), unnormalised, shifted by +1000 on purpose
    return float(np.logaddexp(-0.5 * ((x + 1.5) / 0.7) ** 2, -0.5 * ((x - 1.5) / 0.7) ** 2)) + 1000.0


def _narrow_log_density(x: float) -> float:
    # N(3, 0.5^2), unnormalised, shifted by -1000 on purpose
    return -0.5 * ((x - 3.0) / 0.5) ** 2 - 1000.0


_METROPOLIS_HINT = (
    "propose y = x + step_size * rng.standard_normal(); accept with probability "
    "min(1, p(y) / p(x)), i.e. when log(rng.random()) < log_density(y) - log_density(x); on a "
    "rejection the chain stays at x and x is recorded again. Work with log-densities: the "
    "targets here are unnormalised and exp(log_density) overflows or underflows."
)


def check_metropolis(function: Callable[..., Any] | None) -> CheckResult:
    """Exercise 2: ``function(log_density, x0, n_steps, step_size, rng)`` -> ``n_steps`` samples of
    a random-walk Metropolis chain targeting the (unnormalised) ``exp(log_density)``."""
    name = "Metropolis sampler"
    if (feedback := not_a_function(name, function)) is not None:
        return feedback
    n_steps, burn_in = 20_000, 1_000
    cases = [
        # target, x0, step, true mean, true std, description
        (_bimodal_log_density, 0.0, 1.0, 0.0, float(np.sqrt(0.7**2 + 1.5**2)), "two modes at ±1.5"),
        (_narrow_log_density, 0.0, 0.5, 3.0, 0.5, "N(3, 0.5²) started at 0"),
    ]
    for number, (log_density, x0, step, mean, std, what) in enumerate(cases, start=1):
        try:
            with np.errstate(all="ignore"):
                samples = function(log_density, x0, n_steps, step, np.random.default_rng(100 + number))
            samples = np.asarray(samples, dtype=np.float64).ravel()
        except NotImplementedError:
            return CheckResult(
                name, False, "not answered yet: the function still raises NotImplementedError."
            )
        except Exception as error:
            return CheckResult(name, False, f"case {number} ({what}) raised {describe_error(error)}.")
        if samples.size != n_steps:
            return CheckResult(
                name,
                False,
                f"case {number}: expected {n_steps} samples (one per step, rejections included), "
                f"got {samples.size}. Hint: record the current state after every step.",
            )
        if not np.all(np.isfinite(samples)):
            return CheckResult(
                name, False, f"case {number}: the samples contain NaN or infinity. Hint: {_METROPOLIS_HINT}"
            )
        moves = float(np.mean(samples[1:] != samples[:-1]))
        if moves > 0.995:
            return CheckResult(
                name,
                False,
                f"case {number}: the chain moved at every step ({moves:.1%}), so proposals are never "
                f"rejected. Hint: {_METROPOLIS_HINT}",
            )
        if moves < 0.05:
            return CheckResult(
                name,
                False,
                f"case {number}: the chain barely moves ({moves:.1%} of steps). Hint: {_METROPOLIS_HINT}",
            )
        kept = samples[burn_in:]
        got_mean, got_std = float(kept.mean()), float(kept.std())
        if abs(got_mean - mean) > 0.3 * std or abs(got_std / std - 1) > 0.15:
            return CheckResult(
                name,
                False,
                f"case {number} ({what}): after {burn_in} burn-in steps the samples have mean "
                f"{got_mean:.3f} and std {got_std:.3f}; the target has mean {mean:.3f} and std "
                f"{std:.3f}. Hint: {_METROPOLIS_HINT}",
            )
    return CheckResult(name, True, "passed: both chains have the target's mean and spread.")


MODEL_KINDS: dict[str, str] = {
    "logistic regression": "discriminative",
    "support vector machine": "discriminative",
    "random forest": "discriminative",
    "naive Bayes": "generative",
    "Gaussian mixture model": "generative",
    "hidden Markov model": "generative",
    "Boltzmann machine": "generative",
    "GAN": "generative",
    "VAE": "generative",
    "Monte Carlo method": "sampling method",
    "Metropolis algorithm": "sampling method",
}

_WHY = {
    "logistic regression": "it models p(y | x) only",
    "support vector machine": "it learns a decision boundary (a margin), not a distribution of x",
    "random forest": "its trees vote on y given x; there is no p(x) to sample from",
    "naive Bayes": "it models p(x | y) p(y) and classifies with Bayes' rule",
    "Gaussian mixture model": "it is a density p(x) you can sample from",
    "hidden Markov model": "it defines p(x_1..x_T) through hidden states and can generate sequences",
    "Boltzmann machine": "it defines p(x) proportional to exp(-E(x))",
    "GAN": "its generator defines the distribution of G(z), z ~ p(z)",
    "VAE": "it defines p(x) = ∫ p(x | z) p(z) dz",
    "Monte Carlo method": "it estimates expectations from samples of a distribution someone else specified",
    "Metropolis algorithm": "it draws samples from a given (unnormalised) density; it does not learn one",
}


def check_model_kinds(answer: Mapping[str, str] | None) -> CheckResult:
    """Exercise 3: ``answer[name]`` in {"generative", "discriminative", "sampling method"}."""
    name = "generative, discriminative or a sampling method"
    if answer is None or answer is Ellipsis:
        return CheckResult(name, False, "not answered yet: fill in the dictionary.")
    if not isinstance(answer, Mapping):
        return CheckResult(name, False, f"expected a dict, got {type(answer).__name__}.")
    missing = [key for key in MODEL_KINDS if key not in answer]
    if missing:
        return CheckResult(name, False, f"missing entries: {', '.join(missing)}.")
    unanswered = sum(answer[key] is Ellipsis or answer[key] is None for key in MODEL_KINDS)
    if unanswered:
        return CheckResult(name, False, f"not answered yet: replace the {unanswered} remaining `...`.")
    allowed = {"generative", "discriminative", "sampling method"}
    invalid = [key for key in MODEL_KINDS if str(answer[key]).strip().lower() not in allowed]
    if invalid:
        return CheckResult(
            name, False, f"use only {sorted(allowed)}; check the entries for: {', '.join(invalid)}."
        )
    given = {key: str(answer[key]).strip().lower() for key in MODEL_KINDS}
    wrong = [key for key in MODEL_KINDS if given[key] != MODEL_KINDS[key]]
    if wrong:
        # Say how many labels of each kind are wrong, never which entries: the reader must
        # think again about each entry, not eliminate the options the feedback names.
        tallies = []
        for label in ("generative", "discriminative", "sampling method"):
            chosen = [key for key in MODEL_KINDS if given[key] == label]
            mistaken = sum(key in wrong for key in chosen)
            if mistaken:
                tallies.append(f"{mistaken} of the {len(chosen)} you labelled {label!r}")
        return CheckResult(
            name,
            False,
            f"{len(wrong)} of {len(MODEL_KINDS)} wrong: {'; '.join(tallies)}. Hint: for each entry ask "
            "(1) does it define a distribution of the inputs x that you could sample new x from, "
            "(2) or does it only predict y from x, (3) or does it compute with a distribution "
            "someone else wrote down, learning nothing from data?",
        )
    return CheckResult(name, True, f"all {len(MODEL_KINDS)} right.")


def _reference_transition_matrix(states: np.ndarray, n_states: int) -> np.ndarray:
    counts = np.zeros((n_states, n_states))
    np.add.at(counts, (states[:-1], states[1:]), 1.0)
    return counts / counts.sum(axis=1, keepdims=True)


def _simulate(P: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    states = np.empty(n, dtype=int)
    states[0] = 0
    for t in range(1, n):
        states[t] = rng.choice(len(P), p=P[states[t - 1]])
    return states


def check_transition_fit(function: Callable[[np.ndarray, int], Any] | None) -> CheckResult:
    """Exercise 4: ``function(states, n_states)`` -> the maximum-likelihood transition matrix of a
    Markov chain fitted to one observed sequence of integer states ``0 .. n_states - 1``."""
    name = "maximum-likelihood Markov chain"
    if (feedback := not_a_function(name, function)) is not None:
        return feedback
    rng = np.random.default_rng(1913)
    three = np.array([[0.1, 0.6, 0.3], [0.5, 0.25, 0.25], [0.2, 0.2, 0.6]])
    sequences = [
        (np.array([0, 0, 1, 0, 1, 1, 1, 0]), 2),
        (_simulate(ONEGIN_TRANSITIONS, 20_000, rng), 2),
        (_simulate(three, 5_000, rng), 3),
    ]
    hint = (
        "count the pairs (state at t, state at t+1) over the whole sequence, then divide each "
        "row of counts by its sum: P[i, j] is the fraction of the visits to i that were followed "
        "by j. Every row must sum to 1."
    )
    cases = [((states.copy(), n), _reference_transition_matrix(states, n)) for states, n in sequences]
    result = check_function(name, function, cases, rtol=1e-10, atol=1e-12, hint=hint)
    if not result:
        return result
    fitted = np.asarray(function(sequences[1][0].copy(), 2), dtype=float)
    vowel_share = float(_reference_stationary(fitted)[0])
    return CheckResult(
        name,
        True,
        f"passed all {len(cases)} cases; the chain fitted to 20,000 letters generated from Markov's "
        f"counts has a stationary vowel share of {vowel_share:.4f} (Markov counted {8638 / 20000:.4f}).",
    )
