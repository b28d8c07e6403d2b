"""The checks of the background chapter pass right answers and explain wrong ones, never raising."""

from __future__ import annotations

import itertools

import numpy as np
from scipy import special

from genmodels.exercises import background as checks


def stationary(P):
    values, vectors = np.linalg.eig(P.T)
    v = np.real(vectors[:, np.argmin(np.abs(values - 1))])
    return v / v.sum()


def metropolis(log_density, x0, n_steps, step_size, rng):
    x, log_px = x0, log_density(x0)
    out = np.empty(n_steps)
    for t in range(n_steps):
        y = x + step_size * rng.standard_normal()
        log_py = log_density(y)
        if np.log(rng.random()) < log_py - log_px:
            x, log_px = y, log_py
        out[t] = x
    return out


def test_stationary_distribution_check():
    assert checks.check_stationary_distribution(stationary)
    # Markov's own numbers: the chain's stationary vowel share is the observed 8638 / 20000
    assert np.isclose(stationary(checks.ONEGIN_TRANSITIONS)[0], 8638 / 20000, atol=1e-4)
    uniform = checks.check_stationary_distribution(lambda P: np.full(len(P), 1 / len(P)))
    assert not uniform and "Hint" in uniform.message
    unnormalised = checks.check_stationary_distribution(lambda P: 2 * stationary(P))
    assert not unnormalised
    crashing = checks.check_stationary_distribution(lambda P: P.undefined)
    assert not crashing and "AttributeError" in crashing.message


def test_unanswered_checks_say_so():
    def todo(*args):
        raise NotImplementedError

    for check in (checks.check_stationary_distribution, checks.check_metropolis):
        result = check(todo)
        assert not result and "not answered" in result.message
        assert not check(None)
    assert not checks.check_model_kinds(None)


def test_metropolis_check_accepts_a_correct_sampler():
    result = checks.check_metropolis(metropolis)
    assert result, result.message


def test_metropolis_check_rejects_typical_mistakes():
    def naive_ratio(log_density, x0, n_steps, step_size, rng):  # exp overflows: inf / inf = nan
        x, out = x0, np.empty(n_steps)
        for t in range(n_steps):
            y = x + step_size * rng.standard_normal()
            if rng.random() < np.exp(log_density(y)) / np.exp(log_density(x)):
                x = y
            out[t] = x
        return out

    def always_accept(log_density, x0, n_steps, step_size, rng):
        return x0 + np.cumsum(step_size * rng.standard_normal(n_steps))

    def only_accepted(log_density, x0, n_steps, step_size, rng):
        return metropolis(log_density, x0, n_steps, step_size, rng)[::2]

    def inverted(log_density, x0, n_steps, step_size, rng):
        return metropolis(lambda v: -log_density(v), x0, n_steps, step_size, rng)

    for wrong in (naive_ratio, always_accept, only_accepted, inverted):
        result = checks.check_metropolis(wrong)
        assert not result, wrong.__name__
        assert "Hint" in result.message, wrong.__name__


def test_model_kinds_check():
    assert checks.check_model_kinds(dict(checks.MODEL_KINDS))
    shouted = {k: v.upper() for k, v in checks.MODEL_KINDS.items()}
    assert checks.check_model_kinds(shouted)
    article = dict(
        checks.MODEL_KINDS, **{"random forest": "generative", "support vector machine": "generative"}
    )
    result = checks.check_model_kinds(article)
    assert not result and "Hint" in result.message and "2 of 11 wrong" in result.message
    # the feedback never names an entry, so the exercise cannot be solved by elimination
    for key in checks.MODEL_KINDS:
        assert key not in result.message, key
    assert "2 of the 8 you labelled 'generative'" in result.message
    assert not checks.check_model_kinds({"GAN": "generative"})
    assert not checks.check_model_kinds(dict(checks.MODEL_KINDS, GAN="deterministic"))
    assert not checks.check_model_kinds(["GAN"])
    placeholder = checks.check_model_kinds(dict.fromkeys(checks.MODEL_KINDS, ...))
    assert not placeholder and "not answered yet" in placeholder.message
    assert special.logsumexp([0.0]) == 0.0  # scipy is importable where the checks run


def fit_transition_matrix(states, n_states):
    counts = np.zeros((n_states, n_states))
    for a, b in itertools.pairwise(states):
        counts[a, b] += 1
    return counts / counts.sum(axis=1, keepdims=True)


def test_transition_fit_check():
    result = checks.check_transition_fit(fit_transition_matrix)
    assert result, result.message
    assert "stationary vowel share" in result.message
    transposed = checks.check_transition_fit(lambda s, n: fit_transition_matrix(s, n).T)
    assert not transposed and "Hint" in transposed.message
    raw_counts = checks.check_transition_fit(lambda s, n: fit_transition_matrix(s, n) * (len(s) - 1))
    assert not raw_counts
    # the stationary distribution instead of the transitions: a common confusion
    marginal = checks.check_transition_fit(lambda s, n: np.tile(np.bincount(s, minlength=n) / len(s), (n, 1)))
    assert not marginal
    assert not checks.check_transition_fit(None)
    wrong_shape = checks.check_transition_fit(lambda s, n: fit_transition_matrix(s, n)[0])
    assert not wrong_shape and "shape" in wrong_shape.message
