"""The generic checks and the GAN-in-code checks: feedback, never a traceback."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from genmodels.exercises import CheckResult, check_function, check_value, gan_code


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        (None, "not answered yet"),
        (..., "not answered yet"),
        ("one half", "expected a number"),
        ({"a": 1}, "expected a number"),
        ([1.0, 2.0], "expected shape ()"),
        (float("nan"), "NaN"),
        (0.7, "not close enough"),
    ],
)
def test_check_value_explains_wrong_answers(answer: object, fragment: str):
    result = check_value("x", answer, 0.5, hint="think")
    assert isinstance(result, CheckResult) and not result
    assert fragment in result.message
    assert str(result).startswith("❌ x:")


def test_check_value_accepts_tensors_and_close_values():
    assert check_value("x", keras.ops.convert_to_tensor(0.5 + 1e-9), 0.5)
    assert check_value("v", np.array([1.0, 2.0]), [1.0, 2.0])


def test_check_function_reports_errors_with_the_readers_line():
    def broken(x):
        return x / undefined_name  # noqa: F821

    result = check_function("f", broken, [((1.0,), 1.0)])
    assert not result and "NameError" in result.message and "undefined_name" in result.message


@pytest.mark.parametrize(
    ("function", "fragment"),
    [(None, "not answered yet"), (42, "expected a function, got int"), (print(), "not answered yet")],
)
def test_check_function_rejects_non_functions(function: object, fragment: str):
    result = check_function("f", function, [((1.0,), 1.0)])
    assert not result and fragment in result.message


def test_check_function_placeholder_is_not_answered():
    def placeholder(x):
        raise NotImplementedError

    assert "not answered yet" in check_function("f", placeholder, [((1.0,), 1.0)]).message


def test_check_function_names_the_failing_case():
    result = check_function("square", lambda x: x * 2, [((2.0,), 4.0), ((1.0,), 1.0), ((3.0,), 9.0)])
    assert not result and result.message.startswith("case 2:")


def test_discriminator_loss_check_needs_a_stable_loss():
    def naive(r, f):
        with np.errstate(all="ignore"):
            return float(-np.mean(np.log(1 / (1 + np.exp(-r)))) - np.mean(np.log(1 - 1 / (1 + np.exp(-f)))))

    def stable(r, f):
        return float(np.mean(np.logaddexp(0, -r)) + np.mean(np.logaddexp(0, f)))

    assert not gan_code.check_discriminator_loss(naive)
    assert gan_code.check_discriminator_loss(stable)


def test_generator_fix_check_rejects_the_articles_generator():
    def article(z_dim):
        z = keras.Input((z_dim,))
        h = keras.layers.Dense(784, activation="relu")(z)
        h = keras.layers.Reshape((28, 28))(h)
        return keras.Model(z, keras.layers.Dense(784, activation="sigmoid")(h))

    def fixed(z_dim):
        z = keras.Input((z_dim,))
        return keras.Model(z, keras.layers.Dense(784, activation="sigmoid")(z))

    result = gan_code.check_article_generator_fix(article)
    assert not result and "(5, 28, 784)" in result.message
    assert gan_code.check_article_generator_fix(fixed)


def test_covered_modes_check():
    def right(samples, centers, std):
        d = np.linalg.norm(samples[:, None] - centers[None], axis=-1)
        return len(np.unique(d.argmin(1)[d.min(1) <= 3 * std]))

    def ignores_quality(samples, centers, std):
        d = np.linalg.norm(samples[:, None] - centers[None], axis=-1)
        return len(np.unique(d.argmin(1)))

    assert gan_code.check_covered_modes(right)
    assert not gan_code.check_covered_modes(ignores_quality)
