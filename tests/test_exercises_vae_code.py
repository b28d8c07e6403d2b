"""genmodels.exercises.vae_code: right answers pass, wrong ones fail with a hint, nothing raises.
Also: the chapter prints the article's listing exactly as the checks read it."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from genmodels.exercises import vae_code as checks

CHAPTER = Path(__file__).resolve().parents[1] / "book" / "06_vae_code.md"


def not_done(*args):
    raise NotImplementedError


def crashes(*args):
    return 1 / 0


# ---------------------------------------------------------------- the listing


def test_the_chapter_prints_the_stored_listing():
    text = CHAPTER.read_text(encoding="utf-8")
    match = re.search(r"```\{code-block\} python\n:linenos:\n(.*?)```", text, re.DOTALL)
    assert match, "the chapter must print the article's listing in a numbered code-block"
    assert match.group(1) == checks.ARTICLE_LISTING


def test_undefined_names_are_found_by_analysis():
    found = checks.undefined_name_lines()
    lines = checks.listing_lines()
    assert set().union(*found.values()) == {"np", "z_dim", "z_mean", "z_log_var", "generated_images"}
    for number, names in found.items():
        assert all(name in lines[number] for name in names)
    # the analysis really looks: a listing that defines everything has no such line
    assert (
        checks.undefined_name_lines("import numpy as np\ndef f(a):\n    b = np.ones(a)\n    return b\n") == {}
    )


# ---------------------------------------------------------------- bug hunt


def test_undefined_lines_right_answer_passes():
    result = checks.check_undefined_lines(set(checks.undefined_name_lines()))
    assert result and "passed" in str(result)


@pytest.mark.parametrize("answer", [set(), {1, 2, 3}, {36, 38}, {36, 38, 39, 40}, [36, 38, 39, 5]])
def test_undefined_lines_wrong_answers_fail_without_giving_the_lines_away(answer):
    result = checks.check_undefined_lines(answer)
    assert not result
    assert "Hint" in result.message
    assert not re.search(r"\b(36|38|39)\b", result.message)


@pytest.mark.parametrize("answer", [None, ..., "36, 38", {"a"}])
def test_undefined_lines_unanswered_or_malformed(answer):
    result = checks.check_undefined_lines(answer)
    assert not result and result.message


# ---------------------------------------------------------------- negative ELBO


def good_negative_elbo(x, logits, mean, log_var):
    x, logits = x.reshape(len(x), -1), logits.reshape(len(x), -1)
    log_likelihood = np.sum(x * logits - np.logaddexp(0, logits), axis=1)
    return -(log_likelihood - 0.5 * np.sum(np.exp(log_var) + mean**2 - 1 - log_var, axis=1))


def averaged_negative_elbo(x, logits, mean, log_var):
    x, logits = x.reshape(len(x), -1), logits.reshape(len(x), -1)
    log_likelihood = np.mean(x * logits - np.logaddexp(0, logits), axis=1)
    return -(log_likelihood - 0.5 * np.mean(np.exp(log_var) + mean**2 - 1 - log_var, axis=1))


def naive_negative_elbo(x, logits, mean, log_var):  # overflows for large logits
    with np.errstate(all="ignore"):
        p = 1 / (1 + np.exp(-logits.astype(np.float32)))
        log_likelihood = np.sum((x * np.log(p) + (1 - x) * np.log(1 - p)).reshape(len(x), -1), axis=1)
    return -(log_likelihood - 0.5 * np.sum(np.exp(log_var) + mean**2 - 1 - log_var, axis=1))


def kl_with_wrong_sign(x, logits, mean, log_var):
    x, logits = x.reshape(len(x), -1), logits.reshape(len(x), -1)
    log_likelihood = np.sum(x * logits - np.logaddexp(0, logits), axis=1)
    return -(log_likelihood + 0.5 * np.sum(np.exp(log_var) + mean**2 - 1 - log_var, axis=1))


def test_negative_elbo_right_answer_passes():
    assert checks.check_negative_elbo(good_negative_elbo)


def test_negative_elbo_averaging_gets_its_own_hint():
    result = checks.check_negative_elbo(averaged_negative_elbo)
    assert not result and "averaged over pixels" in result.message


@pytest.mark.parametrize("wrong", [naive_negative_elbo, kl_with_wrong_sign, not_done, crashes, None, 3.0])
def test_negative_elbo_wrong_answers_fail(wrong):
    result = checks.check_negative_elbo(wrong)
    assert not result and result.message


# ---------------------------------------------------------------- reparameterised sample


def good_reparameterize(mean, log_var, eps):
    return mean + tf.exp(0.5 * log_var) * eps


def variance_as_scale(mean, log_var, eps):
    return mean + tf.exp(log_var) * eps


def numpy_reparameterize(mean, log_var, eps):
    return np.asarray(mean) + np.exp(0.5 * np.asarray(log_var)) * np.asarray(eps)


def test_reparameterize_values_and_gradients_pass():
    result = checks.check_reparameterize(good_reparameterize, train=False)
    assert result and "gradients" in result.message


def test_reparameterize_with_the_variance_as_scale_fails():
    result = checks.check_reparameterize(variance_as_scale, train=False)
    assert not result and "exp(log_var / 2)" in result.message


def test_reparameterize_in_numpy_gets_no_gradient():
    result = checks.check_reparameterize(numpy_reparameterize, train=False)
    assert not result and "gradient" in result.message


@pytest.mark.parametrize("wrong", [not_done, crashes, None])
def test_reparameterize_unanswered_or_crashing(wrong):
    result = checks.check_reparameterize(wrong, train=False)
    assert not result and result.message


@pytest.mark.slow
def test_reparameterize_training_moves_the_bound():
    result = checks.check_reparameterize(good_reparameterize)
    assert result, result
    numbers = [float(v) for v in re.findall(r"(-?\d+\.\d) nats", result.message)]
    assert len(numbers) == 2 and numbers[0] > numbers[1] + 20
