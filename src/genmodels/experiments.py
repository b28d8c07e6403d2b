"""The mode-collapse experiments: 2-D GANs with and without remedies, measured and tabulated.

One run trains one :class:`Method` on one mixture (the 8-Gaussian ring or the 25-Gaussian
grid) with one seed, then measures 2,500 samples with :func:`genmodels.metrics.mode_coverage`
(the VEEGAN / PacGAN protocol). :func:`cached_run` stores each run's samples and numbers
as ``.npz`` under :func:`genmodels.training.checkpoint_dir`, so a chapter run twice does
not train twice. The full table is one command::

    python -m genmodels.experiments mode_collapse          # or: make experiments

which trains every method on both mixtures with 5 seeds, shows a progress bar, and writes
``book/results/mode_collapse.csv`` with the command, package versions, date and one row
per run. Same seed, same numbers: a run is seeded from ``(method, mixture, seed)`` alone.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import os
import sys
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from genmodels import data, gan, remedies, results, training
from genmodels.metrics import ModeReport, mode_coverage
from genmodels.validation import check_positive_int

# ---------------------------------------------------------------- the two benchmarks


@dataclass(frozen=True)
class Mixture:
    """A benchmark mixture: equal-weight isotropic Gaussians at ``centers`` ``(M, 2)``."""

    name: str
    centers: np.ndarray
    std: float


MIXTURES: dict[str, Mixture] = {
    "ring": Mixture("ring", data.ring_centers(), data.RING_STD),
    "grid": Mixture("grid", data.grid_centers(), data.GRID_STD),
}

N_EVAL_SAMPLES = 2_500  # the published protocol


# ---------------------------------------------------------------- methods


@dataclass(frozen=True)
class Method:
    """One training recipe. Defaults are the plain non-saturating GAN with Adam.

    Attributes:
        name: short identifier used in the CSV and in :data:`METHODS`.
        label: how tables and figures name it.
        family: ``"plain"``, ``"article"`` (a remedy the article recommends) or
            ``"established"`` (a published remedy).
        generator_loss: ``"non_saturating"``, ``"minimax"`` or ``"wasserstein"`` (the
            latter with a critic: no sigmoid, WGAN-GP's losses).
        optimizer: ``"adam"`` (beta_1 = 0.5) or ``"sgd"`` (plain SGD, no momentum).
        g_learning_rate, d_learning_rate: initial learning rates.
        decay: decay both learning rates linearly to 1% of their initial value by the
            last step (True), or keep them constant.
        pack_size: PacGAN's ``m`` (1 = no packing).
        minibatch_std: add a minibatch standard-deviation feature to the discriminator.
        spectral_norm: spectral normalisation of every discriminator layer.
        gradient_penalty: WGAN-GP's ``lambda`` (0 = none).
        d_steps: discriminator steps per generator step.
        g_l1, g_l2: the article's penalty on the generator's weights (kernels only).
        unroll_steps, unroll_learning_rate: unrolled GAN's look-ahead (0 = none).
        unroll_optimizer: the look-ahead's update: ``"sgd"`` (plain steps of
            ``unroll_learning_rate``) or ``"adam"`` (the discriminator's own Adam update,
            continuing from its current moment estimates and learning rate, as in Metz et al.
            2017; ``unroll_learning_rate`` is then unused).
        generator_hidden, discriminator_hidden: hidden widths of the two MLPs.
        generator_batch_norm: batch normalisation after every hidden layer of the generator.
        latent_dim: size of the generator's input ``z``.
        steps_factor: the run trains ``steps_factor`` times the budget's steps (1 = the
            budget of :data:`BUDGET`, shared by the other recipes).
    """

    name: str
    label: str
    family: str = "plain"
    generator_loss: str = "non_saturating"
    optimizer: str = "adam"
    g_learning_rate: float = 1e-3
    d_learning_rate: float = 1e-3
    decay: bool = True
    pack_size: int = 1
    minibatch_std: bool = False
    spectral_norm: bool = False
    gradient_penalty: float = 0.0
    d_steps: int = 1
    g_l1: float = 0.0
    g_l2: float = 0.0
    unroll_steps: int = 0
    unroll_learning_rate: float = 0.0
    unroll_optimizer: str = "sgd"
    generator_hidden: tuple[int, ...] = (128, 128, 128)
    discriminator_hidden: tuple[int, ...] = (128, 128, 128)
    generator_batch_norm: bool = False
    latent_dim: int = 2
    steps_factor: int = 1

    def __post_init__(self) -> None:
        if self.generator_loss not in ("non_saturating", "minimax", "wasserstein"):
            raise ValueError(
                f"generator_loss must be 'non_saturating', 'minimax' or 'wasserstein', "
                f"got {self.generator_loss!r}"
            )
        if self.optimizer not in ("adam", "sgd"):
            raise ValueError(f"optimizer must be 'adam' or 'sgd', got {self.optimizer!r}")
        if self.family not in ("plain", "article", "established"):
            raise ValueError(f"family must be 'plain', 'article' or 'established', got {self.family!r}")
        if self.unroll_optimizer not in ("sgd", "adam"):
            raise ValueError(f"unroll_optimizer must be 'sgd' or 'adam', got {self.unroll_optimizer!r}")
        for field in ("pack_size", "d_steps", "latent_dim", "steps_factor"):
            check_positive_int(getattr(self, field), field)
        if min(self.g_learning_rate, self.d_learning_rate) <= 0:
            raise ValueError("learning rates must be positive")
        for field in ("generator_hidden", "discriminator_hidden"):
            if not isinstance(getattr(self, field), tuple):
                raise TypeError(
                    f"{field} must be a tuple of widths, e.g. (128, 128), got {getattr(self, field)!r}"
                )

    def fingerprint(self) -> str:
        """8 hex digits that change whenever a training setting changes (name, label and family
        aside). Only settings that differ from the defaults enter, so adding a new setting
        with a default that keeps the old behaviour leaves existing fingerprints alone."""
        changed = [
            (f.name, getattr(self, f.name))
            for f in dataclasses.fields(self)
            if f.name not in ("name", "label", "family") and getattr(self, f.name) != f.default
        ]
        return f"{zlib.crc32(repr(changed).encode()):08x}"


METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method("gan_minimax", "GAN, minimax loss", generator_loss="minimax"),
        Method("gan", "GAN, non-saturating loss"),
        Method(
            "gan_fast",
            "GAN, constant learning rate 1e-2",
            g_learning_rate=1e-2,
            d_learning_rate=1e-2,
            decay=False,
        ),
        Method("lr_ratio", "article: D learns 4x faster (TTUR-like)", "article", d_learning_rate=4e-3),
        Method(
            "sgd",
            "article: SGD instead of Adam",
            "article",
            optimizer="sgd",
            g_learning_rate=0.05,
            d_learning_rate=0.05,
        ),
        Method("l2_generator", "article: L2 on G's weights", "article", g_l2=1e-4),
        Method("minibatch_std", "minibatch std-dev", "established", minibatch_std=True),
        Method("spectral_norm", "spectral normalisation", "established", spectral_norm=True),
        Method("pacgan2", "PacGAN2 (packs of 2)", "established", pack_size=2),
        Method("pacgan4", "PacGAN4 (packs of 4)", "established", pack_size=4),
        Method("pacgan2_long", "PacGAN2, twice the steps", "established", pack_size=2, steps_factor=2),
        Method("pacgan4_long", "PacGAN4, twice the steps", "established", pack_size=4, steps_factor=2),
        Method(
            "wgan_gp",
            "WGAN-GP",
            "established",
            generator_loss="wasserstein",
            gradient_penalty=0.1,
            d_steps=5,
            g_learning_rate=1e-3,
            d_learning_rate=1e-3,
        ),
        Method(
            "unrolled",
            "unrolled GAN (5 Adam steps)",
            "established",
            unroll_steps=5,
            unroll_optimizer="adam",
        ),
    )
}


# ---------------------------------------------------------------- the model


def _optimizer(kind: str, learning_rate: float, steps: int, decay: bool) -> keras.optimizers.Optimizer:
    schedule = (
        keras.optimizers.schedules.PolynomialDecay(learning_rate, steps, 0.01 * learning_rate)
        if decay
        else learning_rate
    )
    if kind == "adam":
        return keras.optimizers.Adam(schedule, beta_1=0.5)
    return keras.optimizers.SGD(schedule)


class ToyGAN(keras.Model):
    """A GAN on a 2-D mixture that owns its networks, optimizers, noise and data stream.

    Real points are drawn inside the graph (a random centre plus Gaussian noise), so a
    step is one ``tf.function`` call with no Python in the loop. :meth:`train` runs steps
    in chunks and stops early when a loss turns NaN (the run is then marked diverged).

    Args:
        method: the recipe.
        mixture: the data.
        total_steps: training length (the learning rates decay over it).
        batch_size: points per step (a multiple of ``method.pack_size``).
        seed: seeds the weights, the noise and the data stream.
        pack_function: how ``(N, 2)`` points become ``(N / m, 2 m)`` packs
            (:func:`genmodels.remedies.pack`; an exercise swaps in its own).
    """

    def __init__(
        self,
        method: Method,
        mixture: Mixture,
        total_steps: int,
        batch_size: int = 256,
        seed: int = 0,
        pack_function: Callable[[tf.Tensor, int], tf.Tensor] = remedies.pack,
    ) -> None:
        super().__init__(name=f"toygan_{method.name}")
        self.pack = pack_function
        check_positive_int(batch_size, "batch_size")
        if batch_size % method.pack_size:
            raise ValueError(f"batch_size {batch_size} must be a multiple of pack_size {method.pack_size}")
        self.method, self.mixture = method, mixture
        self.batch_size, self.latent_dim = batch_size, method.latent_dim
        keras.utils.set_random_seed(seed)
        self.generator = (
            remedies.build_batch_norm_generator(method.latent_dim, 2, method.generator_hidden)
            if method.generator_batch_norm
            else gan.build_mlp_generator(method.latent_dim, 2, method.generator_hidden)
        )
        self.discriminator = remedies.build_discriminator(
            2, method.discriminator_hidden, method.pack_size, method.minibatch_std, method.spectral_norm
        )
        self.g_optimizer = _optimizer(method.optimizer, method.g_learning_rate, total_steps, method.decay)
        self.d_optimizer = _optimizer(
            method.optimizer, method.d_learning_rate, total_steps * method.d_steps, method.decay
        )
        if method.unroll_steps and method.unroll_optimizer == "adam":
            if method.optimizer != "adam":
                raise ValueError("an Adam look-ahead needs optimizer='adam' for the discriminator")
            self.d_optimizer.build(self.discriminator.trainable_variables)  # its moments exist from step 0
        self.noise = keras.random.SeedGenerator(seed)
        self.centers = tf.constant(mixture.centers, tf.float32)
        self.steps_done = 0
        self._run_steps = tf.function(self._steps)  # one graph per model: no retracing

    # -- one step

    def real_batch(self) -> tf.Tensor:
        """``(batch_size, 2)`` points of the mixture, drawn in the graph."""
        which = keras.random.randint((self.batch_size,), 0, len(self.mixture.centers), seed=self.noise)
        jitter = keras.random.normal((self.batch_size, 2), seed=self.noise)
        return tf.gather(self.centers, which) + self.mixture.std * jitter

    def fake_batch(self) -> tf.Tensor:
        z = keras.random.normal((self.batch_size, self.latent_dim), seed=self.noise)
        return self.generator(z, training=True)  # batch statistics when the generator normalises

    def d_loss(self, real: tf.Tensor, fake: tf.Tensor) -> tf.Tensor:
        m = self.method
        real_p, fake_p = self.pack(real, m.pack_size), self.pack(fake, m.pack_size)
        real_logits = self.discriminator(real_p, training=True)
        fake_logits = self.discriminator(fake_p, training=True)
        if m.generator_loss == "wasserstein":
            loss = tf.reduce_mean(fake_logits) - tf.reduce_mean(real_logits)
        else:
            loss = gan.discriminator_loss(real_logits, fake_logits)
        if m.gradient_penalty:
            loss += m.gradient_penalty * remedies.gradient_penalty(
                self.discriminator, real_p, fake_p, self.noise
            )
        return loss

    def g_loss(self, fake: tf.Tensor) -> tf.Tensor:
        m = self.method
        losses = {
            "non_saturating": gan.generator_loss_non_saturating,
            "minimax": gan.generator_loss_minimax,
            "wasserstein": lambda logits: -tf.reduce_mean(logits),
        }
        fake_p = self.pack(fake, m.pack_size)
        if m.unroll_steps:
            real_p = self.pack(self.real_batch(), m.pack_size)
            if m.unroll_optimizer == "adam":
                loss = remedies.unrolled_generator_loss_adam(
                    self.discriminator,
                    self.d_optimizer,
                    real_p,
                    fake_p,
                    losses[m.generator_loss],
                    m.unroll_steps,
                )
            else:
                loss = remedies.unrolled_generator_loss(
                    self.discriminator,
                    real_p,
                    fake_p,
                    losses[m.generator_loss],
                    m.unroll_steps,
                    m.unroll_learning_rate,
                )
        else:
            loss = losses[m.generator_loss](self.discriminator(fake_p, training=True))
        if m.g_l1 or m.g_l2:
            kernels = [w for w in self.generator.trainable_weights if "kernel" in w.path]
            loss += remedies.weight_penalty(kernels, m.g_l1, m.g_l2)
        return loss

    def one_step(self) -> dict[str, tf.Tensor]:
        """``d_steps`` discriminator updates, then one generator update."""
        for _ in range(self.method.d_steps):
            real, fake = self.real_batch(), self.fake_batch()
            with tf.GradientTape() as tape:
                d_loss = self.d_loss(real, fake)
            weights = self.discriminator.trainable_variables
            self.d_optimizer.apply_gradients(zip(tape.gradient(d_loss, weights), weights, strict=True))
        with tf.GradientTape() as tape:
            g_loss = self.g_loss(self.fake_batch())
        weights = self.generator.trainable_variables
        self.g_optimizer.apply_gradients(zip(tape.gradient(g_loss, weights), weights, strict=True))
        return {"d_loss": d_loss, "g_loss": g_loss}

    def _steps(self, n: tf.Tensor) -> dict[str, tf.Tensor]:
        logs = {"d_loss": tf.constant(0.0), "g_loss": tf.constant(0.0)}
        for _ in tf.range(n):
            logs = self.one_step()
        return logs

    def train(self, steps: int) -> bool:
        """Run ``steps`` steps; returns False (and stops) as soon as a loss is not finite."""
        chunk = 100
        done = 0
        while done < steps:
            n = min(chunk, steps - done)
            logs = self._run_steps(tf.constant(n))
            done += n
            self.steps_done += n
            if not all(np.isfinite(float(v)) for v in logs.values()):
                return False
        return True

    def sample(self, n: int, seed: int) -> np.ndarray:
        """``(n, 2)`` generated points from a fixed numpy noise seed."""
        z = np.random.default_rng(seed).standard_normal((n, self.latent_dim)).astype(np.float32)
        return keras.ops.convert_to_numpy(self.generator(z, training=False))

    def discriminator_map(self, limit: float, resolution: int = 80) -> np.ndarray:
        """``D(x) = sigmoid(logit)`` on a ``resolution x resolution`` grid over ``[-limit, limit]^2``.

        Only for unpacked discriminators without the minibatch feature (a single point has a
        well-defined score only then); rows are y, columns x.
        """
        if self.method.pack_size != 1 or self.method.minibatch_std:
            raise ValueError("the discriminator map needs a discriminator that scores single points")
        axis = np.linspace(-limit, limit, resolution, dtype=np.float32)
        xx, yy = np.meshgrid(axis, axis)
        logits = self.discriminator(np.stack([xx.ravel(), yy.ravel()], 1), training=False)
        return keras.ops.convert_to_numpy(tf.sigmoid(logits)).reshape(resolution, resolution)


# ---------------------------------------------------------------- one run


@dataclass
class RunResult:
    """What one run produced. ``samples`` are the 2,500 evaluation points (NaN if diverged)."""

    method: str
    mixture: str
    seed: int
    steps: int
    batch_size: int
    samples: np.ndarray
    seconds: float
    diverged: bool
    report: ModeReport | None
    snapshot_steps: np.ndarray
    snapshot_samples: np.ndarray
    snapshot_modes: np.ndarray
    snapshot_d_maps: np.ndarray

    def row(self) -> dict[str, object]:
        """One CSV row: the run's settings and numbers (NaN metrics when diverged)."""
        r = self.report
        return {
            "method": self.method,
            "mixture": self.mixture,
            "seed": self.seed,
            "steps": self.steps,
            "batch_size": self.batch_size,
            "modes": r.modes if r else float("nan"),
            "modes_strict": r.modes_strict if r else float("nan"),
            "high_quality": round(r.high_quality, 6) if r else float("nan"),
            "reverse_kl": round(r.reverse_kl, 6) if r else float("nan"),
            "seconds": round(self.seconds, 2),
            "diverged": int(self.diverged),
        }


def run_seed(method: str, mixture: str, seed: int) -> int:
    """The seed actually used: a fixed function of (method, mixture, seed), so runs are independent."""
    return zlib.crc32(f"{method}/{mixture}/{seed}".encode()) % 2**31


def train_run(
    method: Method | str,
    mixture: str,
    seed: int,
    steps: int,
    batch_size: int = 256,
    snapshot_every: int = 0,
    d_map_limit: float = 0.0,
    pack_function: Callable[[tf.Tensor, int], tf.Tensor] = remedies.pack,
) -> RunResult:
    """Train one method on one mixture and measure it with the published protocol.

    Args:
        method: a :class:`Method` or a key of :data:`METHODS`.
        mixture: ``"ring"`` or ``"grid"``.
        seed: the run's seed (0, 1, 2, ...); the same seed gives the same numbers.
        steps: generator steps.
        batch_size: points per step.
        snapshot_every: every so many steps keep 2,500 samples and their covered modes
            (0: no snapshots).
        d_map_limit: with snapshots, also keep ``D(x)`` on ``[-limit, limit]^2`` (0: no map).
        pack_function: see :class:`ToyGAN`.

    Returns:
        a :class:`RunResult`; a run whose loss or samples become NaN is marked ``diverged``.
    """
    if isinstance(method, str):
        if method not in METHODS:
            raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
        method = METHODS[method]
    if mixture not in MIXTURES:
        raise ValueError(f"mixture must be one of {sorted(MIXTURES)}, got {mixture!r}")
    steps = check_positive_int(steps, "steps")
    mix = MIXTURES[mixture]
    sub_seed = run_seed(method.name, mixture, seed)
    training.set_seed(sub_seed)
    model = ToyGAN(method, mix, steps, batch_size, sub_seed, pack_function=pack_function)
    snap_steps, snap_samples, snap_modes, snap_maps = [], [], [], []

    def snapshot() -> None:
        points = model.sample(N_EVAL_SAMPLES, seed=sub_seed + 1)
        snap_steps.append(model.steps_done)
        snap_samples.append(points)
        finite = np.all(np.isfinite(points))
        snap_modes.append(mode_coverage(points, mix.centers, mix.std).modes if finite else -1)
        if d_map_limit:
            snap_maps.append(model.discriminator_map(d_map_limit))

    start = time.perf_counter()
    finite = True
    if snapshot_every:
        snapshot()
        while finite and model.steps_done < steps:
            finite = model.train(min(snapshot_every, steps - model.steps_done))
            snapshot()
    else:
        finite = model.train(steps)
    seconds = time.perf_counter() - start
    samples = model.sample(N_EVAL_SAMPLES, seed=sub_seed + 1)
    diverged = not finite or not np.all(np.isfinite(samples))
    report = None if diverged else mode_coverage(samples, mix.centers, mix.std)
    return RunResult(
        method.name,
        mixture,
        seed,
        steps,
        batch_size,
        samples,
        seconds,
        diverged,
        report,
        np.array(snap_steps, np.int64),
        np.array(snap_samples, np.float32).reshape(-1, N_EVAL_SAMPLES, 2),
        np.array(snap_modes, np.int64),
        np.array(snap_maps, np.float32),
    )


def _save(result: RunResult, path: Path) -> None:
    arrays = {f.name: getattr(result, f.name) for f in dataclasses.fields(result) if f.name != "report"}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")  # two processes never share a half-written file
    np.savez_compressed(tmp, **arrays)
    tmp.replace(path)


def _load(path: Path) -> RunResult:
    with np.load(path) as f:
        values = {k: f[k] for k in f.files}
    mixture = str(values["mixture"])
    mix = MIXTURES[mixture]
    diverged = bool(values["diverged"])
    samples = values["samples"]
    return RunResult(
        method=str(values["method"]),
        mixture=mixture,
        seed=int(values["seed"]),
        steps=int(values["steps"]),
        batch_size=int(values["batch_size"]),
        samples=samples,
        seconds=float(values["seconds"]),
        diverged=diverged,
        report=None if diverged else mode_coverage(samples, mix.centers, mix.std),
        snapshot_steps=values["snapshot_steps"],
        snapshot_samples=values["snapshot_samples"],
        snapshot_modes=values["snapshot_modes"],
        snapshot_d_maps=values["snapshot_d_maps"],
    )


def cached_run(
    method: Method | str,
    mixture: str,
    seed: int,
    steps: int,
    batch_size: int = 256,
    snapshot_every: int = 0,
    d_map_limit: float = 0.0,
    cache: str | Path | None = None,
) -> RunResult:
    """:func:`train_run`, stored as ``.npz`` and loaded instead of retrained when asked again.

    The file lives in ``cache`` (default ``training.checkpoint_dir("mode_collapse")``) and
    its name holds every setting, the recipe's :meth:`Method.fingerprint` included, so a
    changed recipe or setting trains afresh instead of loading a stale run. A loaded run
    keeps the wall time of the run that trained it.
    """
    if isinstance(method, str):
        if method not in METHODS:
            raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
        method = METHODS[method]
    name = f"{method.name}-{method.fingerprint()}"
    folder = Path(cache) if cache is not None else training.checkpoint_dir("mode_collapse")
    path = folder / f"{name}_{mixture}_s{seed}_n{steps}_b{batch_size}_e{snapshot_every}_d{d_map_limit:g}.npz"
    if path.is_file():
        return _load(path)
    result = train_run(method, mixture, seed, steps, batch_size, snapshot_every, d_map_limit)
    _save(result, path)
    return result


# ---------------------------------------------------------------- the full table

# Training budget per mixture: (generator steps, batch size). The papers train far longer
# (PacGAN: 40,000+ steps of batch 100 with larger networks); these fit a CPU sweep.
BUDGET: dict[str, tuple[int, int]] = {"ring": (4000, 512), "grid": (8000, 512)}

# The methods of the full table per mixture. WGAN-GP and unrolling cost about 5 times more
# per step; on the grid they are left out of the sweep to keep it within a CPU budget, and
# so is the constant-learning-rate GAN (the plain GAN collapses there anyway). The longer
# packing runs are for the grid, where the budget is what limits packing.
SWEEP_METHODS: dict[str, tuple[str, ...]] = {
    "ring": tuple(m for m in METHODS if METHODS[m].steps_factor == 1),
    "grid": tuple(m for m in METHODS if m not in ("wgan_gp", "unrolled", "gan_fast")),
}

# The published rows (mean over runs): VEEGAN Table 1 (Srivastava et al. 2017) and PacGAN
# Table 1 (Lin et al. 2018). None: not reported. "GAN" spans the range over the papers.
PUBLISHED: list[dict[str, object]] = [
    {
        "mixture": "ring",
        "method": "GAN",
        "modes": "1-6.3",
        "high_quality": None,
        "reverse_kl": None,
        "source": "srivastava2017veegan,lin2018pacgan",
    },
    {
        "mixture": "ring",
        "method": "Unrolled GAN",
        "modes": 7.6,
        "high_quality": 35.6,
        "reverse_kl": None,
        "source": "srivastava2017veegan",
    },
    {
        "mixture": "ring",
        "method": "VEEGAN",
        "modes": 8.0,
        "high_quality": 52.9,
        "reverse_kl": None,
        "source": "srivastava2017veegan",
    },
    {
        "mixture": "ring",
        "method": "PacGAN2",
        "modes": 7.9,
        "high_quality": 95.6,
        "reverse_kl": 0.07,
        "source": "lin2018pacgan",
    },
    {
        "mixture": "grid",
        "method": "GAN",
        "modes": "3.3-17.3",
        "high_quality": None,
        "reverse_kl": None,
        "source": "srivastava2017veegan,lin2018pacgan",
    },
    {
        "mixture": "grid",
        "method": "Unrolled GAN",
        "modes": 23.6,
        "high_quality": 16.0,
        "reverse_kl": None,
        "source": "srivastava2017veegan",
    },
    {
        "mixture": "grid",
        "method": "VEEGAN",
        "modes": 24.6,
        "high_quality": 40.0,
        "reverse_kl": None,
        "source": "srivastava2017veegan",
    },
    {
        "mixture": "grid",
        "method": "PacGAN4",
        "modes": 24.8,
        "high_quality": 93.6,
        "reverse_kl": 0.04,
        "source": "lin2018pacgan",
    },
]

CSV_FIELDS = (
    "method",
    "mixture",
    "seed",
    "steps",
    "batch_size",
    "modes",
    "modes_strict",
    "high_quality",
    "reverse_kl",
    "seconds",
    "diverged",
)
DEFAULT_CSV = Path("book/results/mode_collapse.csv")
HOW_TO_MAKE = "make experiments"  # or: python -m genmodels.experiments mode_collapse


def _run_row(job: tuple[str, str, int, int, int, str | None]) -> dict[str, object]:
    """One job of :func:`sweep` (a top-level function, so worker processes can run it)."""
    method, mixture, seed, steps, batch, cache = job
    return cached_run(method, mixture, seed, steps * METHODS[method].steps_factor, batch, cache=cache).row()


def sweep(
    methods: Sequence[str] | dict[str, Sequence[str]],
    mixtures: Sequence[str],
    seeds: Sequence[int],
    budget: dict[str, tuple[int, int]] | None = None,
    cache: str | Path | None = None,
    workers: int = 1,
    progress: io.TextIOBase | None = None,
    on_row: Callable[[list[dict[str, object]]], None] | None = None,
) -> list[dict[str, object]]:
    """Train every (seed, mixture, method) with :func:`cached_run`; one CSV row per run.

    ``methods`` is one list for every mixture, or a dict ``{mixture: methods}``.

    Jobs run seed by seed (within a seed, method by method on every mixture), so an
    interrupted sweep has whole seeds done, and the cache
    (``cache``, default ``training.checkpoint_dir("mode_collapse")``) makes a restarted one
    skip what is finished. ``workers`` processes train in parallel (each run is seeded on
    its own, so the numbers do not depend on it). ``progress`` is a stream for the progress
    bar (None: silent); ``on_row(rows)`` is called with the rows so far after each run.
    """
    budget = budget or BUDGET
    per_mixture = methods if isinstance(methods, dict) else dict.fromkeys(mixtures, methods)
    unknown = [m for mix in mixtures for m in per_mixture[mix] if m not in METHODS]
    if unknown:
        raise ValueError(f"unknown methods {unknown}; choose from {', '.join(METHODS)}")
    check_positive_int(workers, "workers")
    cache = str(cache) if cache is not None else None
    every_method = list(dict.fromkeys(m for mix in mixtures for m in per_mixture[mix]))
    jobs = [
        (m, mix, s, *budget[mix], cache)
        for s in seeds
        for m in every_method
        for mix in mixtures
        if m in per_mixture[mix]
    ]
    order = {job[:3]: i for i, job in enumerate(jobs)}  # (method, mixture, seed) -> place in the table

    def in_order(done: list[dict[str, object]]) -> list[dict[str, object]]:
        return sorted(done, key=lambda r: order[(r["method"], r["mixture"], r["seed"])])

    rows: list[dict[str, object]] = []
    start = time.perf_counter()

    def record(row: dict[str, object]) -> None:
        rows.append(row)
        if progress:
            label = f"{row['mixture']}/{row['method']}/seed {row['seed']}"
            results.progress_bar(len(rows), len(jobs), start, label, progress)
        if on_row:
            on_row(in_order(rows))

    if progress:
        results.progress_bar(0, len(jobs), start, "", progress)
    if workers == 1:
        for job in jobs:
            record(_run_row(job))
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            for future in as_completed([pool.submit(_run_row, job) for job in jobs]):
                record(future.result())
    if progress:
        progress.write("\n")
    return in_order(rows)


def write_csv(rows: Sequence[dict[str, object]], path: str | Path, header: dict[str, str]) -> Path:
    """Write the mode-collapse rows (columns :data:`CSV_FIELDS`) after the ``header`` comment lines."""
    return results.write_csv(rows, path, header, CSV_FIELDS)


def read_csv(path: str | Path = DEFAULT_CSV) -> tuple[dict[str, str], list[dict[str, object]]]:
    """``(header, rows)`` of a mode-collapse results file; says how to make it when it is missing."""
    return results.read_csv(path, how_to_make=HOW_TO_MAKE)


def find_results(name: str = "mode_collapse.csv", repo_url: str | None = None) -> Path:
    """:func:`genmodels.results.find_results` for this experiment's file."""
    return results.find_results(name, repo_url, how_to_make=HOW_TO_MAKE)


def summarise(rows: Sequence[dict[str, object]]) -> list[dict[str, object]]:
    """Mean and sample standard deviation per (mixture, method) over the runs that did not diverge.

    Returns one dict per group, in the order of first appearance, with ``runs``,
    ``diverged``, ``all_modes`` (runs that covered every mode) and ``<metric>_mean`` /
    ``<metric>_sd`` for modes, modes_strict, high_quality (%), reverse_kl and seconds.
    """
    groups: dict[tuple[str, str], list[dict[str, object]]] = {}
    for row in rows:
        groups.setdefault((str(row["mixture"]), str(row["method"])), []).append(row)
    table = []
    for (mixture, method), runs in groups.items():
        ok = [r for r in runs if not r["diverged"]]
        entry: dict[str, object] = {
            "mixture": mixture,
            "method": method,
            "runs": len(runs),
            "diverged": len(runs) - len(ok),
        }
        n_modes = len(MIXTURES[mixture].centers)
        entry["all_modes"] = sum(1 for r in ok if r["modes"] == n_modes)
        for key in ("modes", "modes_strict", "high_quality", "reverse_kl", "seconds"):
            values = np.array([float(r[key]) for r in ok], float)
            if key == "high_quality":
                values = 100 * values
            entry[f"{key}_mean"] = float(values.mean()) if len(values) else float("nan")
            entry[f"{key}_sd"] = float(values.std(ddof=1)) if len(values) > 1 else float("nan")
        table.append(entry)
    return table


def _mean_sd(entry: dict[str, object], key: str, digits: int) -> str:
    mean, sd = float(entry[f"{key}_mean"]), float(entry[f"{key}_sd"])
    if not np.isfinite(mean):
        return "—"
    return f"{mean:.{digits}f} ± {sd:.{digits}f}" if np.isfinite(sd) else f"{mean:.{digits}f}"


def markdown_table(summary: Sequence[dict[str, object]], mixture: str) -> str:
    """Our rows (mean ± sd over seeds) and the published rows for one mixture, as Markdown."""
    n_modes = len(MIXTURES[mixture].centers)
    lines = [
        f"| method | modes (of {n_modes}) | runs with all {n_modes} | strict modes | high quality (%) "
        "| reverse KL | seconds per run |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for entry in summary:
        if entry["mixture"] != mixture:
            continue
        method = METHODS[str(entry["method"])] if entry["method"] in METHODS else None
        label = method.label if method else str(entry["method"])
        ok = int(entry["runs"]) - int(entry["diverged"])
        runs = f"{entry['all_modes']}/{ok}" + (
            f" ({entry['diverged']} diverged)" if entry["diverged"] else ""
        )
        lines.append(
            f"| {label} | {_mean_sd(entry, 'modes', 1)} | {runs} | {_mean_sd(entry, 'modes_strict', 1)} "
            f"| {_mean_sd(entry, 'high_quality', 1)} | {_mean_sd(entry, 'reverse_kl', 3)} "
            f"| {_mean_sd(entry, 'seconds', 0)} |"
        )
    for row in PUBLISHED:
        if row["mixture"] != mixture:
            continue
        cells = [row[k] if row[k] is not None else "—" for k in ("modes", "high_quality", "reverse_kl")]
        lines.append(f"| *published:* {row['method']} | {cells[0]} | — | — | {cells[1]} | {cells[2]} | — |")
    return "\n".join(lines)


# The other long experiments live beside the chapter code they serve; each module has a
# ``main(argv) -> int`` taking the options after the experiment's name.
OTHER_EXPERIMENTS = {
    "posterior_collapse": "genmodels.posterior_collapse",
    "generalisation": "genmodels.generalisation",
}


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m genmodels.experiments NAME [options]`` (NAME: ``mode_collapse``
    or one of :data:`OTHER_EXPERIMENTS`; ``--help`` after NAME lists its options)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in OTHER_EXPERIMENTS:
        import importlib

        return importlib.import_module(OTHER_EXPERIMENTS[argv[0]]).main(argv[1:])
    parser = argparse.ArgumentParser(
        prog="python -m genmodels.experiments", description=__doc__.split("\n")[0]
    )
    parser.add_argument("experiment", choices=["mode_collapse", *OTHER_EXPERIMENTS])
    parser.add_argument("--seeds", type=int, default=5, help="seeds per method and mixture (default 5)")
    parser.add_argument("--methods", nargs="+", help="methods to run (default: SWEEP_METHODS)")
    parser.add_argument("--mixtures", nargs="+", default=list(MIXTURES), choices=list(MIXTURES))
    parser.add_argument("--workers", type=int, default=2, help="parallel processes (default 2)")
    parser.add_argument("--out", type=Path, default=DEFAULT_CSV, help=f"CSV to write (default {DEFAULT_CSV})")
    args = parser.parse_args(argv)
    command = "python -m genmodels.experiments " + " ".join(argv)
    header = results.provenance(command.strip())
    longer = [f"{m.name} {m.steps_factor}x" for m in METHODS.values() if m.steps_factor > 1]
    header["budget"] = "; ".join(f"{k}: {s} steps of batch {b}" for k, (s, b) in BUDGET.items()) + (
        f"; longer: {', '.join(longer)}" if longer else ""
    )
    methods = {mix: args.methods or SWEEP_METHODS[mix] for mix in args.mixtures}
    total = args.seeds * sum(len(m) for m in methods.values())
    start = time.perf_counter()

    def save(rows: list[dict[str, object]]) -> None:  # after every run: a partial file is usable
        header["runs"] = f"{len(rows)} of {total}"
        header["total_minutes"] = f"{(time.perf_counter() - start) / 60:.1f}"
        write_csv(rows, args.out, header)

    rows = sweep(
        methods, args.mixtures, range(args.seeds), workers=args.workers, progress=sys.stderr, on_row=save
    )
    save(rows)
    print(f"wrote {len(rows)} runs to {args.out} in {header['total_minutes']} min")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
