"""The generalisation sweep of the book's VAE: data size, model size and augmentation.

It measures the train/test gap of the VAE's bound, and whether its samples sit closer to its
training images than to new ones.

One run trains a variant of :class:`genmodels.vae.Recipe` on the first ``n_train``
Fashion-MNIST training images for a fixed number of gradient steps (not epochs: with 1,000
images an epoch is 7 steps, and the same number of *epochs* would hardly train the model),
then measures (nats per image, on images binarised once):

* ``train_nll``, ``test_nll``: the negative importance-weighted bound ``-L_100`` on 2,000 of
  the run's training images (all of them when there are fewer) and 2,000 test images;
* ``train_nll_elbo``, ``test_nll_elbo``: the negative ELBO on up to 10,000 of the run's
  training images and on the 10,000 test images, and ``gap`` = their difference, the
  generalisation gap of the bound, with its standard error ``gap_se`` (one image's NLL
  varies by tens of nats, so small evaluation sets would leave the gap uncertain by several);
* ``test_nll_shoes``, ``test_nll_other``: ``test_nll`` of the shoes (sandals, sneakers, ankle
  boots, which all point left: a flip makes shoes the test set does not have) and of the
  other garments; ``test_kl``: the mean KL of ``q(z|x)`` on the test images;
* ``closer_to_train``: the share of 1,000 samples whose nearest training image is nearer than
  their nearest test image, with equally many of each (:func:`genmodels.neighbours.closer_to_train`).

The sweep is one command::

    python -m genmodels.experiments generalisation

which writes ``book/results/generalisation.csv`` (provenance header, one row per run). Same
seed, same numbers: a run depends only on its :class:`Run`.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from genmodels import augmentation, data, neighbours, results, training, vae
from genmodels.validation import check_positive_int

STEPS_PER_EPOCH = 468  # the VAE chapter's epoch on 60,000 images: 468 batches of 128
EPOCHS = 8  # half the VAE chapter's 16: 3,744 steps per run
WARM_UP_EPOCHS = 1.5  # the KL warm-up covers the same share of the run as in the VAE chapter
N_EVAL = 2_000  # training and test images the bound L_100 is measured on
N_GAP = 10_000  # at most this many training images, and the test images, in the gap of the ELBO
N_SAMPLES = 1_000  # samples of the copying measure
MAX_REFERENCE = 10_000  # at most this many training (and as many test) images in the copying measure
IW_SAMPLES = 100  # k of the importance-weighted bound
SHOE_CLASSES = (5, 7, 9)  # sandal, sneaker, ankle boot: all face left in Fashion-MNIST
HIDDEN = {"small": (128, 64), "default": (512, 256), "large": (1024, 512)}
DEFAULT_CSV = Path("book") / "results" / "generalisation.csv"
HOW_TO_MAKE = "python -m genmodels.experiments generalisation"
CSV_FIELDS = (
    "n_train",
    "model",
    "augmentation",
    "order",
    "seed",
    "steps",
    "passes",
    "train_nll_elbo",
    "test_nll_elbo",
    "train_nll",
    "test_nll",
    "gap",
    "gap_se",
    "test_nll_shoes",
    "test_nll_other",
    "test_kl",
    "closer_to_train",
    "seconds",
)


@dataclass(frozen=True)
class Run:
    """One configuration of the sweep.

    Attributes:
        n_train: training images (the first ``n_train`` of Fashion-MNIST's training set).
        model: ``"small"``, ``"default"`` or ``"large"``: the hidden widths :data:`HIDDEN`.
        augmentation: a key of :data:`genmodels.augmentation.AUGMENTATIONS`.
        order: ``"shuffled"`` (a new order every pass) or ``"fixed"`` (always the stored order).
        seed: seed of the initial weights, the order, the augmentation and the binarisation.
    """

    n_train: int
    model: str = "default"
    augmentation: str = "none"
    order: str = "shuffled"
    seed: int = 0

    def __post_init__(self) -> None:
        check_positive_int(self.n_train, "n_train")
        if self.n_train < 128:
            raise ValueError(f"n_train must be at least one batch (128 images), got {self.n_train}")
        if self.model not in HIDDEN:
            raise ValueError(f"model must be one of {sorted(HIDDEN)}, got {self.model!r}")
        if self.augmentation not in augmentation.AUGMENTATIONS:
            raise ValueError(
                f"augmentation must be one of {sorted(augmentation.AUGMENTATIONS)}, got {self.augmentation!r}"
            )
        if self.order not in ("shuffled", "fixed"):
            raise ValueError(f"order must be 'shuffled' or 'fixed', got {self.order!r}")

    @property
    def name(self) -> str:
        """A file-system-safe name, also the checkpoint folder's."""
        return f"generalisation_{self.n_train}_{self.model}_{self.augmentation}_{self.order}_{self.seed}"

    def recipe(self) -> vae.Recipe:
        """The VAE chapter's recipe with this run's hidden widths, seed and budget."""
        return dataclasses.replace(
            vae.Recipe(),
            hidden=HIDDEN[self.model],
            epochs=EPOCHS,
            warm_up_epochs=WARM_UP_EPOCHS,
            seed=self.seed,
        )


def train_variant(
    run: Run,
    train_images: np.ndarray,
    directory: str | Path | None = None,
    augment: augmentation.Augmentation | None = None,
) -> vae.VAE:
    """Train ``run``'s VAE on ``train_images[:run.n_train]`` for ``EPOCHS * STEPS_PER_EPOCH`` steps.

    Resumes from ``directory`` (default: ``training.checkpoint_dir(run.name)``).

    Args:
        train_images: intensities in [0, 1], ``(N, 28, 28, 1)`` with ``N >= run.n_train``.
        augment: a function ``f(images, rng) -> images`` used instead of ``run.augmentation``;
            it needs its own ``directory``.
    """
    if len(train_images) < run.n_train:
        raise ValueError(f"the run needs {run.n_train} training images, got {len(train_images)}")
    if augment is not None and directory is None:
        raise ValueError(
            "give a custom augmentation its own directory, e.g. training.checkpoint_dir('my_augmentation'): "
            f"the default one, {run.name}, holds the run without it"
        )
    recipe = run.recipe()
    model = recipe.build(STEPS_PER_EPOCH * recipe.batch_size)  # the schedule of a fixed number of steps
    directory = directory or training.checkpoint_dir(run.name)
    first_epoch = training.TrainingCheckpoint(model, directory).restore()  # a resumed run's stream continues
    stream = augmentation.TrainingStream(
        train_images[: run.n_train],
        recipe.batch_size,
        STEPS_PER_EPOCH,
        seed=run.seed,
        augmentation=augment or augmentation.AUGMENTATIONS[run.augmentation],
        order=run.order,
        first_epoch=first_epoch,
    )
    warm_up = vae.KLWarmUp(recipe.warm_up_epochs, STEPS_PER_EPOCH, recipe.beta)
    training.fit_resumable(model, stream, recipe.epochs, directory, print_every=EPOCHS, callbacks=[warm_up])
    return model


def negative_bounds(
    model: vae.VAE, images: np.ndarray, seed: int = 0, ks: Sequence[int] | None = None
) -> dict[str, np.ndarray]:
    """Per-image ``-ELBO`` (one sample), ``-L_k`` and the KL, in nats; each ``(N,)``.

    ``images`` are binary ``(N, 28, 28, 1)``; ``ks`` default ``(1, IW_SAMPLES)``. Returns
    ``nll_elbo`` (``-L_1``), ``nll`` (``-L_k`` for the largest ``k``) and ``kl``.
    """
    ks = ks or (1, IW_SAMPLES)
    bounds = vae.importance_weighted_bounds(model.encoder, model.decoder, images, ks=ks, seed=seed)
    mean, log_var = model.encode(images)
    return {
        "nll_elbo": -bounds[1],
        "nll": -bounds[max(ks)],
        "kl": keras.ops.convert_to_numpy(vae.gaussian_kl(mean, log_var)),
    }


def memoriser_log_likelihood(images: np.ndarray, train: np.ndarray, smoothing: float = 0.05) -> np.ndarray:
    """``log p(x)`` in nats under the model that memorises ``train``: one Bernoulli component per image.

    ``p(x) = (1/N) sum_n prod_j Bernoulli(x_j; p_nj)`` with ``p_n`` the training intensities
    squeezed into ``[smoothing, 1 - smoothing]``. Its samples are its training images (plus
    binarisation noise): a model that copies, scored exactly.

    Args:
        images: binary images ``(M, 28, 28, 1)``.
        train: training intensities in [0, 1], ``(N, 28, 28, 1)``.
        smoothing: how far each component's pixel probabilities stay from 0 and 1, in (0, 0.5).

    Returns:
        float64 ``(M,)``, nats per image.
    """
    from scipy.special import logsumexp

    if not 0.0 < smoothing < 0.5:
        raise ValueError(f"smoothing must lie strictly between 0 and 0.5, got {smoothing!r}")
    images = np.asarray(images, np.float64).reshape(len(images), -1)
    p = smoothing + (1.0 - 2.0 * smoothing) * np.asarray(train, np.float64).reshape(len(train), -1)
    if images.shape[1] != p.shape[1]:
        raise ValueError(f"images have {images.shape[1]} pixels but the training images {p.shape[1]}")
    log_components = images @ np.log(p).T + (1.0 - images) @ np.log1p(-p).T  # (M, N)
    return logsumexp(log_components, axis=1) - np.log(len(p))


@dataclass(frozen=True)
class Data:
    """The images every run uses: training intensities, and fixed binarised evaluation sets."""

    train: np.ndarray  # (60000, 28, 28, 1) intensities
    test: np.ndarray  # (10000, 28, 28, 1) intensities
    test_eval: np.ndarray  # (N_EVAL, 28, 28, 1) binary: test[:N_EVAL] binarised once
    test_eval_labels: np.ndarray  # (N_EVAL,)

    @classmethod
    def load(cls) -> Data:
        train_images, _ = data.load_fashion_mnist("train")
        test_images, test_labels = data.load_fashion_mnist("test")
        test = data.to_unit_interval(test_images)
        test_eval = data.binarize(test[:N_EVAL], np.random.default_rng(2026))  # as in the VAE chapter
        return cls(data.to_unit_interval(train_images), test, test_eval, test_labels[:N_EVAL])

    def train_eval(self, n_train: int, limit: int | None = None) -> np.ndarray:
        """The first ``min(n_train, limit)`` training images of a run, binarised once; binary.

        ``limit`` defaults to ``N_EVAL``.
        """
        return data.binarize(self.train[: min(n_train, limit or N_EVAL)], np.random.default_rng(2027))

    def test_gap(self) -> np.ndarray:
        """The first ``N_GAP`` test images, binarised once (the first ``N_EVAL`` as in ``test_eval``)."""
        rest = data.binarize(self.test[N_EVAL:N_GAP], np.random.default_rng(2029))
        return np.concatenate([self.test_eval, rest])


def gap_of_the_elbo(model: vae.VAE, train_images: np.ndarray, test_images: np.ndarray) -> dict[str, float]:
    """Mean ``-ELBO`` of binary training and test images, their difference (test minus training)
    and its standard error, all in nats per image."""
    train = negative_bounds(model, train_images, seed=4, ks=(1,))["nll_elbo"]
    test = negative_bounds(model, test_images, seed=5, ks=(1,))["nll_elbo"]
    standard_error = np.sqrt(train.var(ddof=1) / len(train) + test.var(ddof=1) / len(test))
    return {
        "train_nll_elbo": float(train.mean()),
        "test_nll_elbo": float(test.mean()),
        "gap": float(test.mean() - train.mean()),
        "gap_se": float(standard_error),
    }


def measure(model: vae.VAE, run: Run, images: Data) -> dict[str, object]:
    """The CSV row of a trained ``run`` (without ``seconds``): bounds, gap, per-group bounds, copying."""
    train_bounds = negative_bounds(model, images.train_eval(run.n_train), seed=1)
    test_bounds = negative_bounds(model, images.test_eval, seed=2)
    gap = gap_of_the_elbo(model, images.train_eval(run.n_train, N_GAP), images.test_gap())
    shoes = np.isin(images.test_eval_labels, SHOE_CLASSES)
    n_reference = min(run.n_train, MAX_REFERENCE)
    samples = model.sample(N_SAMPLES, seed=3)
    steps = EPOCHS * STEPS_PER_EPOCH
    return {
        **dataclasses.asdict(run),
        "steps": steps,
        "passes": steps * run.recipe().batch_size / run.n_train,
        "train_nll": float(train_bounds["nll"].mean()),
        "test_nll": float(test_bounds["nll"].mean()),
        **gap,
        "test_nll_shoes": float(test_bounds["nll"][shoes].mean()),
        "test_nll_other": float(test_bounds["nll"][~shoes].mean()),
        "test_kl": float(test_bounds["kl"].mean()),
        "closer_to_train": neighbours.closer_to_train(
            samples, images.train[:n_reference], images.test[:n_reference]
        ),
    }


def run_row(run: Run, images: Data | None = None, directory: str | Path | None = None) -> dict[str, object]:
    """Train (or restore) ``run`` and measure it: one CSV row, with the training ``seconds``
    (read from the checkpoint folder's history, so a restored run reports them too)."""
    images = images or Data.load()
    directory = directory or training.checkpoint_dir(run.name)
    model = train_variant(run, images.train, directory)
    seconds = sum(training.load_history(directory).get("epoch_seconds", []))
    return {**measure(model, run, images), "seconds": round(seconds, 1)}


def sweep_runs(seed: int = 0) -> list[Run]:
    """The sweep: data size x model size (shuffled, no augmentation); augmentations and a fixed
    order on the default model."""
    runs = [
        Run(n, model, seed=seed) for n in (1_000, 6_000, 60_000) for model in ("small", "default", "large")
    ]
    runs += [Run(n, augmentation=a, seed=seed) for a in ("flip", "shift") for n in (1_000, 6_000, 60_000)]
    runs += [Run(1_000, order="fixed", seed=seed)]
    return runs


def read_csv(path: str | Path = DEFAULT_CSV) -> tuple[dict[str, str], list[dict[str, object]]]:
    """``(header, rows)`` of the results file; says how to make it when it is missing."""
    return results.read_csv(path, how_to_make=HOW_TO_MAKE)


def find_row(rows: Sequence[dict[str, object]], run: Run) -> dict[str, object]:
    """The row of ``rows`` that holds ``run``; KeyError naming the run when there is none."""
    key = dataclasses.asdict(run)
    for row in rows:
        if all(row[field] == value for field, value in key.items()):
            return row
    raise KeyError(f"no row for {run} in the results: run `{HOW_TO_MAKE}`")


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m genmodels.experiments generalisation [--seed S] [--sizes N ...] [--out PATH]``."""
    parser = argparse.ArgumentParser(
        prog="python -m genmodels.experiments generalisation", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of every run (default 0)")
    parser.add_argument("--sizes", type=int, nargs="+", help="only the runs with these n_train")
    parser.add_argument("--out", type=Path, default=DEFAULT_CSV, help=f"CSV to write (default {DEFAULT_CSV})")
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    runs = [r for r in sweep_runs(args.seed) if args.sizes is None or r.n_train in args.sizes]
    header = results.provenance(
        ("python -m genmodels.experiments generalisation " + " ".join(argv or [])).strip()
    )
    header["budget"] = (
        f"{EPOCHS} epochs of {STEPS_PER_EPOCH} steps of batch {vae.Recipe().batch_size} per run; "
        f"L_{IW_SAMPLES} on {N_EVAL} training and {N_EVAL} test images; the gap of the ELBO on up to "
        f"{N_GAP} training and {N_GAP} test images"
    )
    images, rows, start = Data.load(), [], time.perf_counter()
    results.progress_bar(0, len(runs), start, "", sys.stderr)
    for run in runs:
        rows.append(run_row(run, images))
        header["runs"] = f"{len(rows)} of {len(runs)}"
        header["total_minutes"] = f"{(time.perf_counter() - start) / 60:.1f}"
        results.write_csv(rows, args.out, header, CSV_FIELDS)  # after every run: a partial file is usable
        results.progress_bar(
            len(rows), len(runs), start, run.name.removeprefix("generalisation_"), sys.stderr
        )
    sys.stderr.write("\n")
    print(f"wrote {len(rows)} runs to {args.out} in {header['total_minutes']} min")
    return 0
