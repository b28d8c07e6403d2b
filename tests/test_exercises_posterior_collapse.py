"""genmodels.exercises.posterior_collapse: right answers pass, wrong ones fail with a hint, nothing raises."""

from __future__ import annotations

import re

import numpy as np
import pytest
import tensorflow as tf

from genmodels.exercises import posterior_collapse as checks


def not_done(*args):
    raise NotImplementedError


def crashes(*args):
    return 1 / 0


# ---------------------------------------------------------------- active units


def good_active_units(mean):
    return int(np.sum(np.var(mean, axis=0) > 0.01))


def std_instead_of_variance(mean):
    return int(np.sum(np.std(mean, axis=0) > 0.01))


def over_examples(mean):  # variance of each row: the wrong axis
    return int(np.sum(np.var(mean, axis=1) > 0.01))


def mean_of_means(mean):
    return int(np.sum(np.abs(np.mean(mean, axis=0)) > 0.01))


def all_units(mean):
    return mean.shape[1]


def test_active_units_right_answer_passes():
    result = checks.check_active_units(good_active_units)
    assert result and "passed" in str(result)


@pytest.mark.parametrize("wrong", [std_instead_of_variance, over_examples, mean_of_means, all_units])
def test_active_units_wrong_answers_fail_with_the_hint(wrong):
    result = checks.check_active_units(wrong)
    assert not result and "Hint" in result.message


@pytest.mark.parametrize("wrong", [not_done, crashes, None, 3, lambda m: np.var(m, axis=0)])
def test_active_units_unanswered_crashing_or_not_a_count(wrong):
    result = checks.check_active_units(wrong)
    assert not result and result.message


# ---------------------------------------------------------------- free bits


def good_free_bits(kl_per_dim, free_bits):
    return tf.reduce_sum(tf.maximum(free_bits, tf.reduce_mean(kl_per_dim, axis=0)))


def per_example_floor(kl_per_dim, free_bits):  # floors each example, then averages
    return tf.reduce_sum(tf.reduce_mean(tf.maximum(free_bits, kl_per_dim), axis=0))


def floor_of_the_total(kl_per_dim, free_bits):
    return tf.maximum(free_bits, tf.reduce_sum(tf.reduce_mean(kl_per_dim, axis=0)))


def numpy_free_bits(kl_per_dim, free_bits):  # right values, no gradient
    return float(np.sum(np.maximum(free_bits, np.mean(np.asarray(kl_per_dim), axis=0))))


def gradient_everywhere(kl_per_dim, free_bits):  # right values, gradient also below the floor
    per_dim = tf.reduce_mean(kl_per_dim, axis=0)
    floor = tf.stop_gradient(tf.maximum(free_bits, per_dim) - per_dim)
    return tf.reduce_sum(per_dim + floor)


def test_free_bits_right_answer_passes():
    result = checks.check_free_bits(good_free_bits)
    assert result and "gradient" in result.message


@pytest.mark.parametrize("wrong", [per_example_floor, floor_of_the_total])
def test_free_bits_wrong_values_fail_with_the_hint(wrong):
    result = checks.check_free_bits(wrong)
    assert not result and "batch average" in result.message


def test_free_bits_without_gradient_fails():
    result = checks.check_free_bits(numpy_free_bits)
    assert not result and "gradient" in result.message


def test_free_bits_with_gradient_below_the_floor_fails():
    result = checks.check_free_bits(gradient_everywhere)
    assert not result and "gradient is not" in result.message


@pytest.mark.parametrize("wrong", [not_done, crashes, None])
def test_free_bits_unanswered_or_crashing(wrong):
    result = checks.check_free_bits(wrong)
    assert not result and result.message


# ---------------------------------------------------------------- schedule


def linear_half(total_steps):
    return np.minimum(1.0, np.arange(total_steps) / (total_steps / 2))


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda n: np.ones(n), "plain ELBO"),
        (lambda n: np.linspace(0, 0.5, n), "last weight must be 1"),
        (lambda n: np.linspace(-1, 1, n), "in \\[0, 1\\]"),
        (lambda n: np.ones(n + 1), "return"),
        (lambda n: "warm up", "return"),
    ],
)
def test_schedule_invalid_answers_fail_before_training(wrong, message):
    result = checks.check_schedule(wrong, train=False)
    assert not result
    assert re.search(message, result.message)


def test_schedule_valid_answer_passes_without_training():
    assert checks.check_schedule(linear_half, train=False)


@pytest.mark.parametrize("wrong", [not_done, crashes, None])
def test_schedule_unanswered_or_crashing(wrong):
    result = checks.check_schedule(wrong, train=False)
    assert not result and result.message


@pytest.mark.slow
def test_schedule_training_cures_and_a_token_warm_up_does_not(tmp_path, monkeypatch):
    monkeypatch.setenv("GENMODELS_CHECKPOINT_DIR", str(tmp_path))
    result = checks.check_schedule(linear_half)
    assert result, result

    def token_warm_up(total_steps):  # 0 for one step, then the plain ELBO
        weights = np.ones(total_steps)
        weights[0] = 0.0
        return weights

    result = checks.check_schedule(token_warm_up)
    assert not result and "collapsed" in result.message
