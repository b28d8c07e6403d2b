"""Posterior collapse made on purpose and cured, and the β sweep: the experiments of the chapter on §1.6.2.

Two experiments, one command (``python -m genmodels.experiments posterior_collapse``) that writes
``book/results/posterior_collapse.csv``:

* **β sweep**: the book's Fashion-MNIST VAE (:class:`genmodels.vae.Recipe`) trained with KL
  weights ``beta`` from 0.1 to 8; each row holds the test set's rate (KL), distortion
  (``-E_q log p(x|z)``), ELBO and active units.
* **Collapse and cures**: a VAE whose decoder is autoregressive over the pixels (a MADE,
  Germain et al. 2015, whose hidden layer and logits also receive ``z``) can model an image
  without ``z``; trained on the plain ELBO its code collapses. Each :class:`CollapseConfig`
  changes only the objective: KL annealing, free bits, cyclical annealing, and the article's
  three remedies (a KL weight below 1, "another variational method" = the IWAE bound, L1/L2
  on the decoder's weights).

Every run is seeded from its configuration alone and cached as ``.npz`` under
:func:`genmodels.training.checkpoint_dir`, so a chapter that asks again reads its numbers back.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from genmodels import data, results, training, vae, vae_diagnostics
from genmodels.autoregressive import MaskedDense, made_masks
from genmodels.validation import check_batch, check_positive_int

DEFAULT_CSV = Path(__file__).resolve().parents[2] / "book" / "results" / "posterior_collapse.csv"
N_TEST = 2000  # the VAE chapter's fixed test set
BETAS = (0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
SWEEP_EPOCHS = 8

# ---------------------------------------------------------------- data


def downsample(images: np.ndarray) -> np.ndarray:
    """Average 2 x 2 blocks of intensities: ``(N, 28, 28, 1)`` -> ``(N, 14, 14, 1)``."""
    images = check_batch(images, (28, 28, 1), (0.0, 1.0), what="images")
    return images.reshape(len(images), 14, 2, 14, 2, 1).mean(axis=(2, 4))


def fashion_data(n_train: int | None = None, side: int = 28) -> tuple[np.ndarray, np.ndarray]:
    """``(train intensities (n, side, side, 1) in [0, 1], 2,000 binarised test images)``.

    The test set is the VAE chapter's: the first 2,000 test images, binarised with seed 2026
    (at ``side = 14`` after :func:`downsample`).
    """
    if side not in (28, 14):
        raise ValueError(f"side must be 28 (the images) or 14 (downsampled), got {side!r}")
    train_images, _ = data.load_fashion_mnist("train")
    test_images, _ = data.load_fashion_mnist("test")
    train_x = data.to_unit_interval(train_images[: n_train or len(train_images)])
    test_x = data.to_unit_interval(test_images[:N_TEST])
    if side == 14:
        train_x, test_x = downsample(train_x), downsample(test_x)
    return train_x, data.binarize(test_x, np.random.default_rng(2026))


# ---------------------------------------------------------------- a decoder that can ignore z


def build_autoregressive_decoder(latent_dim: int = 16, n_pixels: int = 784, hidden: int = 500) -> keras.Model:
    """A MADE over the pixels conditioned on ``z``: ``[x (N, D), z (N, latent_dim)] -> logits (N, D)``.

    ``logits[:, d]`` depends on the pixels before ``d`` (raster order) and on ``z``: one masked
    hidden layer of ReLUs that also receives ``z``, masked logits, a direct masked linear
    path from the earlier pixels, and a linear term in ``z``. Without ``z`` it is still a
    good model of images (an autoregressive one), which is what lets a VAE ignore its code.
    """
    latent_dim, n_pixels = (
        check_positive_int(latent_dim, "latent_dim"),
        check_positive_int(n_pixels, "n_pixels"),
    )
    (to_hidden, to_logits), direct_mask = made_masks(n_pixels, [check_positive_int(hidden, "hidden")])
    x = keras.Input((n_pixels,), name="x")
    z = keras.Input((latent_dim,), name="z")
    h = keras.layers.Add()([MaskedDense(to_hidden, name="masked_hidden")(x), keras.layers.Dense(hidden)(z)])
    h = keras.layers.Activation("relu")(h)
    logits = keras.layers.Add(name="logits")(
        [
            MaskedDense(to_logits, name="masked_logits")(h),
            MaskedDense(direct_mask, use_bias=False, name="direct")(x),
            keras.layers.Dense(n_pixels, use_bias=False, name="from_z")(z),
        ]
    )
    return keras.Model([x, z], logits, name="autoregressive_decoder")


@dataclass(frozen=True)
class CollapseConfig:
    """One objective for the autoregressive-decoder VAE. Defaults: the plain ELBO.

    Attributes:
        name, label: identifier (CSV, :data:`CONFIGS`) and how tables name it.
        family: ``"plain"``, ``"established"`` (a published remedy) or ``"article"``.
        beta: the KL weight at the end of the schedule (the article's "re-weighting" when < 1).
        schedule: ``"constant"``, ``"linear"`` (KL annealing over ``warm_up`` of training) or
            ``"cyclical"`` (``cycles`` ramps, each rising over half its length).
        warm_up: fraction of training for the linear warm-up.
        cycles: number of cycles of the cyclical schedule.
        free_bits: nats per latent dimension below which the KL costs nothing (0: off).
        iw_samples: ``k`` of the importance-weighted bound trained on (1: the ELBO).
        decoder_l1, decoder_l2: the article's penalty on the decoder's kernels.
        head_start: start from the pretrained decoder (:func:`pretrained_decoder_weights`);
            False: from its random initialisation.
    """

    name: str
    label: str
    family: str = "plain"
    beta: float = 1.0
    schedule: str = "constant"
    warm_up: float = 0.5
    cycles: int = 4
    free_bits: float = 0.0
    iw_samples: int = 1
    decoder_l1: float = 0.0
    decoder_l2: float = 0.0
    head_start: bool = True

    def __post_init__(self) -> None:
        if self.family not in ("plain", "established", "article"):
            raise ValueError(f"family must be 'plain', 'established' or 'article', got {self.family!r}")
        if self.schedule not in ("constant", "linear", "cyclical"):
            raise ValueError(f"schedule must be 'constant', 'linear' or 'cyclical', got {self.schedule!r}")
        if not 0 < self.warm_up <= 1:
            raise ValueError(f"warm_up must be a fraction of training in (0, 1], got {self.warm_up!r}")
        check_positive_int(self.cycles, "cycles")
        check_positive_int(self.iw_samples, "iw_samples")
        for field in ("beta", "free_bits", "decoder_l1", "decoder_l2"):
            value = getattr(self, field)
            if not (np.isfinite(value) and value >= 0):
                raise ValueError(f"{field} must be a finite number >= 0, got {value!r}")
        if self.iw_samples > 1 and (self.free_bits or self.beta != 1 or self.schedule != "constant"):
            raise ValueError("the importance-weighted bound is trained as is: no beta, schedule or free bits")

    def kl_weights(self, total_steps: int) -> np.ndarray:
        """The KL weight of every step, ``(total_steps,)``."""
        if self.schedule == "linear":
            return vae_diagnostics.linear_warm_up(total_steps, int(self.warm_up * total_steps), self.beta)
        if self.schedule == "cyclical":
            return vae_diagnostics.cyclical_schedule(total_steps, self.cycles, 0.5, self.beta)
        return vae_diagnostics.linear_warm_up(total_steps, 0, self.beta)


CONFIGS: dict[str, CollapseConfig] = {
    c.name: c
    for c in (
        CollapseConfig("plain", "plain ELBO"),
        CollapseConfig("plain_no_head_start", "plain ELBO, no head start", head_start=False),
        CollapseConfig("annealing", "KL annealing (linear, first half)", "established", schedule="linear"),
        CollapseConfig("free_bits", "free bits (0.1 nats per dimension)", "established", free_bits=0.1),
        CollapseConfig("cyclical", "cyclical annealing (4 cycles)", "established", schedule="cyclical"),
        CollapseConfig("beta_half", "article: KL weight 0.5", "article", beta=0.5),
        CollapseConfig("iwae", "article: another method, IWAE k=5", "article", iw_samples=5),
        CollapseConfig("l2_decoder", "article: L2 on the decoder's weights", "article", decoder_l2=1e-3),
        CollapseConfig("l1_decoder", "article: L1 on the decoder's weights", "article", decoder_l1=1e-4),
    )
}


class AutoregressiveVAE(keras.Model):
    """A VAE with an MLP Gaussian encoder and the decoder of :func:`build_autoregressive_decoder`.

    Trains on ``-(E_q log p(x|z) - beta * KL_term)`` where ``KL_term`` is the KL or its
    free-bits version, or (``iw_samples > 1``) on ``-L_k``, plus the L1/L2 penalty on the
    decoder's kernels. ``beta`` is a variable that :class:`genmodels.vae_diagnostics.KLWeightSchedule`
    sets every step. The logged ``elbo`` is always the plain ELBO, in nats per image.
    """

    def __init__(
        self,
        config: CollapseConfig,
        latent_dim: int = 16,
        hidden: int = 500,
        side: int = 28,
        seed: int = 0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.config = config
        self.latent_dim = check_positive_int(latent_dim, "latent_dim")
        self.data_shape = (check_positive_int(side, "side"), side, 1)
        self.n_pixels = side * side
        self.encoder = vae.build_mlp_encoder(self.data_shape, latent_dim=latent_dim, hidden=(hidden,))
        self.decoder = build_autoregressive_decoder(latent_dim, self.n_pixels, hidden)
        self.beta = keras.Variable(float(config.beta), trainable=False, dtype="float32", name="beta")
        self.noise_seed = keras.random.SeedGenerator(seed)
        self.trackers = {n: keras.metrics.Mean(name=n) for n in ("loss", "reconstruction", "kl", "elbo")}

    @property
    def metrics(self) -> list[keras.metrics.Metric]:
        return list(self.trackers.values())

    def build_state(self) -> None:
        self.optimizer.build(self.encoder.trainable_variables + self.decoder.trainable_variables)

    def terms(self, x: tf.Tensor, samples: int = 1) -> dict[str, tf.Tensor]:
        """``x`` ``(N, 28, 28, 1)`` -> ``log_lik`` and ``log_w`` ``(samples, N)``, ``kl_per_dim`` ``(N, d)``.

        ``log_w = log p(x|z) + log p(z) - log q(z|x)`` (the IWAE weights, up to a constant).
        """
        flat = tf.reshape(tf.cast(x, tf.float32), (-1, self.n_pixels))
        mean, log_var = self.encoder(x, training=True)
        eps = keras.random.normal((samples, *tf.unstack(tf.shape(mean))), seed=self.noise_seed)
        z = mean[None] + tf.exp(0.5 * log_var)[None] * eps
        repeated = tf.reshape(
            tf.broadcast_to(flat[None], (samples, *tf.unstack(tf.shape(flat)))), (-1, self.n_pixels)
        )
        logits = self.decoder([repeated, tf.reshape(z, (-1, self.latent_dim))])
        log_lik = tf.reshape(tf.reduce_sum(repeated * logits - tf.nn.softplus(logits), axis=1), (samples, -1))
        log_q = -0.5 * tf.reduce_sum(eps**2 + log_var[None], axis=-1)
        log_prior = -0.5 * tf.reduce_sum(z**2, axis=-1)  # the log(2 pi) terms cancel in log w
        kl_per_dim = 0.5 * (tf.exp(log_var) + mean**2 - 1.0 - log_var)
        return {"log_lik": log_lik, "kl_per_dim": kl_per_dim, "log_w": log_lik + log_prior - log_q}

    def penalty(self) -> tf.Tensor:
        kernels = [w for w in self.decoder.trainable_weights if "kernel" in w.path]
        l1 = tf.add_n([tf.reduce_sum(tf.abs(w)) for w in kernels])
        l2 = tf.add_n([tf.reduce_sum(tf.square(w)) for w in kernels])
        return self.config.decoder_l1 * l1 + self.config.decoder_l2 * l2

    def train_step(self, data: object) -> dict[str, tf.Tensor]:
        x = data[0] if isinstance(data, (tuple, list)) else data
        variables = self.encoder.trainable_variables + self.decoder.trainable_variables
        k = self.config.iw_samples
        with tf.GradientTape() as tape:
            terms = self.terms(x, samples=k)
            kl = tf.reduce_sum(terms["kl_per_dim"], axis=1)
            reconstruction = tf.reduce_mean(terms["log_lik"])
            if k > 1:
                objective = tf.reduce_mean(tf.reduce_logsumexp(terms["log_w"], axis=0) - np.log(k))
            elif self.config.free_bits:
                kl_term = vae_diagnostics.free_bits_kl(terms["kl_per_dim"], self.config.free_bits)
                objective = reconstruction - self.beta * kl_term
            else:
                objective = reconstruction - self.beta * tf.reduce_mean(kl)
            loss = -objective + self.penalty()  # the penalty is added to the loss per image
        gradients = tape.gradient(loss, variables)
        self.optimizer.apply_gradients(zip(gradients, variables, strict=True))
        logs = {"loss": loss, "reconstruction": reconstruction, "kl": tf.reduce_mean(kl)}
        logs["elbo"] = logs["reconstruction"] - logs["kl"]
        for name, value in logs.items():
            self.trackers[name].update_state(value)
        return {name: tracker.result() for name, tracker in self.trackers.items()}

    def evaluate_code(self, x: np.ndarray, samples: int = 4, batch_size: int = 500) -> dict[str, object]:
        """Test-set numbers: ``elbo``, ``kl``, ``reconstruction`` (nats per image), ``active_units``,
        ``kl_per_dim`` ``(latent_dim,)`` and the encoder means ``(N, latent_dim)``."""
        x = check_batch(x, self.data_shape, (0.0, 1.0), what="x")
        log_lik, kl_parts, means = [], [], []
        for start in range(0, len(x), batch_size):
            batch = x[start : start + batch_size]
            terms = self.terms(tf.constant(batch), samples)
            log_lik.append(tf.reduce_mean(terms["log_lik"], axis=0).numpy())
            kl_parts.append(terms["kl_per_dim"].numpy())
            means.append(self.encoder(batch, training=False)[0].numpy())
        kl_per_dim, mean = np.concatenate(kl_parts), np.concatenate(means)
        reconstruction, kl = float(np.mean(np.concatenate(log_lik))), float(kl_per_dim.sum(axis=1).mean())
        return {
            "elbo": reconstruction - kl,
            "reconstruction": reconstruction,
            "kl": kl,
            "active_units": vae_diagnostics.active_units(mean)[0],
            "kl_per_dim": kl_per_dim.mean(axis=0),
            "mean": mean,
        }

    def log_likelihood(self, x: np.ndarray, z: np.ndarray) -> np.ndarray:
        """``log p(x|z)`` in nats, ``(N,)``, of images ``(N, side, side, 1)`` given codes ``(N, d)``."""
        x = check_batch(x, self.data_shape, (0.0, 1.0), what="x")
        z = check_batch(z, (self.latent_dim,), what="z")
        if len(z) != len(x):
            raise ValueError(f"one code per image: got {len(x)} images and {len(z)} codes")
        flat = tf.constant(x.reshape(len(x), self.n_pixels))
        logits = self.decoder([flat, tf.constant(z)], training=False)
        return tf.reduce_sum(flat * logits - tf.nn.softplus(logits), axis=1).numpy().astype(np.float64)

    @tf.function(reduce_retracing=True)
    def _probabilities(self, x: tf.Tensor, z: tf.Tensor) -> tf.Tensor:
        return tf.sigmoid(self.decoder([x, z], training=False))

    def decode(self, z: np.ndarray, seed: int = 0) -> np.ndarray:
        """Binary images ``(N, side, side, 1)`` drawn from ``p(x|z)`` one pixel per decoder pass."""
        z = check_batch(z, (self.latent_dim,), what="z")
        rng = np.random.default_rng(seed)
        x = np.zeros((len(z), self.n_pixels), np.float32)
        uniforms = rng.random((self.n_pixels, len(z)), dtype=np.float32)
        for d in range(self.n_pixels):
            x[:, d] = uniforms[d] < self._probabilities(tf.constant(x), tf.constant(z)).numpy()[:, d]
        return x.reshape(-1, *self.data_shape)


# ---------------------------------------------------------------- one run, cached


@dataclass(frozen=True)
class CollapseBudget:
    """Training size of a collapse run: the first ``n_train`` images, ``epochs``, batch and Adam rate.

    ``pretrain_epochs``: epochs of the decoder's head start, trained without ``z``
    (:func:`pretrained_decoder_weights`).
    """

    n_train: int = 10_000
    epochs: int = 4
    batch_size: int = 100
    learning_rate: float = 1e-3
    latent_dim: int = 16
    hidden: int = 300
    side: int = 14
    pretrain_epochs: int = 15
    seed: int = 0


def pretrained_decoder_weights(budget: CollapseBudget, train_x: np.ndarray) -> list[np.ndarray]:
    """The decoder trained for ``budget.pretrain_epochs`` as a plain autoregressive model (``z = 0``).

    Its weights from ``z`` are zero: it starts the VAE ignoring the code, with a head start
    on modelling the pixels, the situation a strong decoder reaches early in training
    (Bowman et al. 2016; He et al. 2019). ``train_x``: intensities ``(N, side, side, 1)``.
    Cached as ``.npz`` under the checkpoint directory.
    """
    path = training.checkpoint_dir("posterior_collapse_runs") / f"decoder_{_budget_tag(budget)}.npz"
    if path.is_file():
        with np.load(path) as saved:
            return [saved[f"w{i}"] for i in range(len(saved.files))]
    training.set_seed(budget.seed)
    n_pixels = budget.side**2
    decoder = build_autoregressive_decoder(budget.latent_dim, n_pixels, budget.hidden)
    optimizer = keras.optimizers.Adam(budget.learning_rate)
    zeros = tf.zeros((budget.batch_size, budget.latent_dim))

    @tf.function
    def step(x: tf.Tensor) -> None:
        flat = tf.reshape(x, (-1, n_pixels))
        with tf.GradientTape() as tape:
            logits = decoder([flat, zeros])
            loss = -tf.reduce_mean(tf.reduce_sum(flat * logits - tf.nn.softplus(logits), axis=1))
        gradients = tape.gradient(loss, decoder.trainable_variables)
        optimizer.apply_gradients(zip(gradients, decoder.trainable_variables, strict=True))

    stream = vae.DynamicallyBinarized(train_x[: budget.n_train], budget.batch_size, seed=budget.seed + 1)
    for _ in range(budget.pretrain_epochs):
        stream.on_epoch_begin()
        for index in range(len(stream)):
            step(tf.constant(stream[index]))
    weights = [
        w if not _from_z(decoder, i) else np.zeros_like(w) for i, w in enumerate(decoder.get_weights())
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **{f"w{i}": w for i, w in enumerate(weights)})
    return weights


def _from_z(decoder: keras.Model, index: int) -> bool:
    """Whether weight ``index`` of ``decoder.get_weights()`` is a kernel applied to ``z``."""
    weight = decoder.weights[index]
    return len(weight.shape) == 2 and weight.shape[0] == decoder.inputs[1].shape[-1]


def train_collapse_run(
    config: CollapseConfig | str,
    budget: CollapseBudget = CollapseBudget(),
    train_x: np.ndarray | None = None,
    kl_weights: np.ndarray | None = None,
    directory: str | Path | None = None,
) -> AutoregressiveVAE:
    """Train the autoregressive-decoder VAE with ``config``; its decoder starts pretrained.

    The decoder starts from :func:`pretrained_decoder_weights` (ignoring ``z``; unless the config
    has no ``head_start``), the encoder from its random initialisation.

    ``kl_weights`` ``(total_steps,)`` replaces the config's schedule. Resumes from ``directory``
    (default: a checkpoint directory named after the config and the budget).
    """
    config = CONFIGS[config] if isinstance(config, str) else config
    if train_x is None:
        train_x, _ = fashion_data(budget.n_train, budget.side)
    train_x = train_x[: budget.n_train]
    decoder_weights = pretrained_decoder_weights(budget, train_x) if config.head_start else None
    training.set_seed(budget.seed)
    model = AutoregressiveVAE(config, budget.latent_dim, budget.hidden, budget.side, seed=budget.seed)
    model.compile(optimizer=keras.optimizers.Adam(budget.learning_rate))
    if decoder_weights is not None:
        model.decoder.set_weights(decoder_weights)
    stream = vae.DynamicallyBinarized(train_x, budget.batch_size, seed=budget.seed)
    total_steps = budget.epochs * len(stream)
    weights = config.kl_weights(total_steps) if kl_weights is None else np.asarray(kl_weights)
    if weights.shape != (total_steps,):
        raise ValueError(
            f"kl_weights must have shape ({total_steps},): one weight per step, got {weights.shape}"
        )
    directory = directory or training.checkpoint_dir(f"posterior_collapse_{_run_tag(config, budget)}")
    training.fit_resumable(
        model, stream, budget.epochs, directory, callbacks=[vae_diagnostics.KLWeightSchedule(weights)]
    )
    return model


def _run_tag(config: CollapseConfig, budget: CollapseBudget) -> str:
    """A file name for one run: the config's name, a fingerprint of its settings, the budget."""
    fingerprint = zlib.crc32(repr(dataclasses.astuple(config)).encode())
    return f"{config.name}_{fingerprint:08x}_{_budget_tag(budget)}"


def _budget_tag(budget: CollapseBudget) -> str:
    return (
        f"n{budget.n_train}_e{budget.epochs}_b{budget.batch_size}_d{budget.latent_dim}_h{budget.hidden}"
        f"_x{budget.side}_p{budget.pretrain_epochs}_lr{budget.learning_rate:g}_s{budget.seed}"
    )


def collapse_run(
    config: CollapseConfig | str, budget: CollapseBudget = CollapseBudget(), test_x: np.ndarray | None = None
) -> dict[str, object]:
    """Train (or read back) one collapse run and measure it on the test set: a CSV row plus ``kl_per_dim``."""
    config = CONFIGS[config] if isinstance(config, str) else config
    train_x, default_test = fashion_data(budget.n_train, budget.side)
    test_x = default_test if test_x is None else test_x
    path = training.checkpoint_dir("posterior_collapse_runs") / f"{_run_tag(config, budget)}.npz"
    if path.is_file():
        with np.load(path) as saved:
            return {key: (saved[key] if saved[key].ndim else saved[key].item()) for key in saved.files}
    start = time.perf_counter()
    model = train_collapse_run(config, budget, train_x)
    seconds = time.perf_counter() - start
    measured = model.evaluate_code(test_x)
    row = {
        "experiment": "collapse",
        "name": config.name,
        "label": config.label,
        "family": config.family,
        "beta": config.beta,
        "rate": measured["kl"],
        "distortion": -measured["reconstruction"],
        "elbo": measured["elbo"],
        "active_units": measured["active_units"],
        "seconds": round(seconds, 1),
        "seed": budget.seed,
        "kl_per_dim": measured["kl_per_dim"],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **row)
    return row


EXERCISE_BUDGET = CollapseBudget()  # the chapter's budget: the plain run is already cached


def schedule_run(
    schedule: Callable[[int], np.ndarray], budget: CollapseBudget = EXERCISE_BUDGET
) -> dict[str, object]:
    """Train the collapsing VAE with KL weights ``schedule(total_steps)`` (not cached) and measure it."""
    train_x, test_x = fashion_data(budget.n_train, budget.side)
    total_steps = budget.epochs * (budget.n_train // budget.batch_size)
    config = CollapseConfig("your_schedule", "your schedule", "established")
    with tempfile.TemporaryDirectory() as directory:
        model = train_collapse_run(config, budget, train_x, schedule(total_steps), directory)
    measured = model.evaluate_code(test_x)
    return {"rate": measured["kl"], "elbo": measured["elbo"], "active_units": measured["active_units"]}


# ---------------------------------------------------------------- the β sweep


def sweep_recipe(beta: float, epochs: int = SWEEP_EPOCHS) -> vae.Recipe:
    """The VAE chapter's recipe with KL weight ``beta`` (warmed up to it) and ``epochs`` epochs."""
    return dataclasses.replace(vae.Recipe(), beta=float(beta), epochs=epochs)


def beta_model(beta: float, train_x: np.ndarray, n_train: int = 10_000, epochs: int = 4) -> vae.VAE:
    """A brief version of a sweep run, for a chapter: the recipe with ``beta`` on ``n_train`` images."""
    recipe = dataclasses.replace(sweep_recipe(beta, epochs), warm_up_epochs=min(3.0, epochs / 2))
    directory = training.checkpoint_dir(f"vae_beta_{beta:g}_e{epochs}_n{n_train}")
    model, _ = recipe.train(train_x[:n_train], directory)
    return model


def beta_run(beta: float, epochs: int = SWEEP_EPOCHS, n_train: int | None = None) -> dict[str, object]:
    """Train the recipe with ``beta`` (resuming) and measure rate, distortion and active units."""
    train_x, test_x = fashion_data(n_train)
    recipe = sweep_recipe(beta, epochs)
    start = time.perf_counter()
    directory = training.checkpoint_dir(f"vae_beta_{beta:g}_e{epochs}_n{len(train_x)}")
    model, _ = recipe.train(train_x, directory)
    seconds = time.perf_counter() - start
    point = vae_diagnostics.rate_distortion(model.encoder, model.decoder, test_x, samples=4, seed=0)
    mean, _ = model.encode(test_x)
    return {
        "experiment": "beta_sweep",
        "name": f"beta_{beta:g}",
        "label": f"β = {beta:g}",
        "family": "beta",
        "beta": beta,
        "rate": point.rate,
        "distortion": point.distortion,
        "elbo": point.elbo,
        "active_units": vae_diagnostics.active_units(mean)[0],
        "seconds": round(seconds, 1),
        "seed": recipe.seed,
    }


FIELDS = [
    "experiment",
    "name",
    "label",
    "family",
    "beta",
    "rate",
    "distortion",
    "elbo",
    "active_units",
    "seconds",
    "seed",
]


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m genmodels.experiments posterior_collapse [--betas ...] [--configs ...] [--out PATH]``."""
    parser = argparse.ArgumentParser(
        prog="python -m genmodels.experiments posterior_collapse", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--betas", nargs="*", type=float, default=list(BETAS), help="KL weights of the sweep")
    parser.add_argument("--epochs", type=int, default=SWEEP_EPOCHS, help="epochs of each sweep run")
    parser.add_argument("--configs", nargs="*", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--out", type=Path, default=DEFAULT_CSV)
    args = parser.parse_args(list(argv or []))
    header = results.provenance("python -m genmodels.experiments posterior_collapse " + " ".join(argv or []))
    budget = CollapseBudget()
    header["beta_sweep"] = f"vae.Recipe with beta, {args.epochs} epochs on 60,000 images; test: 2,000 images"
    header["collapse"] = f"autoregressive-decoder VAE, {budget}"
    header["seconds"] = (
        "wall-clock seconds of each run in this invocation; a run restored from its checkpoint "
        "(GENMODELS_CHECKPOINT_DIR) shows only the time to restore and measure it"
    )
    jobs = [("beta", b) for b in args.betas] + [("collapse", c) for c in args.configs]
    rows: list[dict[str, object]] = []
    start = time.perf_counter()
    for done, (kind, what) in enumerate(jobs):
        results.progress_bar(done, len(jobs), start, f"{kind} {what}", sys.stderr)
        row = beta_run(what, args.epochs) if kind == "beta" else collapse_run(what, budget)
        rows.append({key: row[key] for key in FIELDS})
        header["total_minutes"] = f"{(time.perf_counter() - start) / 60:.1f}"
        results.write_csv(rows, args.out, header, FIELDS)
    results.progress_bar(len(jobs), len(jobs), start, "done", sys.stderr)
    print(f"\nwrote {len(rows)} runs to {args.out} in {header['total_minutes']} min")
    return 0
