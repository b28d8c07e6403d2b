"""Generic checks: compare a reader's value or function with a reference."""

from __future__ import annotations

import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class CheckResult:
    """Outcome of a check: ``passed`` and a message written for the reader."""

    name: str
    passed: bool
    message: str

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        mark = "✅" if self.passed else "❌"
        return f"{mark} {self.name}: {self.message}"

    def __repr__(self) -> str:
        return str(self)

    def _repr_markdown_(self) -> str:
        return str(self)


def describe_error(error: BaseException) -> str:
    """One line naming an exception: its type and the first line of its message."""
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0][:200]}" if lines else type(error).__name__


def not_a_function(name: str, function: object) -> CheckResult | None:
    """The feedback for an answer that is missing or not callable; None when it is a function."""
    if function is None or function is Ellipsis:
        return CheckResult(name, False, "not answered yet: define the function first.")
    if not callable(function):
        return CheckResult(
            name, False, f"expected a function, got {type(function).__name__}; pass it without ()."
        )
    return None


def call_answer(
    name: str, function: Callable[..., Any], args: Sequence[Any], case: int, hint: str = ""
) -> tuple[Any, CheckResult | None]:
    """Call the reader's ``function(*args)``: ``(answer, None)``, or ``(None, feedback)`` when it
    raises (the exception's type, message and the reader's line that raised it)."""
    try:
        return function(*args), None
    except NotImplementedError:
        return None, CheckResult(
            name, False, "not answered yet: the function still raises NotImplementedError."
        )
    except Exception as error:
        frame = traceback.extract_tb(error.__traceback__)[-1]
        code = (frame.line or "").strip()
        where = f" (line {frame.lineno}: `{code}`)" if code else f" (line {frame.lineno})"
        suffix = f" Hint: {hint}" if hint else ""
        return None, CheckResult(name, False, f"case {case} raised {describe_error(error)}{where}.{suffix}")


def _as_array(value: Any) -> np.ndarray | None:
    """``value`` as a float array (tensors included), or None when it is not numeric."""
    if hasattr(value, "numpy") and callable(value.numpy):
        value = value.numpy()
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return array


def _compare(answer: Any, expected: Any, rtol: float, atol: float) -> str | None:
    """None when ``answer`` matches ``expected``; else what differs, in words."""
    got, want = _as_array(answer), _as_array(expected)
    if got is None:
        return f"expected a number or an array of numbers, got {type(answer).__name__} {answer!r:.80}"
    if got.shape != want.shape:
        return f"expected shape {want.shape}, got shape {got.shape}"
    if not np.all(np.isfinite(got)):
        return "the answer contains NaN or infinity (a log of 0? a division by 0?)"
    if not np.allclose(got, want, rtol=rtol, atol=atol):
        worst = np.unravel_index(np.argmax(np.abs(got - want)), got.shape) if got.ndim else ()
        where = f" at index {tuple(int(i) for i in worst)}" if got.ndim else ""
        return f"got {got[worst]:.6g}{where}, which is not close enough to the expected value"
    return None


def check_value(
    name: str,
    answer: Any,
    expected: Any,
    rtol: float = 1e-5,
    atol: float = 1e-8,
    hint: str = "",
) -> CheckResult:
    """Check a numeric answer (number, array or tensor) against the expected value."""
    if answer is None or answer is Ellipsis:
        return CheckResult(name, False, "not answered yet: replace the `...`/None with your answer.")
    problem = _compare(answer, expected, rtol, atol)
    if problem is None:
        return CheckResult(name, True, "passed.")
    return CheckResult(name, False, problem + (f" Hint: {hint}" if hint else ""))


def check_function(
    name: str,
    function: Callable[..., Any] | None,
    cases: Sequence[tuple[tuple[Any, ...], Any]],
    rtol: float = 1e-5,
    atol: float = 1e-6,
    hint: str = "",
) -> CheckResult:
    """Call ``function(*args)`` for each ``(args, expected)`` case and compare the results.

    An exception inside the reader's function becomes feedback (its type, message and the
    line of the reader's code where it happened), never a bare traceback.
    """
    if (feedback := not_a_function(name, function)) is not None:
        return feedback
    suffix = f" Hint: {hint}" if hint else ""
    for number, (args, expected) in enumerate(cases, start=1):
        answer, feedback = call_answer(name, function, args, number, hint)
        if feedback is not None:
            return feedback
        problem = _compare(answer, expected, rtol, atol)
        if problem is not None:
            return CheckResult(name, False, f"case {number}: {problem}.{suffix}")
    return CheckResult(name, True, f"passed all {len(cases)} cases.")
