"""The generic checks: feedback, never a traceback (chapter checks: test_exercises_<chapter>.py)."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from genmodels.exercises import CheckResult, check_function, check_value


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
