"""Checks for the exercises of the chapter "GAN theory".

Every check returns a :class:`~genmodels.exercises.core.CheckResult` and never raises on a
wrong answer. References are computed by :mod:`genmodels.densities` or in closed form.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from genmodels import densities
from genmodels.exercises.core import CheckResult, check_function, describe_error, not_a_function


def _sigmoid(u: np.ndarray) -> np.ndarray:
    """A logistic sigmoid that does not overflow: exp of a non-positive number only."""
    u = np.asarray(u, dtype=np.float64)
    e = np.exp(-np.abs(u))
    return np.where(u >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _reference_weighted_jsd(p: np.ndarray, q: np.ndarray, x: np.ndarray, weight: float) -> float:
    m = weight * p + (1.0 - weight) * q
    return weight * densities.kl(p, m, x) + (1.0 - weight) * densities.kl(q, m, x)


def check_weighted_jsd(function: Callable[..., Any] | None) -> CheckResult:
    """Exercise 1: ``function(p, q, x, weight)`` -> Lin's weighted Jensen-Shannon divergence
    ``w KL(p || m) + (1 - w) KL(q || m)``, ``m = w p + (1 - w) q``, of two densities on a grid."""
    x = np.linspace(-10.0, 10.0, 4001)
    n = densities.normal_pdf
    uniform = np.where((x >= 0) & (x <= 1), 1.0, 0.0)
    shifted = np.where((x >= 3) & (x <= 4), 1.0, 0.0)
    overlapping = np.where((x >= 0.5) & (x <= 1.5), 1.0, 0.0)
    cases_in = [
        (n(x, 0.0, 1.0), n(x, 1.0, 1.0), 0.5),
        (n(x, 0.0, 1.0), n(x, 1.0, 1.0), 0.2),
        (n(x, 0.0, 1.0), n(x, 0.0, 1.0), 0.7),
        (n(x, -1.0, 0.5), densities.mixture_pdf(x, [0.3, 0.7], [-2.0, 2.0], [0.7, 1.0]), 0.9),
        (uniform, shifted, 0.25),  # disjoint supports: the entropy of the weights
        (uniform, overlapping, 0.6),  # zeros on both sides: 0 log 0 = 0
    ]
    cases = [((p, q, x, w), _reference_weighted_jsd(p, q, x, w)) for p, q, w in cases_in]
    return check_function(
        "weighted Jensen-Shannon divergence",
        function,
        cases,
        rtol=1e-6,
        atol=1e-9,
        hint="the mixture is m = w p + (1 - w) q (not (p + q) / 2 unless w = ½), and the two KL "
        "terms are weighted by w and 1 - w; integrate with np.trapezoid(values, x) and skip the "
        "points where the first density is 0 (0 log 0 = 0). With disjoint supports the answer is "
        "the entropy of the weights, -w log w - (1 - w) log(1 - w).",
    )


def _reference_logit(x, mu_data, std_data, mu_g, std_g) -> np.ndarray:
    return densities.normal_logpdf(x, mu_data, std_data) - densities.normal_logpdf(x, mu_g, std_g)


def _yes_no(value: Any) -> bool | None:
    if isinstance(value, bool | np.bool_):
        return bool(value)
    return None


def check_optimal_logit(
    function: Callable[..., Any] | None, logit_degree: Any = None, quadratic_features_suffice: Any = None
) -> CheckResult:
    """Exercise 2: ``function(x, mu_data, std_data, mu_g, std_g)`` -> the logit of ``D*`` for two
    Gaussians, finite even where both densities underflow to 0; ``logit_degree``: its degree as a
    polynomial in ``x`` when the standard deviations differ; ``quadratic_features_suffice``: can a
    logistic regression on ``(1, x, x²)`` represent ``D*`` exactly?"""
    name = "logit of the optimal discriminator"
    cases = []
    for x, params in [
        (np.linspace(-3.0, 3.0, 13), (0.0, 1.0, 1.0, 1.0)),
        (np.linspace(-4.0, 6.0, 11), (0.0, 1.0, 2.0, 1.5)),
        (np.array([-60.0, -40.0, 40.0, 60.0]), (0.0, 1.0, 1.0, 2.0)),  # both densities are 0.0
    ]:
        cases.append(((x, *params), _reference_logit(x, *params)))
    result = check_function(
        name,
        function,
        cases,
        rtol=1e-9,
        atol=1e-9,
        hint="D* = p_data / (p_data + p_g) = sigmoid(log p_data - log p_g): the logit is a "
        "difference of log-densities. Write log N(x; mu, std^2) = -(x - mu)^2 / (2 std^2) - "
        "log std - ½ log 2π directly; at x = 40 the densities themselves underflow to 0.",
    )
    if not result:
        return result
    if logit_degree is None or logit_degree is Ellipsis:
        return CheckResult(name, False, "the function is right; now answer `logit_degree` too.")
    if not isinstance(logit_degree, int | np.integer) or isinstance(logit_degree, bool):
        return CheckResult(name, False, f"`logit_degree` must be an integer, got {logit_degree!r}.")
    if logit_degree != 2:
        return CheckResult(
            name,
            False,
            f"the function is right, but `logit_degree` = {logit_degree} is not. Hint: expand "
            "-(x - mu_d)²/(2 s_d²) + (x - mu_g)²/(2 s_g²): which power of x survives when s_d ≠ s_g?",
        )
    answer = _yes_no(quadratic_features_suffice)
    if answer is None:
        return CheckResult(name, False, "answer `quadratic_features_suffice` with True or False.")
    if not answer:
        return CheckResult(
            name,
            False,
            "the function and the degree are right, but not `quadratic_features_suffice`. Hint: "
            "logistic regression on (1, x, x²) computes sigmoid(w0 + w1 x + w2 x²); compare that "
            "with sigmoid(logit of D*).",
        )
    return CheckResult(name, True, "passed: the logit is right in all 3 cases, and so are both answers.")


def _least_squares_gradient(logits: np.ndarray) -> np.ndarray:
    """d/dl of ½ (σ(l) - 1)² = (σ(l) - 1) σ(l) (1 - σ(l)) = -σ(l) σ(-l)²."""
    return -_sigmoid(logits) * _sigmoid(-logits) ** 2


def check_squared_loss_gradient(
    function: Callable[[np.ndarray], Any] | None, saturates: Any = None, ratio_at_d_001: Any = None
) -> CheckResult:
    """Exercise 3: ``function(l)`` -> ``d/dl ½ (σ(l) - 1)²`` elementwise; ``saturates``: does it
    vanish as ``D = σ(l) -> 0``; ``ratio_at_d_001``: the non-saturating gradient divided by this one
    at ``D = 0.01``."""
    name = "gradient of the squared generator loss"
    cases = [
        ((logits,), _least_squares_gradient(logits))
        for logits in (np.array([0.0]), np.linspace(-8.0, 8.0, 17), np.array([-800.0, -40.0, 40.0, 800.0]))
    ]
    result = check_function(
        name,
        function,
        cases,
        rtol=1e-7,
        atol=1e-12,
        hint="chain rule: d/dl ½ (σ(l) - 1)² = (σ(l) - 1) · σ'(l), with σ'(l) = σ(l)(1 - σ(l)) and "
        "1 - σ(l) = σ(-l). np.exp(800) overflows: use scipy.special.expit.",
    )
    if not result:
        return result
    answer = _yes_no(saturates)
    if answer is None:
        return CheckResult(name, False, "the gradient is right; now answer `saturates` with True or False.")
    if not answer:
        return CheckResult(
            name,
            False,
            "the gradient is right, but not `saturates`. Hint: evaluate your function at l = -10, "
            "-20, -40 (D from 5e-5 down to 4e-18) and compare with the non-saturating -σ(-l).",
        )
    expected = 1.0 / (0.01 * 0.99)  # (1 - D) / (D (1 - D)^2)
    try:
        ratio = float(ratio_at_d_001)
    except (TypeError, ValueError) as error:
        return CheckResult(name, False, f"`ratio_at_d_001` must be a number: {describe_error(error)}.")
    if not np.isclose(ratio, expected, rtol=1e-3):
        return CheckResult(
            name,
            False,
            f"`ratio_at_d_001` = {ratio:.4g} is not right. Hint: at D = σ(l) = 0.01 the non-saturating "
            "gradient is -(1 - D); divide it by your function's value there (l = log(D / (1 - D))).",
        )
    return CheckResult(name, True, f"passed: and the non-saturating gradient is {expected:.1f} times larger.")


def _reference_article_d(p_data: np.ndarray, p_g: np.ndarray) -> np.ndarray:
    p_data, p_g = np.asarray(p_data, float), np.asarray(p_g, float)
    ratio = np.divide(p_g, p_data, out=np.full_like(p_data, np.inf), where=p_data > 0)
    return np.maximum(0.0, 1.0 - ratio)


def check_article_discriminator(function: Callable[[np.ndarray, np.ndarray], Any] | None) -> CheckResult:
    """Exercise 4: ``function(p_data, p_g)`` -> the pointwise maximiser over ``y`` in ``[0, 1)``
    of the article's objective ``p_data * y + p_g * log(1 - y)`` (its missing log)."""
    x = np.linspace(-4.0, 4.0, 41)
    cases = [
        ((np.array([1.0, 0.5, 0.2]), np.array([0.5, 0.5, 0.4])), None),  # D = 0 where p_g >= p_data
        ((densities.normal_pdf(x, 0.0, 1.0), densities.normal_pdf(x, 1.0, 1.5)), None),
        ((np.array([0.3, 0.0, 0.7]), np.array([0.0, 0.2, 0.7])), None),  # p_g = 0 and p_data = 0
    ]
    cases = [(args, _reference_article_d(*args)) for args, _ in cases]
    return check_function(
        "maximiser of the article's discriminator objective",
        function,
        cases,
        rtol=1e-9,
        atol=1e-12,
        hint="f(y) = a y + b log(1 - y) is concave; f'(y) = a - b / (1 - y) vanishes at "
        "y = 1 - b / a, which lies in [0, 1) only when b <= a; otherwise f decreases on [0, 1) "
        "and the maximum is at y = 0. Where p_data = 0 the answer is 0 (mind the division).",
    )


def check_generator_training(function: Callable[..., Any] | None) -> CheckResult:
    """Exercise 5: ``function(loss_fn, theta0, n_steps, learning_rate)`` -> the ``n_steps + 1``
    values of ``theta`` visited by gradient descent on ``E_z loss_fn(logit of D*(theta + z))`` for
    ``p_data = N(0, 1)``, ``G(z) = theta + z``, with ``D*`` re-computed and frozen at every step.

    Runs the reader's loop with the book's two generator losses (TensorFlow is imported here):
    the non-saturating loss must bring a generator started far away (theta = 10) to the data,
    the minimax loss must stay stuck there, and from theta = 1 both must move towards 0.
    """
    name = "training a generator against the optimal discriminator"
    if (feedback := not_a_function(name, function)) is not None:
        return feedback
    from genmodels import gan

    losses = {"non-saturating": gan.generator_loss_non_saturating, "minimax": gan.generator_loss_minimax}
    runs = [("non-saturating", 10.0), ("minimax", 10.0), ("minimax", 1.0)]
    hint = (
        "in every step: theta0 = the current theta as a plain float; the frozen logit of D* is "
        "-theta0 * x + theta0**2 / 2; under a tf.GradientTape compute x = theta + z for a batch "
        "of noise z, the loss loss_fn(tf.reshape(logit(x), (-1, 1))), its gradient with respect "
        "to theta, and theta <- theta - learning_rate * gradient. Record theta before the first "
        "step and after every step."
    )
    finals = {}
    n_steps, learning_rate = 100, 0.5
    for number, (loss_name, theta0) in enumerate(runs, start=1):
        try:
            with np.errstate(all="ignore"):
                path = np.asarray(function(losses[loss_name], theta0, n_steps, learning_rate), dtype=float)
        except NotImplementedError:
            return CheckResult(
                name, False, "not answered yet: the function still raises NotImplementedError."
            )
        except Exception as error:
            return CheckResult(
                name, False, f"run {number} ({loss_name} loss) raised {describe_error(error)}."
            )
        path = path.ravel()
        if path.size != n_steps + 1 or not np.isclose(path[0], theta0):
            return CheckResult(
                name,
                False,
                f"run {number}: expected {n_steps + 1} values of theta starting with theta0 = {theta0}, "
                f"got {path.size} values starting with {path[:1]}. Hint: {hint}",
            )
        if not np.all(np.isfinite(path)):
            return CheckResult(name, False, f"run {number}: theta became NaN or infinite. Hint: {hint}")
        finals[number] = float(path[-1])
    if abs(finals[1]) > 0.01:
        return CheckResult(
            name,
            False,
            f"with the non-saturating loss from theta = 10, theta ends at {finals[1]:.4g} after "
            f"{n_steps} steps; it should reach the data at 0. Hint: {hint}",
        )
    if finals[2] < 9.9:
        return CheckResult(
            name,
            False,
            f"with the minimax loss from theta = 10, theta ends at {finals[2]:.4g}; at D* the minimax "
            f"gradient there is below 1e-4, so it should barely move. Hint: {hint}",
        )
    if abs(finals[3]) > 0.5:
        return CheckResult(
            name,
            False,
            f"with the minimax loss from theta = 1 (not saturated), theta ends at {finals[3]:.4g}; it "
            f"should move towards 0. Hint: {hint}",
        )
    return CheckResult(
        name,
        True,
        f"passed: after {n_steps} steps the non-saturating generator is at {finals[1]:.2e}, the minimax "
        f"one started at 10 is still at {finals[2]:.4f}, and from 1 it reached {finals[3]:.3f}.",
    )
