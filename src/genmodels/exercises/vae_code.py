"""Checks for the exercises of the chapter "VAE in code", and the article's listing (§1.4.2)."""

from __future__ import annotations

import ast
import builtins
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from genmodels.exercises.core import CheckResult, call_answer, check_function, not_a_function

# The article's VAE listing (§1.4.2), verbatim; the chapter prints it and a test checks that
# the chapter's copy is this one.
ARTICLE_LISTING = """\
import tensorflow as tf
from tensorflow.keras.layers import Dense, Input, Reshape
from tensorflow.keras.models import Model

# 编码器网络
def build_encoder(input_dim, z_dim):
    input = Input(shape=(input_dim,))
    x = Dense(128, activation='relu')(input)
    x = Dense(128, activation='relu')(x)
    z_mean = Dense(z_dim)(x)
    z_log_var = Dense(z_dim)(x)
    return Model(input, [z_mean, z_log_var])

# 解码器网络
def build_decoder(z_dim, input_dim):
    input = Input(shape=(z_dim,))
    x = Dense(128, activation='relu')(input)
    x = Dense(128, activation='relu')(x)
    x = Dense(input_dim, activation='sigmoid')(x)
    return Model(input, x)

# 编码器网络的损失函数
def build_encoder_loss(encoder, z, z_mean, z_log_var):
    loss = -0.5 * (1 + z_log_var - tf.square(z_mean) - tf.exp(z_log_var))
    return loss

# 解码器网络的损失函数
def build_decoder_loss(decoder, real_images, generated_images):
    loss = tf.reduce_mean(tf.math.square(real_images - generated_images))
    return loss

# 训练VAE
def train_vae(encoder, decoder, real_images, z, epochs, batch_size):
    for epoch in range(epochs):
        for batch in range(len(real_images) // batch_size):
            z = np.random.normal(0, 1, (batch_size, z_dim))
            with tf.GradientTape() as enc_tape, tf.GradientTape() as dec_tape:
                enc_loss = build_encoder_loss(encoder, z, z_mean, z_log_var)
                dec_loss = build_decoder_loss(decoder, real_images, generated_images)
            gradients_of_enc = enc_tape.gradient(enc_loss, encoder.trainable_variables)
            gradients_of_dec = dec_tape.gradient(dec_loss, decoder.trainable_variables)
            encoder.optimizer.apply_gradients(zip(gradients_of_enc, encoder.trainable_variables))
            decoder.optimizer.apply_gradients(zip(gradients_of_dec, decoder.trainable_variables))
"""


def listing_lines(source: str = ARTICLE_LISTING) -> dict[int, str]:
    """The listing's lines, numbered from 1 as the chapter prints them."""
    return dict(enumerate(source.splitlines(), start=1))


def undefined_name_lines(source: str = ARTICLE_LISTING) -> dict[int, set[str]]:
    """Lines that read a name no statement of ``source`` defines, with those names.

    A name is defined when it is a builtin, imported, a top-level function, or a parameter
    or assignment target of the function that reads it (the listing has no nested scopes).
    """
    tree = ast.parse(source)
    module_names = set(dir(builtins))
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            module_names |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
        elif isinstance(node, ast.FunctionDef):
            module_names.add(node.name)
    found: dict[int, set[str]] = {}
    for function in (node for node in tree.body if isinstance(node, ast.FunctionDef)):
        local = {arg.arg for arg in function.args.args}
        for node in ast.walk(function):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                local.add(node.id)
        for node in ast.walk(function):
            loads = isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
            if loads and node.id not in local | module_names:
                found.setdefault(node.lineno, set()).add(node.id)
    return found


def check_undefined_lines(lines: Iterable[int] | None) -> CheckResult:
    """Exercise (bug hunt): the line numbers of the listing that read an undefined name."""
    name = "undefined names in the article's listing"
    if lines is None or lines is Ellipsis:
        return CheckResult(name, False, "not answered yet: give a set of line numbers, e.g. {12, 30}.")
    try:
        answer = {int(line) for line in lines}
    except (TypeError, ValueError):
        return CheckResult(name, False, f"expected a set of line numbers (integers), got {lines!r:.80}.")
    expected = set(undefined_name_lines())
    if answer == expected:
        names = sorted(set().union(*undefined_name_lines().values()))
        return CheckResult(name, True, f"passed: {len(expected)} lines read {', '.join(names)}.")
    right, extra, missing = len(answer & expected), len(answer - expected), len(expected - answer)
    message = f"{right} of your {len(answer)} lines are right"
    if extra:
        message += f"; {extra} of them read only names that are defined"
    if missing:
        message += f"; {missing} line(s) are missing"
    hint = (
        " Hint: for each name a line reads, look for where it is defined: an import, a `def`, "
        "a parameter of the enclosing function, or an assignment in it (before or after the line)."
    )
    return CheckResult(name, False, message + "." + hint)


# ---------------------------------------------------------------- the negative ELBO


def _reference_negative_elbo(x: np.ndarray, logits: np.ndarray, mean: np.ndarray, log_var: np.ndarray):
    flat_x, flat_l = x.reshape(len(x), -1), logits.reshape(len(x), -1)
    log_lik = np.sum(flat_x * flat_l - np.logaddexp(0.0, flat_l), axis=1)
    kl = 0.5 * np.sum(np.exp(log_var) + mean**2 - 1.0 - log_var, axis=1)
    return -(log_lik - kl)


def check_negative_elbo(function: Callable[..., Any] | None) -> CheckResult:
    """Exercise: ``function(x, logits, mean, log_var)`` -> the negative ELBO per example, ``(N,)``.

    ``x`` are binary images ``(N, 28, 28, 1)``, ``logits`` the decoder's Bernoulli logits of
    the same shape for one sample ``z ~ q(z|x)``, ``mean`` and ``log_var`` ``(N, latent_dim)``.
    """
    rng = np.random.default_rng(11)
    cases = []
    for n, latent, scale in ((2, 2, 1.0), (5, 16, 3.0), (3, 8, 30.0)):
        x = (rng.random((n, 28, 28, 1)) < 0.4).astype(np.float32)
        logits = (scale * rng.normal(size=x.shape)).astype(np.float32)
        mean = rng.normal(size=(n, latent)).astype(np.float32)
        log_var = rng.normal(scale=0.5, size=(n, latent)).astype(np.float32)
        args = (x, logits, mean, log_var)
        cases.append((args, _reference_negative_elbo(*args)))
    result = check_function(
        "negative ELBO",
        function,
        cases,
        rtol=1e-4,
        atol=1e-2,
        hint="-ELBO = -sum over pixels of [x*l - softplus(l)] + 0.5*sum over latent dims of "
        "[exp(log_var) + mean^2 - 1 - log_var], one number per image (sums, not means).",
    )
    if result or "not answered" in result.message or "raised" in result.message:
        return result
    # a common slip gets a targeted hint: averaging over pixels and latent dimensions
    args, _ = cases[1]
    answer, _ = call_answer("negative ELBO", function, args, 2)
    x, logits, mean, log_var = args
    flat_x, flat_l = x.reshape(len(x), -1), logits.reshape(len(x), -1)
    averaged = -np.mean(flat_x * flat_l - np.logaddexp(0.0, flat_l), axis=1) + 0.5 * np.mean(
        np.exp(log_var) + mean**2 - 1.0 - log_var, axis=1
    )
    if answer is not None and np.allclose(np.asarray(answer, dtype=np.float64), averaged, rtol=1e-3):
        return CheckResult(
            "negative ELBO",
            False,
            "you averaged over pixels and latent dimensions: the ELBO is a log-density of the "
            "whole image, so both terms are sums (in nats per image).",
        )
    return result


# ---------------------------------------------------------------- the reparameterised sample


def _elbo_after_training(sample: Callable[..., Any], steps: int = 300, seed: int = 0) -> float:
    """Held-out ELBO (nats per image) of a small VAE trained ``steps`` steps with ``sample``.

    ``sample(mean, log_var, eps)`` draws the ``z`` the decoder sees in training.
    """
    import keras
    import tensorflow as tf

    from genmodels import data, vae

    keras.utils.set_random_seed(seed)
    images, _ = data.load_fashion_mnist("train")
    x = data.binarize(data.to_unit_interval(images[:3500]), np.random.default_rng(seed))
    train, held_out = x[:3000], x[3000:]
    encoder = vae.build_mlp_encoder(latent_dim=8, hidden=(256,))
    decoder = vae.build_mlp_decoder(latent_dim=8, hidden=(256,))
    optimizer = keras.optimizers.Adam(1e-3)
    variables = encoder.trainable_variables + decoder.trainable_variables

    @tf.function
    def step(batch: tf.Tensor, eps: tf.Tensor) -> None:
        with tf.GradientTape() as tape:
            mean, log_var = encoder(batch, training=True)
            z = sample(mean, log_var, eps)
            elbo = vae.bernoulli_log_likelihood(batch, decoder(z)) - vae.gaussian_kl(mean, log_var)
            loss = -tf.reduce_mean(elbo)
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))

    rng = np.random.default_rng(seed)
    for _ in range(steps):
        rows = rng.integers(0, len(train), 100)
        step(tf.constant(train[rows]), tf.constant(rng.standard_normal((100, 8)).astype(np.float32)))
    mean, log_var = (t.numpy() for t in encoder(held_out))
    z = mean + np.exp(0.5 * log_var) * rng.standard_normal(mean.shape).astype(np.float32)
    elbo = vae.bernoulli_log_likelihood(held_out, decoder(z)) - vae.gaussian_kl(mean, log_var)
    return float(np.mean(elbo))


def _z_from_the_prior(mean: Any, log_var: Any, eps: Any) -> Any:
    """The article's choice: ``z ~ N(0, I)`` whatever the image (``mean``, ``log_var`` unused)."""
    return eps


def check_reparameterize(function: Callable[..., Any] | None, train: bool = True) -> CheckResult:
    """Exercise: ``function(mean, log_var, eps)`` -> ``z``, a sample of ``N(mean, exp(log_var))``.

    Checks the values, that gradients reach ``mean`` and ``log_var``, and (``train=True``)
    trains a small VAE with it and with the article's ``z ~ N(0, I)``, and compares the
    held-out ELBOs.
    """
    import tensorflow as tf

    name = "reparameterised sample"
    if (feedback := not_a_function(name, function)) is not None:
        return feedback
    rng = np.random.default_rng(5)
    mean = rng.normal(size=(4, 3)).astype(np.float32)
    log_var = rng.normal(size=(4, 3)).astype(np.float32)
    eps = rng.standard_normal((4, 3)).astype(np.float32)
    values = check_function(
        name,
        function,
        [((mean, log_var, eps), mean + np.exp(0.5 * log_var) * eps)],
        hint="log_var is the log of the variance; the standard deviation is exp(log_var / 2).",
    )
    if not values:
        return values
    mean_t, log_var_t = tf.Variable(mean), tf.Variable(log_var)
    with tf.GradientTape() as tape:
        z = function(mean_t, log_var_t, tf.constant(eps))
        total = tf.reduce_sum(tf.cast(z, tf.float32))
    gradients = tape.gradient(total, [mean_t, log_var_t])
    if any(g is None for g in gradients):
        return CheckResult(
            name,
            False,
            "no gradient reaches mean or log_var through your z: compute it with TensorFlow "
            "operations (tf.exp, +, *), not with NumPy, so the tape can follow it.",
        )
    if not train:
        return CheckResult(name, True, "passed: the right values, and gradients reach mean and log_var.")
    yours, article = _elbo_after_training(function), _elbo_after_training(_z_from_the_prior)
    report = (
        f"held-out ELBO after 300 steps: {yours:.1f} nats with your z, {article:.1f} nats with "
        "z drawn from the prior as in the article"
    )
    if yours > article + 20:
        return CheckResult(name, True, f"passed: {report}.")
    return CheckResult(name, False, f"{report}; yours should be clearly higher.")
