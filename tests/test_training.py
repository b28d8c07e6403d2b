"""genmodels.training: seeding, checkpoints, resuming, and the guard against diverged runs."""

from __future__ import annotations

import os
import random
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from genmodels import data, gan, training
from genmodels.training import CheckpointError, TrainingDivergedError

POINTS = data.ring(1024, np.random.default_rng(0))  # 4 batches of 256 per epoch

# Keras' own get_weights() trips a NumPy 2 deprecation inside Keras; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")


def weights(model: keras.Model) -> list[np.ndarray]:
    return [np.array(w) for w in model.get_weights()]


def optimizer_state(model: gan.GAN) -> list[np.ndarray]:
    variables = (v for opt in (model.g_optimizer, model.d_optimizer) for v in opt.variables)
    return [keras.ops.convert_to_numpy(v) for v in variables]


def assert_all_equal(a: list[np.ndarray], b: list[np.ndarray]) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)


def differs(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return any(not np.array_equal(x, y) for x, y in zip(a, b, strict=True))


# ---------------------------------------------------------------- seeding


def test_set_seed_repeats_numpy_python_and_keras():
    draws = []
    for _ in range(2):
        training.set_seed(7)
        draws.append(
            (
                np.random.rand(4),
                random.random(),
                keras.ops.convert_to_numpy(keras.random.normal((4,))),
                keras.ops.convert_to_numpy(keras.random.uniform((3,), seed=keras.random.SeedGenerator())),
            )
        )
    for first, second in zip(*draws, strict=True):
        np.testing.assert_array_equal(first, second)
    training.set_seed(8)
    assert not np.array_equal(np.random.rand(4), draws[0][0])


def _short_gan_fit(seed: int) -> list[np.ndarray]:
    training.set_seed(seed)  # the only source of randomness: no seed is passed below
    model = gan.GAN(gan.build_mlp_generator(2, hidden=(16,)), gan.build_mlp_discriminator(hidden=(16,)))
    model.compile(g_optimizer=keras.optimizers.Adam(1e-3), d_optimizer=keras.optimizers.Adam(1e-3))
    model.fit(POINTS, batch_size=128, epochs=1, verbose=0)  # shuffled by Keras, too
    return weights(model)


def test_set_seed_repeats_a_gan_fit():
    first, second = _short_gan_fit(3), _short_gan_fit(3)
    assert_all_equal(first, second)
    assert differs(first, _short_gan_fit(4))


# ---------------------------------------------------------------- checkpoints


def test_checkpoint_dir(tmp_path, monkeypatch):
    monkeypatch.delenv(training.CHECKPOINT_ENV_VAR, raising=False)
    assert training.checkpoint_dir("run") == Path("checkpoints") / "run"
    monkeypatch.setenv(training.CHECKPOINT_ENV_VAR, str(tmp_path))
    assert training.checkpoint_dir("run") == tmp_path / "run"
    assert training.checkpoint_dir("run", root=tmp_path / "x") == tmp_path / "x" / "run"


def test_checkpoint_round_trip(tmp_path, make_ring_gan):
    model = make_ring_gan(seed=0)
    model.fit(POINTS, batch_size=256, epochs=2, verbose=0)
    assert int(model.g_optimizer.iterations.numpy()) == 8
    saved_weights, saved_optimizers = weights(model), optimizer_state(model)
    checkpoint = training.TrainingCheckpoint(model, tmp_path)
    assert checkpoint.latest is None and checkpoint.restore() == 0
    path = checkpoint.save(epoch=2)

    other = make_ring_gan(seed=1)  # another initialisation, untrained optimizers
    assert differs(weights(other), saved_weights)
    restored = training.TrainingCheckpoint(other, tmp_path)
    assert restored.latest == path
    assert restored.restore() == 2
    assert_all_equal(weights(other), saved_weights)
    assert_all_equal(optimizer_state(other), saved_optimizers)  # Adam moments included
    assert int(other.g_optimizer.iterations.numpy()) == 8
    assert int(other.d_optimizer.iterations.numpy()) == 8
    np.testing.assert_array_equal(other.noise_seed.state.numpy(), model.noise_seed.state.numpy())


def test_checkpoint_needs_a_built_model(tmp_path):
    unbuilt = keras.Sequential([keras.layers.Dense(1)])
    with pytest.raises(ValueError, match="build the model"):
        training.TrainingCheckpoint(unbuilt, tmp_path)


def test_fit_resumable_resumes(tmp_path, make_ring_gan, capsys):
    model = make_ring_gan(seed=0)
    history, start = training.fit_resumable(model, POINTS, 2, tmp_path, batch_size=256)
    assert start == 0 and history.epoch == [0, 1]
    assert int(model.g_optimizer.iterations.numpy()) == 8
    first_losses = history.history["d_loss"]
    after_two = weights(model)

    # A new session: the same architecture, freshly built, pointed at the same folder.
    model = make_ring_gan(seed=1)
    history, start = training.fit_resumable(model, POINTS, 3, tmp_path, batch_size=256)
    assert start == 2 and history.epoch == [2]  # one more epoch, not three
    assert len(history.history["d_loss"]) == 1
    saved = training.load_history(tmp_path)  # the loss curve survives the resume
    assert saved["d_loss"] == pytest.approx([*first_losses, history.history["d_loss"][0]])
    assert len(saved["epoch_seconds"]) == 3 and all(seconds > 0 for seconds in saved["epoch_seconds"])
    assert "epoch_seconds" not in history.history  # the timing goes to the file, not to Keras' logs
    assert int(model.g_optimizer.iterations.numpy()) == 12  # 8 restored + 4 new
    assert differs(weights(model), after_two)
    after_three = weights(model)
    assert "resuming from epoch 2" in capsys.readouterr().out

    model = make_ring_gan(seed=2)
    history, start = training.fit_resumable(model, POINTS, 3, tmp_path, batch_size=256)
    assert history is None and start == 3  # nothing left to do
    assert_all_equal(weights(model), after_three)
    assert int(model.g_optimizer.iterations.numpy()) == 12
    assert "already trained" in capsys.readouterr().out


def test_resumed_run_equals_uninterrupted_run(tmp_path, make_ring_gan):
    straight = make_ring_gan(seed=0)
    training.fit_resumable(straight, POINTS, 2, tmp_path / "a", batch_size=256, shuffle=False)
    first = make_ring_gan(seed=0)
    training.fit_resumable(first, POINTS, 1, tmp_path / "b", batch_size=256, shuffle=False)
    resumed = make_ring_gan(seed=5)  # another initialisation and another noise seed
    training.fit_resumable(resumed, POINTS, 2, tmp_path / "b", batch_size=256, shuffle=False)
    # Same weights, optimizers and noise stream: the checkpoint holds the GAN's noise state.
    assert_all_equal(weights(resumed), weights(straight))
    assert_all_equal(optimizer_state(resumed), optimizer_state(straight))
    np.testing.assert_array_equal(resumed.noise_seed.state.numpy(), straight.noise_seed.state.numpy())


def test_checkpoint_of_another_architecture(tmp_path, make_ring_gan):
    training.fit_resumable(make_ring_gan(hidden=(16, 16)), POINTS, 1, tmp_path, batch_size=256)
    wider = make_ring_gan(hidden=(32, 32))
    with pytest.raises(CheckpointError, match="another architecture") as info:
        training.fit_resumable(wider, POINTS, 2, tmp_path, batch_size=256)
    assert "new checkpoint folder" in str(info.value)
    assert "(2, 16)" in str(info.value) and "(2, 32)" in str(info.value)  # names the shapes
    deeper = make_ring_gan(hidden=(16, 16, 16))
    with pytest.raises(CheckpointError, match="another architecture"):
        training.TrainingCheckpoint(deeper, tmp_path).restore()
    plain = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3)])
    plain.compile(optimizer="adam", loss="mse")
    with pytest.raises(CheckpointError, match="another architecture"):
        training.TrainingCheckpoint(plain, tmp_path).restore()


def _damage(prefix: str, how: str) -> None:
    data_file = Path(prefix + ".data-00000-of-00001")
    size = data_file.stat().st_size
    if how == "truncate":
        with data_file.open("r+b") as handle:
            handle.truncate(size // 2)
    elif how == "garbage":
        data_file.write_bytes(np.random.default_rng(0).integers(0, 256, size, dtype=np.uint8).tobytes())
    elif how == "one byte flipped":
        raw = bytearray(data_file.read_bytes())
        raw[size // 3] ^= 0xFF
        data_file.write_bytes(bytes(raw))
    elif how == "no index":
        Path(prefix + ".index").unlink()


@pytest.mark.parametrize("how", ["truncate", "garbage", "one byte flipped", "no index"])
def test_corrupt_checkpoint(tmp_path, make_ring_gan, how):
    model = make_ring_gan(seed=0)
    prefix = training.TrainingCheckpoint(model, tmp_path).save(epoch=1)
    _damage(prefix, how)
    fresh = make_ring_gan(seed=1)
    with pytest.raises(CheckpointError, match="corrupt or incomplete") as info:
        training.TrainingCheckpoint(fresh, tmp_path).restore()
    assert str(tmp_path) in str(info.value)


# ---------------------------------------------------------------- divergence


def _regression_model() -> keras.Model:
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(1e-2), loss="mse")
    return model


def test_nan_loss_stops_and_restores_the_last_good_checkpoint(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 3)).astype(np.float32)
    y = x.sum(axis=1, keepdims=True)
    poisoned = x.copy()
    poisoned[0, 0] = 1e30  # squared in the MSE: inf in float32

    # Control: plain Keras training on the poisoned data leaves non-finite weights behind.
    control = _regression_model()
    control.fit(poisoned, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    assert not all(np.all(np.isfinite(w)) for w in control.get_weights())

    model = _regression_model()
    training.fit_resumable(model, x, 1, tmp_path, y=y, batch_size=16)
    good = weights(model)
    assert all(np.all(np.isfinite(w)) for w in good)
    with pytest.raises(TrainingDivergedError, match="diverged at batch 0") as info:
        training.fit_resumable(model, poisoned, 2, tmp_path, y=y, batch_size=16, shuffle=False)
    assert "last good checkpoint (epoch 1) were restored" in str(info.value)
    assert_all_equal(weights(model), good)
    # No checkpoint of the diverged epoch was written.
    assert training.TrainingCheckpoint(model, tmp_path).restore() == 1
    assert not any(name.startswith("ckpt-2") for name in os.listdir(tmp_path))


def test_huge_learning_rate_diverges_a_gan(tmp_path, make_ring_gan):
    model = make_ring_gan(seed=0, lr=1e10)
    with pytest.raises(TrainingDivergedError, match="learning rate too high"):
        training.fit_resumable(model, POINTS, 3, tmp_path, batch_size=256)


def test_fit_resumable_on_a_dataset_does_not_warn_about_shuffle(tmp_path, make_ring_gan, recwarn):
    points = tf.data.Dataset.from_tensor_slices(POINTS).batch(256)
    training.fit_resumable(make_ring_gan(), points, 1, tmp_path / "gan")
    plain = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])  # not a GAN: no GAN.fit
    plain.compile(optimizer="sgd", loss="mse")
    pairs = tf.data.Dataset.from_tensor_slices((POINTS, POINTS[:, :1])).batch(256)
    training.fit_resumable(plain, pairs, 1, tmp_path / "plain")
    assert not [w for w in recwarn if "shuffle" in str(w.message)], [str(w.message) for w in recwarn]
    # The check can fail: Keras 3.15 and later warn about shuffle=True (older ones never do).
    if tuple(map(int, keras.version().split(".")[:2])) >= (3, 15):
        with pytest.warns(UserWarning, match="shuffle=True"):
            training.fit_resumable(plain, pairs, 2, tmp_path / "plain", shuffle=True)
