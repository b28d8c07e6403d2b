"""Automatic checks for the book's exercises.

A check never raises on a wrong answer: it returns a :class:`CheckResult` that shows as
"✅ passed" or as what is wrong plus a hint, in a notebook and in plain text alike.
Chapter-specific checks live in one submodule per chapter (e.g. ``exercises.gan_code``);
they are built from the generic :func:`check_value` and :func:`check_function`.
"""

from genmodels.exercises.core import CheckResult, check_function, check_value

__all__ = ["CheckResult", "check_function", "check_value"]
