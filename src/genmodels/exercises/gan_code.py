"""Checks for the exercises of the chapter "GAN in code"."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from genmodels.exercises.core import CheckResult, check_function, describe_error, not_a_function

ARTICLE_HIDDEN_UNITS = 128  # the article's networks: two hidden layers of 128 ReLU units
ARTICLE_HIDDEN_LAYERS = 2
RING_MIN_STEPS = 2000  # the trained ring GAN must have taken at least this many generator steps
RING_MIN_MODES_STRICT = 6
RING_MIN_HIGH_QUALITY = 0.3


def _reference_smoothed_d_loss(real_logits: np.ndarray, fake_logits: np.ndarray, real_target: float) -> float:
    # cross-entropy of a logit l with target t: -t log sigmoid(l) - (1 - t) log(1 - sigmoid(l))
    # = t softplus(-l) + (1 - t) softplus(l), and softplus(u) = logaddexp(0, u) never overflows
    real_term = real_target * np.logaddexp(0, -real_logits) + (1 - real_target) * np.logaddexp(0, real_logits)
    return float(np.mean(real_term) + np.mean(np.logaddexp(0, fake_logits)))


def check_smoothed_discriminator_loss(
    function: Callable[[np.ndarray, np.ndarray, float], Any] | None,
) -> CheckResult:
    """Exercise 1: ``function(real_logits, fake_logits, real_target)`` -> the discriminator's
    loss (scalar) with one-sided label smoothing: real data have the target ``real_target``."""
    rng = np.random.default_rng(7)
    cases = [
        ((np.zeros(4), np.zeros(4), 1.0), None),
        ((rng.normal(size=16), rng.normal(size=16), 0.9), None),
        ((np.array([3.0, -1.0]), np.array([-2.0, 0.5, 4.0]), 0.8), None),
        ((rng.normal(scale=3.0, size=32), rng.normal(scale=3.0, size=8), 0.9), None),
        ((np.array([800.0, -800.0]), np.array([-800.0, 800.0]), 0.9), None),
    ]
    cases = [(args, _reference_smoothed_d_loss(*args)) for args, _ in cases]
    return check_function(
        "smoothed discriminator loss",
        function,
        cases,
        rtol=1e-5,
        hint="with target t, the loss of one logit l is the cross-entropy "
        "-t log D - (1 - t) log(1 - D), D = sigmoid(l); the generated data keep the target 0. "
        "Write each log with a softplus that cannot overflow (the last case has logits of ±800).",
    )


def _hidden_layer_problem(model: Any, role: str) -> str | None:
    """None when ``model``'s Dense layers are the article's hidden layers plus one output layer."""
    import keras

    layers = list(model.layers)
    dense = [i for i, layer in enumerate(layers) if isinstance(layer, keras.layers.Dense)]
    hidden = dense[:-1]  # the last Dense layer is the output layer

    def is_relu(index: int) -> bool:
        activation = getattr(layers[index].activation, "__name__", "")
        following = layers[index + 1] if index + 1 < len(layers) else None
        return activation == "relu" or isinstance(following, keras.layers.ReLU)

    widths = [layers[i].units for i in hidden]
    if len(hidden) != ARTICLE_HIDDEN_LAYERS or any(width != ARTICLE_HIDDEN_UNITS for width in widths):
        return (
            f"the {role} has hidden Dense layers of widths {widths}; the exercise asks for the "
            f"article's {ARTICLE_HIDDEN_LAYERS} hidden layers of {ARTICLE_HIDDEN_UNITS} units, "
            "then one output layer"
        )
    if not all(is_relu(i) for i in hidden):
        return f"the {role}'s hidden layers must use ReLU, as in the article"
    return None


def check_article_generator_fix(builder: Callable[[int], Any] | None) -> CheckResult:
    """Exercise 2: ``builder(z_dim)`` -> the article's generator (two hidden layers of 128 ReLU
    units), repaired so that its images fit this chapter's DCGAN discriminator."""
    from genmodels.gan import build_dcgan_discriminator, check_pair

    name = "repaired article generator"
    if (feedback := not_a_function(name, builder)) is not None:
        return feedback
    try:
        model = builder(100)
        z = 50.0 * np.random.default_rng(0).normal(size=(5, 100)).astype(np.float32)  # saturates
        images = np.asarray(model(z))
    except NotImplementedError:
        return CheckResult(name, False, "not answered yet: the function still raises NotImplementedError.")
    except Exception as error:
        return CheckResult(name, False, f"building or calling the generator failed: {describe_error(error)}")
    if images.shape != (5, 28, 28, 1):
        return CheckResult(
            name,
            False,
            f"for 5 noise vectors the output has shape {images.shape}; the DCGAN discriminator "
            "takes (5, 28, 28, 1). Hint: Dense acts on the last axis only, so reshape after "
            "the last Dense layer, never before it.",
        )
    try:
        check_pair(model, build_dcgan_discriminator(base_channels=4))
    except ValueError as error:
        return CheckResult(name, False, f"the DCGAN discriminator refuses it: {error}")
    if (problem := _hidden_layer_problem(model, "generator")) is not None:
        return CheckResult(name, False, problem + ".")
    if images.min() < -1 or images.max() > 1 or images.min() > -0.5:
        return CheckResult(
            name,
            False,
            f"for large noise its pixels span [{images.min():.2f}, {images.max():.2f}]; the "
            "discriminator sees images scaled to [-1, 1] (data.to_tanh_range), and the "
            "generator's pixels must fill that range. Which output activation does that?",
        )
    return CheckResult(name, True, "passed: (N, 100) noise -> (N, 28, 28, 1) images in [-1, 1].")


def check_covered_modes(
    function: Callable[[np.ndarray, np.ndarray, float], Any] | None,
) -> CheckResult:
    """Exercise 3: ``function(samples, centers, std)`` -> modes covered (published rule)."""
    from genmodels.data import RING_STD, ring_centers, sample_mixture
    from genmodels.metrics import mode_coverage

    rng = np.random.default_rng(3)
    centers = ring_centers()
    cases = []
    for kept in ([0], [0, 1, 2, 3, 4, 5, 6, 7], [1, 5, 6]):
        samples = sample_mixture(centers[kept], RING_STD, 500, rng)
        cases.append(((samples, centers, RING_STD), mode_coverage(samples, centers, RING_STD).modes))
    spread = rng.normal(scale=2.0, size=(2500, 2)).astype(np.float32)
    cases.append(((spread, centers, RING_STD), mode_coverage(spread, centers, RING_STD).modes))
    return check_function(
        "covered modes",
        function,
        cases,
        atol=0.0,
        hint="a sample counts only if it is within 3 std of its nearest centre; a mode is "
        "covered when at least one such sample is nearest to it.",
    )


def check_trained_ring_gan(model: Any) -> CheckResult:
    """Exercise 4: ``model`` is a ``genmodels.gan.GAN`` with the article's networks (two hidden
    layers of 128 ReLU units each), trained on the 8-Gaussian ring; graded on its samples."""
    from genmodels.data import RING_STD, ring_centers
    from genmodels.gan import GAN
    from genmodels.metrics import mode_coverage

    name = "the article's networks on the ring"
    if model is None or model is Ellipsis:
        return CheckResult(name, False, "not answered yet: assign your trained GAN to the variable.")
    if not isinstance(model, GAN):
        return CheckResult(
            name, False, f"expected a genmodels.gan.GAN, got {type(model).__name__}; build it with gan.GAN."
        )
    if model.data_shape != (2,):
        return CheckResult(name, False, f"the GAN generates shape {model.data_shape}; the ring is 2-D.")
    for network, role in ((model.generator, "generator"), (model.discriminator, "discriminator")):
        if (problem := _hidden_layer_problem(network, role)) is not None:
            return CheckResult(name, False, problem + ".")
    optimizer = getattr(model, "g_optimizer", None)
    steps = int(optimizer.iterations.numpy()) if optimizer is not None else 0
    if steps < RING_MIN_STEPS:
        return CheckResult(
            name, False, f"the generator has taken {steps} steps; train it for at least {RING_MIN_STEPS}."
        )
    try:
        report = mode_coverage(model.sample(2500, seed=0), ring_centers(), RING_STD)
    except Exception as error:
        return CheckResult(name, False, f"sampling from the GAN failed: {describe_error(error)}")
    if report.modes_strict < RING_MIN_MODES_STRICT or report.high_quality < RING_MIN_HIGH_QUALITY:
        return CheckResult(
            name,
            False,
            f"its samples: {report}. The chapter's bar is at least {RING_MIN_MODES_STRICT} modes "
            f"under the strict rule and {RING_MIN_HIGH_QUALITY:.0%} high-quality samples. Hint: "
            "a fresh batch of ring points for every step, and the chapter's optimizer settings.",
        )
    return CheckResult(name, True, f"passed: {report}.")
