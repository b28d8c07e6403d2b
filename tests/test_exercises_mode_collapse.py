"""Checks of the chapter "Mode collapse": right answers pass, wrong ones get feedback."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from genmodels.exercises import mode_collapse as checks


def reverse_kl(counts):
    q = np.asarray(counts, float) / np.sum(counts)
    q = q[q > 0]
    return float(np.sum(q * np.log(q * len(counts))))


def test_reverse_kl_check():
    assert checks.check_reverse_kl(reverse_kl)

    def only_nonempty(counts):  # forgets the empty modes in M
        q = np.asarray(counts, float)[np.asarray(counts) > 0]
        q = q / q.sum()
        return float(np.sum(q * np.log(q * len(q))))

    result = checks.check_reverse_kl(only_nonempty)
    assert not result and "empty" in result.message
    assert not checks.check_reverse_kl(None)


def test_minibatch_std_check():
    def right(x):
        return np.concatenate([x, np.full((len(x), 1), np.sqrt(x.var(axis=0) + 1e-8).mean())], axis=1)

    assert checks.check_minibatch_std(right)

    def unbiased(x):  # ddof=1 is another estimator
        return np.concatenate([x, np.full((len(x), 1), np.sqrt(x.var(axis=0, ddof=1) + 1e-8).mean())], axis=1)

    assert not checks.check_minibatch_std(unbiased)
    result = checks.check_minibatch_std(lambda x: x)
    assert not result and "shape" in result.message


def test_packing_value_checks_fail_fast():
    def transposed(points, m):  # the right shape, the wrong points
        return tf.reshape(tf.transpose(tf.reshape(points, (m, -1, 2)), (1, 0, 2)), (-1, 2 * m))

    result = checks.check_packing(transposed)
    assert not result and "wrong places" in result.message
    result = checks.check_packing(lambda points, m: points)
    assert not result and "shape" in result.message
    assert not checks.check_packing(None)


@pytest.mark.slow
def test_packing_check_trains_with_the_readers_function():
    result = checks.check_packing(lambda points, m: tf.reshape(points, (-1, m * points.shape[-1])))
    assert result, result.message
