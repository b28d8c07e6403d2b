"""genmodels.neighbours: exact nearest neighbours, the copying check, clear errors for bad input."""

from __future__ import annotations

import numpy as np
import pytest

from genmodels import neighbours


def random_images(n, seed, shape=(28, 28, 1)):
    return np.random.default_rng(seed).random((n, *shape)).astype(np.float32)


def brute_force(queries, reference, k):
    distances = np.linalg.norm(
        queries.reshape(len(queries), 1, -1) - reference.reshape(1, len(reference), -1), axis=-1
    )
    order = np.argsort(distances, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(distances, order, axis=1), order


@pytest.mark.parametrize("batch_size", [1, 7, 256])
def test_nearest_neighbours_match_brute_force(batch_size):
    queries, reference = random_images(30, 0), random_images(200, 1)
    distances, indices = neighbours.nearest_neighbours(queries, reference, k=3, batch_size=batch_size)
    expected_distances, expected_indices = brute_force(queries, reference, 3)
    assert distances.shape == indices.shape == (30, 3)
    np.testing.assert_allclose(distances, expected_distances, rtol=1e-5)
    np.testing.assert_array_equal(indices, expected_indices)


def test_an_exact_copy_has_distance_exactly_zero():
    reference = random_images(500, 2)
    copies = reference[[17, 3, 499]]
    distances, indices = neighbours.nearest_neighbours(copies, reference)
    assert np.all(distances == 0.0)
    np.testing.assert_array_equal(indices[:, 0], [17, 3, 499])


def test_feature_vectors_work_too():
    points = np.array([[0.0, 0.0], [3.0, 4.0]])
    distances, indices = neighbours.nearest_neighbours(np.array([[3.0, 3.0]]), points)
    assert indices[0, 0] == 1 and distances[0, 0] == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("queries", "reference", "kwargs", "error", "match"),
    [
        (np.zeros((0, 4)), np.zeros((3, 4)), {}, ValueError, "empty"),
        (np.zeros((2, 4)), np.zeros((0, 4)), {}, ValueError, "empty"),
        (np.zeros(4), np.zeros((3, 4)), {}, ValueError, "leading axis"),
        (np.zeros((2, 28, 28, 1)), np.zeros((3, 32, 32, 1)), {}, ValueError, "same size"),
        (np.zeros((2, 4)), np.zeros((3, 4)), {"k": 4}, ValueError, "exceeds"),
        (np.zeros((2, 4)), np.zeros((3, 4)), {"k": 0}, ValueError, "positive"),
        (np.full((2, 4), np.nan), np.zeros((3, 4)), {}, ValueError, "NaN"),
        (np.array([["a", "b"]]), np.zeros((3, 2)), {}, TypeError, "numeric"),
    ],
)
def test_bad_input_gets_a_clear_error(queries, reference, kwargs, error, match):
    with pytest.raises(error, match=match):
        neighbours.nearest_neighbours(queries, reference, **kwargs)


def test_copying_check_flags_copies_and_not_new_data():
    pool = random_images(3000, 3, shape=(8, 8, 1))
    train, test, fresh = pool[:1000], pool[1000:2000], pool[2000:2500]
    copies = train[np.random.default_rng(4).choice(1000, 300)]
    check = neighbours.CopyingCheck(train, test, quantile=0.05)
    new, copied = check(fresh), check(copies)
    assert copied.flagged == 1.0 and copied.median_ratio == 0.0
    assert new.flagged < 0.15 and 0.9 < new.median_ratio < 1.1
    assert new.test_distances.shape == (1000,) and new.sample_distances.shape == (500,)
    # the closest pairs of the copies are the copies and their originals
    samples, originals = neighbours.closest_pairs(copied, 5)
    np.testing.assert_array_equal(copies[samples], train[originals])


def test_copying_check_refuses_bad_input():
    train = random_images(10, 5)
    with pytest.raises(ValueError, match="quantile"):
        neighbours.CopyingCheck(train, train, quantile=1.0)
    with pytest.raises(ValueError, match="same size"):
        neighbours.CopyingCheck(train, random_images(10, 6, shape=(14, 14, 1)))
    check = neighbours.CopyingCheck(train, random_images(10, 7))
    with pytest.raises(ValueError, match="empty"):
        check(train[:0])
    with pytest.raises(ValueError, match="same size"):
        check(random_images(3, 8, shape=(28, 28, 3)))


def test_closer_to_train_is_one_half_without_copying_and_one_with_it():
    pool = random_images(2400, 7, shape=(6, 6, 1))
    train, held_out, fresh = pool[:800], pool[800:1600], pool[1600:]
    assert abs(neighbours.closer_to_train(fresh, train, held_out) - 0.5) < 0.07
    assert neighbours.closer_to_train(train[:100], train, held_out) == 1.0


def test_closer_to_train_needs_sets_of_equal_size():
    with pytest.raises(ValueError, match="same size"):
        neighbours.closer_to_train(random_images(5, 8), random_images(10, 9), random_images(20, 10))


def test_closest_pairs_refuses_a_bad_count():
    report = neighbours.CopyingCheck(random_images(6, 12), random_images(6, 13))(random_images(4, 11))
    with pytest.raises(ValueError, match="positive"):
        neighbours.closest_pairs(report, 0)
    assert len(neighbours.closest_pairs(report, 10)[0]) == 4
