"""Seeding, checkpoints that resume, and guards for long training runs.

A reader's training must survive a dropped Colab session: :func:`fit_resumable` saves a
checkpoint (networks, optimizers, random state, epoch) after every epoch and, when run
again with the same folder, continues where it stopped. In Colab, point the folder at a
mounted Google Drive (``GENMODELS_CHECKPOINT_DIR``) so that it outlives the runtime.
"""

from __future__ import annotations

import json
import os
import random
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

CHECKPOINT_ENV_VAR = "GENMODELS_CHECKPOINT_DIR"
_KERAS_VERSION = tuple(int(part) for part in keras.__version__.split(".")[:2])


class TrainingDivergedError(RuntimeError):
    """A loss became NaN or infinite; training stopped."""


class CheckpointError(RuntimeError):
    """A checkpoint cannot be restored into this model (corrupt, or another architecture)."""


def set_seed(seed: int) -> None:
    """Seed Python, NumPy, TensorFlow and Keras so a run can be repeated number for number.

    Also makes TensorFlow's kernels deterministic (a few ops get slower, none of ours much).
    """
    random.seed(seed)
    np.random.seed(seed)
    keras.utils.set_random_seed(seed)
    if _KERAS_VERSION < (3, 13):  # older Keras keeps its global SeedGenerator: unseeded draws differ
        from keras.src.backend.common import global_state

        global_state.set_global_attribute("global_seed_generator", None)
    tf.config.experimental.enable_op_determinism()


def checkpoint_dir(name: str, root: str | os.PathLike | None = None) -> Path:
    """``root / name`` where root is the argument, ``$GENMODELS_CHECKPOINT_DIR`` or ``./checkpoints``."""
    base = Path(root or os.environ.get(CHECKPOINT_ENV_VAR) or "checkpoints")
    return base / name


def _trackables(model: keras.Model) -> dict[str, object]:
    """Everything a checkpoint of ``model`` must hold: the model and its optimizer(s)."""
    items: dict[str, object] = {"model": model}
    for attribute in ("optimizer", "g_optimizer", "d_optimizer"):
        optimizer = getattr(model, attribute, None)
        if optimizer is not None:
            items[attribute] = optimizer
    # A keras.random.SeedGenerator is not tracked by tf.train.Checkpoint; its state variable is.
    noise = getattr(model, "noise_seed", None)
    if noise is not None:
        items["noise_state"] = noise.state
    return items


class TrainingCheckpoint:
    """A ``tf.train.Checkpoint`` of a compiled model, its optimizers and the epoch counter.

    Args:
        model: a compiled model. It must be built; models of this package have
            ``build_state()``, which also creates the optimizers' slots.
        directory: where checkpoints go; created when missing.
        max_to_keep: how many recent checkpoints to keep.
    """

    def __init__(self, model: keras.Model, directory: str | os.PathLike, max_to_keep: int = 2):
        if hasattr(model, "build_state"):
            model.build_state()
        elif not model.built:
            raise ValueError("build the model (call it on a batch) before checkpointing it")
        self.directory = Path(directory)
        self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")
        self._checkpoint = tf.train.Checkpoint(epoch=self.epoch, **_trackables(model))
        self._manager = tf.train.CheckpointManager(
            self._checkpoint, str(self.directory), max_to_keep=max_to_keep
        )

    @property
    def latest(self) -> str | None:
        """Path prefix of the newest checkpoint, or None."""
        return self._manager.latest_checkpoint

    def save(self, epoch: int) -> str:
        """Save everything with the number of finished epochs; returns the path prefix."""
        self.epoch.assign(epoch)
        return self._manager.save(checkpoint_number=epoch)

    def restore(self, path: str | None = None) -> int:
        """Restore ``path`` (default: the newest); returns the finished epochs (0 if none).

        Raises:
            CheckpointError: the file is unreadable, or was written by another architecture.
        """
        path = path or self.latest
        if path is None:
            return 0
        status = None
        try:
            status = self._checkpoint.restore(path)
            status.assert_existing_objects_matched()
        except (ValueError, AssertionError, tf.errors.InvalidArgumentError) as error:
            first = str(error).strip().splitlines()[0][:300]
            raise CheckpointError(
                f"checkpoint {path} does not fit this model: it was written by another "
                f"architecture or with other sizes ({first}). Use a new checkpoint folder, "
                "or rebuild the model exactly as it was when the checkpoint was saved."
            ) from None
        except (tf.errors.DataLossError, tf.errors.NotFoundError, tf.errors.OpError, IndexError) as error:
            # IndexError: TensorFlow's reader on a truncated .data file ("Read less bytes than requested")
            first = str(error).strip().splitlines()[0][:300]
            raise CheckpointError(
                f"checkpoint {path} is corrupt or incomplete ({first}). Delete the folder "
                f"{self.directory} to start again, or restore an older checkpoint."
            ) from None
        finally:
            # Whatever the checkpoint holds beyond this model (e.g. the manager's save counter)
            # was checked above or reported as an error: no "unrestored values" log at exit.
            if status is not None:
                status.expect_partial()
        return int(self.epoch.numpy())


HISTORY_FILE = "history.json"


def load_history(directory: str | os.PathLike) -> dict[str, list[float]]:
    """Per-epoch metrics of every epoch saved in ``directory``, across resumed runs.

    Returns ``{metric: [value of epoch 1, epoch 2, ...]}``, including ``epoch_seconds``, the
    wall-clock seconds each epoch took (so a resumed run still knows the total training
    time); empty when nothing was saved.
    """
    path = Path(directory) / HISTORY_FILE
    return json.loads(path.read_text()) if path.is_file() else {}


class CheckpointEachEpoch(keras.callbacks.Callback):
    """Saves a :class:`TrainingCheckpoint` after each epoch whose losses are all finite.

    The epoch's metrics go to ``history.json`` beside the checkpoint (see
    :func:`load_history`), so a resumed run still has the loss curve of the epochs before it.
    """

    def __init__(self, checkpoint: TrainingCheckpoint):
        super().__init__()
        self.checkpoint = checkpoint
        self._epoch_start = time.perf_counter()

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch_start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        if not all(np.isfinite(v) for v in logs.values()):
            return
        logs = {**logs, "epoch_seconds": time.perf_counter() - self._epoch_start}
        self.checkpoint.save(epoch + 1)
        history = load_history(self.checkpoint.directory)
        for key, value in logs.items():
            # Keep the epochs before this one only: a resumed run overwrites what came after.
            history[key] = [*history.get(key, [])[:epoch], float(value)]
        path = self.checkpoint.directory / HISTORY_FILE
        path.with_suffix(".tmp").write_text(json.dumps(history))
        path.with_suffix(".tmp").replace(path)


class StopOnNonFinite(keras.callbacks.Callback):
    """Stops at the first NaN/inf loss, restores the last good checkpoint and says why.

    Keras' own ``TerminateOnNaN`` stops silently and leaves the broken weights in place;
    this raises :class:`TrainingDivergedError` instead, after putting the last good
    weights back (when a checkpoint exists).
    """

    def __init__(self, checkpoint: TrainingCheckpoint | None = None):
        super().__init__()
        self.checkpoint = checkpoint

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        bad = {k: float(v) for k, v in (logs or {}).items() if not np.isfinite(float(v))}
        if not bad:
            return
        self.model.stop_training = True
        restored = ""
        if self.checkpoint is not None and self.checkpoint.latest is not None:
            epochs = self.checkpoint.restore()
            restored = f" The weights of the last good checkpoint (epoch {epochs}) were restored."
        raise TrainingDivergedError(
            f"training diverged at batch {batch}: {bad}.{restored} Usual causes: a learning "
            "rate too high, data not scaled as the model expects, or log(0) in a hand-written "
            "loss (use the losses from logits in genmodels)."
        )


class EpochPrinter(keras.callbacks.Callback):
    """Prints one short line every ``every`` epochs: epoch, metrics, seconds so far."""

    def __init__(self, every: int = 1):
        super().__init__()
        self.every = max(1, int(every))
        self._start = 0.0

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if (epoch + 1) % self.every:
            return
        metrics = "  ".join(f"{k} {float(v):.4f}" for k, v in sorted((logs or {}).items()))
        print(f"epoch {epoch + 1:4d}  {metrics}  ({time.perf_counter() - self._start:.0f} s)")


def fit_resumable(
    model: keras.Model,
    data: object,
    epochs: int,
    directory: str | os.PathLike,
    print_every: int = 1,
    **fit_kwargs,
) -> tuple[keras.callbacks.History | None, int]:
    """Train ``model`` for ``epochs`` epochs in total, resuming from ``directory`` if possible.

    Epochs already in the newest checkpoint are skipped, so running the same cell twice
    (or after a dropped session) continues instead of starting over. A NaN loss stops
    training with :class:`TrainingDivergedError` and the last good checkpoint restored.
    ``fit_kwargs`` go to ``model.fit``; a ``tf.data.Dataset`` is read in its own order.

    Returns:
        ``(history, start_epoch)``: Keras' history of the epochs run now (None when the
        checkpoint had finished them all) and the epoch training resumed from.
    """
    checkpoint = TrainingCheckpoint(model, directory)
    start = checkpoint.restore()
    if start >= epochs:
        print(f"all {epochs} epochs already trained (checkpoint {checkpoint.latest}); nothing to do")
        return None, start
    if start:
        print(f"resuming from epoch {start} ({checkpoint.latest})")
    callbacks = [
        StopOnNonFinite(checkpoint),
        CheckpointEachEpoch(checkpoint),
        EpochPrinter(print_every),
        *fit_kwargs.pop("callbacks", []),
    ]
    fit_kwargs.setdefault("verbose", 0)
    if isinstance(data, tf.data.Dataset):
        # A Dataset shuffles itself (.shuffle()); Keras' default shuffle=True would only warn.
        fit_kwargs.setdefault("shuffle", False)
    history = model.fit(data, epochs=epochs, initial_epoch=start, callbacks=callbacks, **fit_kwargs)
    return history, start
