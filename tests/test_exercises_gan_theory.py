"""genmodels.exercises.gan_theory: right answers pass, wrong ones fail with a hint, nothing raises."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit

from genmodels import divergences as dv
from genmodels.exercises import gan_theory as checks


def not_done(*args):
    raise NotImplementedError


def crashes(*args):
    return 1 / 0


# ---------------------------------------------------------------- right answers


def good_jsd(p, q, x):
    m = 0.5 * (p + q)

    def kl_m(r):
        keep = r > 0
        return np.trapezoid(np.where(keep, r * np.log(np.where(keep, r / np.where(keep, m, 1), 1)), 0), x)

    return 0.5 * kl_m(p) + 0.5 * kl_m(q)


def good_logit(x, mu_d, s_d, mu_g, s_g):
    return dv.normal_logpdf(x, mu_d, s_d) - dv.normal_logpdf(x, mu_g, s_g)


def good_gradients(logits):
    return -expit(logits), -expit(-logits)


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
        (checks.check_jsd, good_jsd),
        (checks.check_optimal_logit, good_logit),
        (checks.check_generator_gradients, good_gradients),
        (checks.check_article_discriminator, good_article_d),
    ],
)
def test_right_answers_pass(check, answer):
    result = check(answer)
    assert result, str(result)
    assert str(result).startswith("✅")


def test_article_reference_is_the_brute_force_maximiser():
    x = np.linspace(-4, 4, 41)
    p_data, p_g = dv.normal_pdf(x, 0, 1), dv.normal_pdf(x, 1, 1.5)
    np.testing.assert_allclose(good_article_d(p_data, p_g), brute_force_article_d(p_data, p_g), atol=1e-5)
    np.testing.assert_allclose(checks._reference_article_d(p_data, p_g), good_article_d(p_data, p_g))


# ---------------------------------------------------------------- wrong answers


def kl_instead_of_jsd(p, q, x):
    return dv.kl(p, 0.5 * (p + q), x)


def naive_logit(x, mu_d, s_d, mu_g, s_g):
    with np.errstate(divide="ignore", invalid="ignore"):
        p, q = dv.normal_pdf(x, mu_d, s_d), dv.normal_pdf(x, mu_g, s_g)
        return np.log(p / (p + q)) - np.log(q / (p + q))  # NaN where both underflow


def swapped_gradients(logits):
    return -expit(-logits), -expit(logits)


def overflowing_gradients(logits):
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(-logits)
        return -1 / (1 + e), -e / (1 + e)  # inf / inf = nan at logit -800


def d_star_instead(p_data, p_g):
    return p_data / (p_data + p_g)


@pytest.mark.parametrize(
    ("check", "answer", "says"),
    [
        (checks.check_jsd, kl_instead_of_jsd, "not close enough"),
        (checks.check_jsd, not_done, "not answered yet"),
        (checks.check_jsd, crashes, "ZeroDivisionError"),
        (checks.check_optimal_logit, naive_logit, "NaN or infinity"),
        (checks.check_optimal_logit, None, "not answered yet"),
        (checks.check_generator_gradients, swapped_gradients, "not close enough"),
        (checks.check_generator_gradients, overflowing_gradients, "NaN or infinity"),
        (checks.check_article_discriminator, d_star_instead, "not close enough"),
        (checks.check_article_discriminator, 42, "expected a function"),
    ],
)
def test_wrong_answers_fail_with_feedback_and_never_raise(check, answer, says):
    result = check(answer)
    assert not result
    assert says in str(result)
    assert str(result).startswith("❌")
