"""genmodels.exercises.gan_theory: right answers pass, wrong ones fail with a hint, nothing raises."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit

from genmodels import densities
from genmodels.exercises import gan_theory as checks


def not_done(*args):
    raise NotImplementedError


def crashes(*args):
    return 1 / 0


# ---------------------------------------------------------------- right answers


def good_jsd(p, q, x, weight):
    m = weight * p + (1 - weight) * q

    def kl_m(r):
        keep = r > 0
        return np.trapezoid(np.where(keep, r * np.log(np.where(keep, r / np.where(keep, m, 1), 1)), 0), x)

    return weight * kl_m(p) + (1 - weight) * kl_m(q)


def good_logit(x, mu_d, s_d, mu_g, s_g):
    return densities.normal_logpdf(x, mu_d, s_d) - densities.normal_logpdf(x, mu_g, s_g)


def good_logit_check(function):
    return checks.check_optimal_logit(function, 2, True)


def good_squared_gradient(logits):
    return -expit(logits) * expit(-logits) ** 2


def squared_gradient_check(function, saturates=True, ratio=1 / (0.01 * 0.99)):
    return checks.check_squared_loss_gradient(function, saturates, ratio)


def brute_force_article_d(p_data, p_g):
    ys = np.linspace(0.0, 1.0, 200_001)[:-1]
    objective = np.asarray(p_data)[:, None] * ys + np.asarray(p_g)[:, None] * np.log1p(-ys)
    return ys[np.argmax(objective, axis=1)]


def good_article_d(p_data, p_g):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(p_data > 0, np.maximum(0.0, 1.0 - p_g / p_data), 0.0)


@pytest.mark.parametrize(
    ("check", "answer"),
    [
        (checks.check_weighted_jsd, good_jsd),
        (good_logit_check, good_logit),
        (squared_gradient_check, good_squared_gradient),
        (checks.check_article_discriminator, good_article_d),
    ],
)
def test_right_answers_pass(check, answer):
    result = check(answer)
    assert result, str(result)
    assert str(result).startswith("✅")


def test_article_reference_is_the_brute_force_maximiser():
    x = np.linspace(-4, 4, 41)
    p_data, p_g = densities.normal_pdf(x, 0, 1), densities.normal_pdf(x, 1, 1.5)
    np.testing.assert_allclose(good_article_d(p_data, p_g), brute_force_article_d(p_data, p_g), atol=1e-5)
    np.testing.assert_allclose(checks._reference_article_d(p_data, p_g), good_article_d(p_data, p_g))


# ---------------------------------------------------------------- wrong answers


def kl_instead_of_jsd(p, q, x, weight):
    return densities.kl(p, weight * p + (1 - weight) * q, x)


def unweighted_jsd(p, q, x, weight):
    return densities.jsd(p, q, x)


def naive_logit(x, mu_d, s_d, mu_g, s_g):
    with np.errstate(divide="ignore", invalid="ignore"):
        p, q = densities.normal_pdf(x, mu_d, s_d), densities.normal_pdf(x, mu_g, s_g)
        return np.log(p / (p + q)) - np.log(q / (p + q))  # NaN where both underflow


def non_saturating_instead(logits):
    return -expit(-logits)


def overflowing_squared_gradient(logits):
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(-logits)
        return -(1 / (1 + e)) * (e / (1 + e)) ** 2  # inf / inf = nan at logit -800


def d_star_instead(p_data, p_g):
    return p_data / (p_data + p_g)


@pytest.mark.parametrize(
    ("check", "answer", "says"),
    [
        (checks.check_weighted_jsd, kl_instead_of_jsd, "not close enough"),
        (checks.check_weighted_jsd, unweighted_jsd, "not close enough"),
        (checks.check_weighted_jsd, not_done, "not answered yet"),
        (checks.check_weighted_jsd, crashes, "ZeroDivisionError"),
        (good_logit_check, naive_logit, "NaN or infinity"),
        (good_logit_check, None, "not answered yet"),
        (squared_gradient_check, non_saturating_instead, "not close enough"),
        (squared_gradient_check, overflowing_squared_gradient, "NaN or infinity"),
        (checks.check_article_discriminator, d_star_instead, "not close enough"),
        (checks.check_article_discriminator, 42, "expected a function"),
    ],
)
def test_wrong_answers_fail_with_feedback_and_never_raise(check, answer, says):
    result = check(answer)
    assert not result
    assert says in str(result)
    assert str(result).startswith("❌")


def test_weighted_jsd_with_equal_weights_is_the_jsd():
    x = np.linspace(-10, 10, 2001)
    p, q = densities.normal_pdf(x, 0, 1), densities.normal_pdf(x, 2, 0.5)
    assert checks._reference_weighted_jsd(p, q, x, 0.5) == pytest.approx(densities.jsd(p, q, x), rel=1e-12)


@pytest.mark.parametrize(
    ("degree", "suffice", "says"),
    [
        (None, True, "answer `logit_degree`"),
        (1, True, "is not"),
        (2.0, True, "must be an integer"),
        (2, None, "True or False"),
        (2, False, "not `quadratic_features_suffice`"),
    ],
)
def test_optimal_logit_grades_the_conceptual_answers(degree, suffice, says):
    result = checks.check_optimal_logit(good_logit, degree, suffice)
    assert not result and says in result.message


@pytest.mark.parametrize(
    ("saturates", "ratio", "says"),
    [
        (None, 101.0, "True or False"),
        (False, 101.0, "not `saturates`"),
        (True, 99.0, "is not right"),  # the ratio of the non-saturating to the minimax gradient
        (True, "many", "must be a number"),
    ],
)
def test_squared_loss_check_grades_the_conceptual_answers(saturates, ratio, says):
    result = checks.check_squared_loss_gradient(good_squared_gradient, saturates, ratio)
    assert not result and says in result.message


def train_generator(loss_fn, theta0, n_steps, learning_rate, freeze=True):
    import tensorflow as tf

    z = tf.constant(np.random.default_rng(0).standard_normal(4096))
    theta = tf.Variable(theta0, dtype=tf.float64)
    path = [theta0]
    for _ in range(n_steps):
        frozen = float(theta) if freeze else theta
        with tf.GradientTape() as tape:
            fake = theta + z
            loss = loss_fn(tf.reshape(-frozen * fake + frozen**2 / 2, (-1, 1)))
        theta.assign_sub(learning_rate * tape.gradient(loss, theta))
        path.append(float(theta))
    return np.array(path)


def test_generator_training_check():
    result = checks.check_generator_training(train_generator)
    assert result, result.message
    # D* not frozen: the gradient also flows through the discriminator, the dynamics differ
    unfrozen = checks.check_generator_training(
        lambda loss_fn, theta0, n, lr: train_generator(loss_fn, theta0, n, lr, freeze=False)
    )
    assert not unfrozen and "Hint" in unfrozen.message
    # gradient ascent instead of descent
    ascent = checks.check_generator_training(
        lambda loss_fn, theta0, n, lr: train_generator(loss_fn, theta0, n, -lr)
    )
    assert not ascent
    final_only = checks.check_generator_training(
        lambda loss_fn, theta0, n, lr: train_generator(loss_fn, theta0, n, lr)[-1]
    )
    assert not final_only and "expected 101 values" in final_only.message
    assert "not answered" in checks.check_generator_training(not_done).message
