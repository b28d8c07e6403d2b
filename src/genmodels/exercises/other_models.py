"""Checks for the exercises of the chapter "Other generative models"."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np

from genmodels.exercises.core import CheckResult, _as_array, call_answer, check_function, not_a_function


def _reference_output_mask(input_degrees: np.ndarray, hidden_degrees: np.ndarray) -> np.ndarray:
    return (np.asarray(hidden_degrees)[:, None] < np.asarray(input_degrees)[None, :]).astype(np.float32)


def check_made_output_mask(function: Callable[..., Any] | None) -> CheckResult:
    """Exercise 1: ``function(input_degrees (D,), hidden_degrees (H,))`` -> the ``(H, D)`` output mask.

    ``mask[k, d] = 1`` lets hidden unit ``k`` feed the logit of dimension ``d``.
    """
    rng = np.random.default_rng(3)
    cases = []
    for n_inputs, n_hidden in ((3, 4), (5, 8), (12, 30)):
        input_degrees = rng.permutation(n_inputs) + 1  # any ordering, not only the natural one
        hidden = rng.integers(1, n_inputs, n_hidden)
        cases.append(((input_degrees, hidden), _reference_output_mask(input_degrees, hidden)))
    return check_function(
        "MADE output mask",
        function,
        cases,
        hint="the logit of dimension d may use a hidden unit only if everything that unit can see comes "
        "before d in the ordering; compare the unit's degree with d's degree, and mind equality.",
    )


def check_coupling_inverse(function: Callable[..., Any] | None) -> CheckResult:
    """Exercise 2: ``function(y, mask, scale_and_shift)`` -> ``(x, log_det)`` undoing an affine coupling.

    ``scale_and_shift(kept)`` returns ``(s, t)``; the coupling computed
    ``y = mask * x + (1 - mask) * (x * exp(s) + t)`` with ``(s, t)`` from ``mask * x``;
    ``log_det`` is ``log |det dx/dy|`` per row, shape ``(N,)``.
    """
    from genmodels.flows import AffineCoupling

    name = "affine coupling inverse"
    if (feedback := not_a_function(name, function)) is not None:
        return feedback
    keras.utils.set_random_seed(7)
    rng = np.random.default_rng(7)
    for case, mask in enumerate(([1.0, 0.0], [0.0, 1.0], [1.0, 0.0, 1.0, 0.0]), start=1):
        layer = AffineCoupling(np.array(mask), hidden=(16,))
        layer.build((None, len(mask)))
        layer.out.set_weights([0.5 * w for w in [rng.normal(size=v.shape) for v in layer.out.get_weights()]])
        x = rng.normal(size=(32, len(mask))).astype(np.float32)
        y, forward_log_det = (keras.ops.convert_to_numpy(v) for v in layer(x))
        answer, feedback = call_answer(name, function, (y, layer.mask, layer.scale_and_shift), case)
        if feedback is not None:
            return feedback
        if not isinstance(answer, (tuple, list)) or len(answer) != 2:
            return CheckResult(name, False, "return two things: (x, log_det).")
        x_answer, log_det_answer = (_as_array(v) for v in answer)
        if x_answer is None or x_answer.shape != x.shape or not np.allclose(x_answer, x, atol=1e-4):
            return CheckResult(
                name,
                False,
                f"case {case}: your x does not give back the input of the layer. Hint: the kept "
                "coordinates are unchanged, so the layer's s and t can be recomputed from y.",
            )
        if log_det_answer is None or log_det_answer.shape != (len(x),):
            return CheckResult(
                name, False, f"case {case}: log_det must have one value per row, shape ({len(x)},)."
            )
        if not np.allclose(log_det_answer, -forward_log_det, atol=1e-4):
            return CheckResult(
                name,
                False,
                f"case {case}: x is right but log_det is not. Hint: how does the inverse map scale each "
                "changed coordinate, and which coordinates does it change?",
            )
    return CheckResult(
        name, True, "passed all 3 cases: x -> y -> x is the identity and the log-det is right."
    )


def check_code_prior(
    function: Callable[..., Any] | None,
    codes: np.ndarray,
    decode: Callable[[np.ndarray], np.ndarray] | None = None,
    score: Callable[[np.ndarray], float] | None = None,
) -> CheckResult:
    """Exercise 3: ``function(codes (M, k), n, rng)`` -> ``(n, k)`` codes from a Gaussian fitted to ``codes``.

    The samples' mean and covariance must match the codes' within sampling error. With
    ``decode`` (codes -> images) and ``score`` (images -> a distance to the data, lower is
    better), the decoded samples must also score at most half of what decoded ``N(0, I)``
    codes score: the prior must make the autoencoder a better sampler.
    """
    name = "Gaussian prior on the codes"
    if (feedback := not_a_function(name, function)) is not None:
        return feedback
    codes = np.asarray(codes, dtype=np.float64)
    n = 4000
    answer, feedback = call_answer(name, function, (codes, n, np.random.default_rng(0)), 1)
    if feedback is not None:
        return feedback
    samples = _as_array(answer)
    if samples is None or samples.shape != (n, codes.shape[1]):
        shape = None if samples is None else samples.shape
        return CheckResult(
            name, False, f"expected {n} codes of shape ({n}, {codes.shape[1]}), got shape {shape}."
        )
    mean, covariance = codes.mean(axis=0), np.cov(codes, rowvar=False)
    scale = np.sqrt(np.diag(covariance))
    mean_error = np.max(np.abs(samples.mean(axis=0) - mean) / scale)
    standardised = np.cov(samples, rowvar=False) / np.outer(scale, scale)
    covariance_error = np.max(np.abs(standardised - covariance / np.outer(scale, scale)))
    hint = " Hint: a Gaussian has two parameters; estimate both from the codes."
    if mean_error > 0.1:
        return CheckResult(name, False, "the samples are not centred where the codes are." + hint)
    if covariance_error > 0.15:
        return CheckResult(name, False, "the samples' spread or correlations differ from the codes'." + hint)
    if decode is None or score is None:
        return CheckResult(name, True, "mean and covariance match the codes'.")
    standard = np.random.default_rng(1).standard_normal(samples.shape).astype(np.float32)
    with_prior, without = float(score(decode(samples.astype(np.float32)))), float(score(decode(standard)))
    scores = f"score of the decoded samples {with_prior:.3g}, of decoded N(0, I) codes {without:.3g}"
    if not with_prior <= 0.5 * without:
        return CheckResult(
            name, False, f"the moments match, but the decoder does not sample better: {scores}."
        )
    return CheckResult(name, True, f"mean and covariance match the codes'; {scores}.")
