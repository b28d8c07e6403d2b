"""Tests of genmodels.vae and genmodels.metrics.importance_weighted_bound.

Reference values come from independent numpy computations: Monte Carlo for the Gaussian
KL, the textbook Bernoulli formula, and numerical integration over a 1-D latent space,
where ``log p(x)`` and the ELBO are tractable, for the importance-weighted bound.
"""

from __future__ import annotations

import itertools

import keras
import numpy as np
import pytest
import tensorflow as tf
from scipy.special import logsumexp

from genmodels.data import DataNotFoundError, binarize, load_fashion_mnist, to_unit_interval
from genmodels.metrics import importance_weighted_bound
from genmodels.training import CheckpointError, TrainingCheckpoint, TrainingDivergedError, fit_resumable
from genmodels.vae import (
    VAE,
    DynamicallyBinarized,
    KLWarmUp,
    bernoulli_log_likelihood,
    build_mlp_decoder,
    build_mlp_encoder,
    factorised_bernoulli_logits,
    gaussian_kl,
    importance_weighted_bounds,
    reparameterize,
    vae_loss_terms,
    vae_train_step,
)
from genmodels.validation import InputCheckError

SMALL = {"data_shape": (6,), "hidden": (8,)}


def small_vae(latent_dim: int = 3, seed: int = 0, beta: float = 1.0) -> VAE:
    """A compiled VAE on 6-pixel data, small enough to train in milliseconds."""
    keras.utils.set_random_seed(seed)
    vae = VAE(
        build_mlp_encoder(latent_dim=latent_dim, **SMALL),
        build_mlp_decoder(latent_dim=latent_dim, **SMALL),
        beta=beta,
        seed=seed,
    )
    vae.compile(optimizer=keras.optimizers.Adam(1e-2))
    return vae


def binary_data(n: int, dim: int = 6, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).random((n, dim)) < 0.3).astype(np.float32)


# ---------------------------------------------------------------- networks


def test_network_and_sample_shapes():
    encoder = build_mlp_encoder(latent_dim=5)
    decoder = build_mlp_decoder(latent_dim=5)
    x = np.random.default_rng(0).random((7, 28, 28, 1)).astype(np.float32)
    mean, log_var = encoder(x)
    assert mean.shape == (7, 5) and log_var.shape == (7, 5)
    assert decoder(mean).shape == (7, 28, 28, 1)

    vae = VAE(encoder, decoder, seed=0)
    samples = vae.sample(4, seed=1)
    assert samples.shape == (4, 28, 28, 1)
    assert samples.min() >= 0.0 and samples.max() <= 1.0  # probabilities, not logits
    reconstructions = vae.reconstruct(x)
    assert reconstructions.shape == (7, 28, 28, 1)
    assert reconstructions.min() >= 0.0 and reconstructions.max() <= 1.0
    assert [a.shape for a in vae.encode(x)] == [(7, 5), (7, 5)]


@pytest.mark.parametrize(
    "build",
    [
        lambda: build_mlp_encoder(latent_dim=0),
        lambda: build_mlp_encoder(data_shape=(28, -1, 1)),
        lambda: build_mlp_encoder(hidden=(512, 0)),
        lambda: build_mlp_decoder(latent_dim=2.5),
        lambda: build_mlp_decoder(latent_dim=2, data_shape=(0,)),
        lambda: build_mlp_decoder(latent_dim=True),
        lambda: VAE(build_mlp_encoder(latent_dim=2), build_mlp_decoder(latent_dim=3)),
        lambda: VAE(build_mlp_encoder((6,), 2), build_mlp_decoder(2, (28, 28, 1))),
        lambda: VAE(build_mlp_encoder((6,), 2), build_mlp_decoder(2, (6,)), beta=-1.0),
        lambda: small_vae().sample(0),
    ],
)
def test_bad_arguments_raise_value_error(build):
    with pytest.raises(ValueError):
        build()


# ---------------------------------------------------------------- KL, likelihood, sampling


def test_gaussian_kl_matches_monte_carlo():
    mean = np.array([[0.5, -1.0, 2.0], [0.0, 0.3, -0.2]])
    log_var = np.array([[np.log(0.3), 0.4, -1.0], [1.0, -2.0, 0.0]])
    kl = gaussian_kl(tf.constant(mean), tf.constant(log_var)).numpy()
    assert kl.shape == (2,)

    rng = np.random.default_rng(0)
    std = np.exp(0.5 * log_var)
    z = mean + std * rng.standard_normal((200_000, *mean.shape))
    log_q = -0.5 * (((z - mean) / std) ** 2 + log_var + np.log(2 * np.pi))
    log_p = -0.5 * (z**2 + np.log(2 * np.pi))
    ratio = np.sum(log_q - log_p, axis=-1)  # (samples, N): log q(z)/p(z)
    standard_error = ratio.std(axis=0) / np.sqrt(len(ratio))
    np.testing.assert_array_less(np.abs(kl - ratio.mean(axis=0)), 4 * standard_error)


def test_gaussian_kl_is_zero_only_at_the_prior():
    zeros = tf.zeros((3, 4))
    np.testing.assert_allclose(gaussian_kl(zeros, zeros).numpy(), 0.0, atol=1e-7)
    assert np.all(gaussian_kl(zeros + 0.1, zeros).numpy() > 0)
    assert np.all(gaussian_kl(zeros, zeros - 0.1).numpy() > 0)


def test_bernoulli_log_likelihood_matches_textbook_formula():
    rng = np.random.default_rng(0)
    logits = rng.normal(0.0, 3.0, (4, 3, 3, 1))
    logits[0, 0, 0, 0], logits[0, 0, 1, 0], logits[1, 0, 0, 0], logits[1, 0, 1, 0] = 50, -50, 50, -50
    x = (rng.random(logits.shape) < 0.5).astype(np.float64)
    x[0, 0, :2, 0], x[1, 0, :2, 0] = 0.0, 1.0  # both extremes, predicted right and wrong
    x[2] = rng.random(x[2].shape)  # grey levels in [0, 1] are allowed too

    # p and 1 - p, each computed without cancellation, then the textbook formula.
    p, one_minus_p = 1 / (1 + np.exp(-logits)), 1 / (1 + np.exp(logits))
    expected = np.sum(x * np.log(p) + (1 - x) * np.log(one_minus_p), axis=(1, 2, 3))

    got = bernoulli_log_likelihood(tf.constant(x, tf.float32), tf.constant(logits, tf.float32))
    assert got.shape == (4,)
    assert np.all(np.isfinite(got.numpy()))
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5)


def test_reparameterized_samples_have_the_right_moments_and_gradients():
    n = 100_000
    mean = tf.Variable(np.tile([[1.0, -2.0]], (n, 1)), dtype=tf.float32)
    log_var = tf.Variable(np.tile([[np.log(4.0), np.log(0.25)]], (n, 1)), dtype=tf.float32)
    with tf.GradientTape() as tape:
        z = reparameterize(mean, log_var, keras.random.SeedGenerator(0))
        total = tf.reduce_sum(z)
    z = z.numpy()
    variance = np.array([4.0, 0.25])
    np.testing.assert_array_less(np.abs(z.mean(0) - [1.0, -2.0]), 4 * np.sqrt(variance / n))
    # the sample variance of a Gaussian has standard error var * sqrt(2 / n)
    np.testing.assert_array_less(np.abs(z.var(0) - variance), 4 * variance * np.sqrt(2 / n))

    d_mean, d_log_var = tape.gradient(total, [mean, log_var])
    np.testing.assert_allclose(d_mean.numpy(), 1.0)  # dz/dmean = 1
    # dz/dlog_var = exp(log_var / 2) * eps / 2 = (z - mean) / 2
    np.testing.assert_allclose(d_log_var.numpy(), (z - mean.numpy()) / 2, atol=1e-5)


# ---------------------------------------------------------------- ELBO and IWAE on a tractable model


@pytest.fixture(scope="module")
def tractable():
    """A VAE with a 1-D latent space, where log p(x) and the ELBO are integrals over a line.

    The decoder's weights are scaled up so that p(z|x) is sharp and the (untrained)
    encoder a poor proposal: the gaps between the bounds are then large and clear.
    """
    keras.utils.set_random_seed(1)
    encoder = build_mlp_encoder(data_shape=(20,), latent_dim=1, hidden=(16,))
    decoder = build_mlp_decoder(latent_dim=1, data_shape=(20,), hidden=(16,))
    decoder.set_weights([3.0 * w for w in decoder.get_weights()])
    x = binary_data(400, dim=20, seed=0)

    z, dz = np.linspace(-12, 12, 24_001, retstep=True)
    logits = decoder(z[:, None].astype(np.float32)).numpy().astype(np.float64)
    log_lik = x @ logits.T - np.logaddexp(0, logits).sum(axis=1)  # (N, grid)
    log_joint = log_lik - 0.5 * (z**2 + np.log(2 * np.pi))
    log_px = logsumexp(log_joint, axis=1) + np.log(dz)
    mean, log_var = (t.numpy().astype(np.float64) for t in encoder(x))
    log_q = -0.5 * ((z - mean) ** 2 / np.exp(log_var) + log_var + np.log(2 * np.pi))
    elbo = np.sum(np.exp(log_q) * (log_joint - log_q), axis=1) * dz
    return encoder, decoder, x, log_px, elbo


def _mean_and_se(values: np.ndarray) -> tuple[float, float]:
    return float(values.mean()), float(values.std() / np.sqrt(len(values)))


def test_elbo_estimate_matches_integral(tractable):
    encoder, decoder, x, log_px, elbo = tractable
    terms = vae_loss_terms(encoder, decoder, x, keras.random.SeedGenerator(0))
    assert all(terms[name].shape == (len(x),) for name in ("reconstruction", "kl", "elbo"))
    gap, se = _mean_and_se(terms["elbo"].numpy() - elbo)
    assert abs(gap) < 4 * se
    assert np.all(elbo < log_px)  # log p(x) = ELBO + KL(q || p(z|x)) > ELBO


def test_importance_weighted_bound_tightens_towards_log_px(tractable):
    encoder, decoder, x, log_px, elbo = tractable
    ks = (1, 10, 100, 1000)
    bounds = {k: importance_weighted_bound(encoder, decoder, x, k, seed=k) for k in ks}
    assert all(b.shape == (len(x),) and np.all(np.isfinite(b)) for b in bounds.values())

    gap, se = _mean_and_se(bounds[1] - elbo)  # E[L_1] is the ELBO
    assert abs(gap) < 4 * se
    for small, large in itertools.pairwise(ks):  # E[L_k] grows with k ...
        gain, se = _mean_and_se(bounds[large] - bounds[small])
        assert gain > 2 * se, (small, large, gain, se)
    gaps = {k: _mean_and_se(log_px - b) for k, b in bounds.items()}
    assert all(gap > -4 * se for gap, se in gaps.values()), gaps  # ... stays below log p(x) ...
    assert gaps[1000][0] < gaps[1][0] / 20, gaps  # ... and closes in on it


def test_importance_weighted_bound_checks_its_input(tractable):
    encoder, decoder, x, _, _ = tractable
    with pytest.raises(ValueError, match="k must be a positive integer"):
        importance_weighted_bound(encoder, decoder, x, k=0)
    with pytest.raises(InputCheckError, match=r"shape \(N, 20\)"):
        importance_weighted_bound(encoder, decoder, x[:, :10], k=5)
    with pytest.raises(InputCheckError, match=r"values in \[0, 1\]"):
        importance_weighted_bound(encoder, decoder, 255 * x, k=5)
    with pytest.raises(ValueError, match="decoder"):
        importance_weighted_bound(encoder, build_mlp_decoder(2, (20,)), x, k=5)


# ---------------------------------------------------------------- training


def test_one_train_step_updates_encoder_and_decoder():
    vae = small_vae()
    vae.build_state()
    before = [v.numpy().copy() for v in vae.trainable_variables]
    logs = vae_train_step(
        vae.encoder, vae.decoder, vae.optimizer, binary_data(32), keras.random.SeedGenerator(0)
    )
    assert set(logs) == {"loss", "reconstruction", "kl", "elbo"}
    np.testing.assert_allclose(logs["loss"], -logs["elbo"], rtol=1e-6)  # beta = 1
    changed = [not np.array_equal(a, v.numpy()) for a, v in zip(before, vae.trainable_variables, strict=True)]
    assert all(changed)  # one objective reaches every weight of both networks


def test_beta_can_be_changed_after_compiling():
    vae = small_vae()
    x = binary_data(64)
    for beta in (0.0, 2.0):
        vae.beta.assign(beta)
        logs = vae.fit(x, epochs=1, batch_size=32, shuffle=False, verbose=0).history
        expected = -(logs["reconstruction"][0] - beta * logs["kl"][0])
        np.testing.assert_allclose(logs["loss"][0], expected, rtol=1e-5)
    held_out = vae.evaluate(x, batch_size=32, verbose=0, return_dict=True)
    expected = -(held_out["reconstruction"] - 2.0 * held_out["kl"])
    np.testing.assert_allclose(held_out["loss"], expected, rtol=1e-5)


@pytest.fixture(scope="module")
def fashion():
    try:
        train, _ = load_fashion_mnist("train", download=False)
    except DataNotFoundError as error:
        pytest.skip(str(error).splitlines()[0])
    images = binarize(to_unit_interval(train[:6000]), np.random.default_rng(0))
    return images[:5000], images[5000:]


@pytest.mark.slow
def test_vae_learns_fashion_mnist(fashion):
    train, held_out = fashion
    keras.utils.set_random_seed(0)
    vae = VAE(build_mlp_encoder(latent_dim=16), build_mlp_decoder(latent_dim=16), seed=0)
    vae.compile(optimizer=keras.optimizers.Adam(1e-3))
    loss = vae.fit(train, epochs=3, batch_size=100, verbose=0).history["loss"]
    assert loss[-1] < 0.85 * loss[0], loss

    # held-out ELBO beats the best model that ignores z: independent Bernoulli pixels
    p = np.clip(train.mean(axis=0), 1e-3, 1 - 1e-3)
    baseline = np.mean(np.sum(held_out * np.log(p) + (1 - held_out) * np.log(1 - p), axis=(1, 2, 3)))
    elbo = vae.evaluate(held_out, batch_size=500, verbose=0, return_dict=True)["elbo"]
    assert elbo > baseline + 50, (elbo, baseline)


@pytest.mark.parametrize(
    ("images", "fix"),
    [
        (np.full((8, 28, 28, 1), 255, np.uint8), "to_unit_interval"),
        (np.zeros((8, 28, 28), np.float32), "adds the channel axis"),
    ],
)
def test_fit_rejects_unscaled_images_and_names_the_fix(images, fix):
    vae = VAE(build_mlp_encoder(latent_dim=2), build_mlp_decoder(latent_dim=2))
    vae.compile(optimizer=keras.optimizers.Adam())
    with pytest.raises(InputCheckError, match=fix):
        vae.fit(images, epochs=1, verbose=0)
    with pytest.raises(InputCheckError, match=fix):
        vae.fit(np.zeros((8, 28, 28, 1), np.float32), validation_data=images, verbose=0)


# ---------------------------------------------------------------- checkpoints


def test_checkpoint_round_trip(tmp_path):
    trained = small_vae(seed=0, beta=0.5)
    checkpoint = TrainingCheckpoint(trained, tmp_path)
    trained.fit(binary_data(64), epochs=2, batch_size=16, verbose=0)
    checkpoint.save(2)

    fresh = small_vae(seed=1)
    restored = TrainingCheckpoint(fresh, tmp_path)
    assert not np.allclose(fresh.encoder.get_weights()[0], trained.encoder.get_weights()[0])
    assert restored.restore() == 2
    for mine, theirs in zip(fresh.weights, trained.weights, strict=True):
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy(), err_msg=mine.path)
    for mine, theirs in zip(fresh.optimizer.variables, trained.optimizer.variables, strict=True):
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy(), err_msg=mine.path)
    assert float(fresh.beta.numpy()) == 0.5


def test_checkpoint_of_another_latent_size_is_refused(tmp_path):
    TrainingCheckpoint(small_vae(latent_dim=3), tmp_path).save(1)
    with pytest.raises(CheckpointError, match="another architecture"):
        TrainingCheckpoint(small_vae(latent_dim=4), tmp_path).restore()


# ---------------------------------------------------------------- data, baseline and limits ("VAE in code")


def test_dynamic_binarisation_redraws_every_epoch_and_repeats_with_its_seed():
    images = np.random.default_rng(0).random((64, 6)).astype(np.float32)
    stream = DynamicallyBinarized(images, batch_size=16, seed=3)
    assert len(stream) == 4
    stream.on_epoch_begin()  # fit() calls this before epoch 1 ...
    first = np.concatenate([stream[i] for i in range(len(stream))])
    stream.on_epoch_begin()  # ... and before epoch 2
    second = np.concatenate([stream[i] for i in range(len(stream))])
    assert set(np.unique(first)) <= {0.0, 1.0} and first.shape == (64, 6)
    assert not np.array_equal(first, second)
    again = DynamicallyBinarized(images, batch_size=16, seed=3)
    np.testing.assert_array_equal(np.concatenate([again[i] for i in range(len(again))]), first)
    resumed = DynamicallyBinarized(images, batch_size=16, seed=3, first_epoch=1)
    np.testing.assert_array_equal(np.concatenate([resumed[i] for i in range(len(resumed))]), second)


def test_dynamic_binarisation_has_the_intensities_as_means():
    images = np.linspace(0, 1, 10, dtype=np.float32)[None, :].repeat(4000, axis=0)
    stream = DynamicallyBinarized(images, batch_size=4000, seed=0)
    np.testing.assert_allclose(stream[0].mean(axis=0), images[0], atol=0.03)


def test_fit_rebinarises_each_epoch():
    images = np.full((32, 6), 0.5, np.float32)
    stream = DynamicallyBinarized(images, batch_size=32, seed=0)
    seen = []

    class Record(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            seen.append(stream[0].copy())

    small_vae().fit(stream, epochs=3, verbose=0, callbacks=[Record()])
    assert len(seen) == 3 and not np.array_equal(seen[0], seen[1]) and not np.array_equal(seen[1], seen[2])


def test_fit_checks_the_shape_of_a_binarised_stream():
    vae = VAE(build_mlp_encoder(latent_dim=2), build_mlp_decoder(latent_dim=2))
    vae.compile(optimizer=keras.optimizers.Adam())
    no_channel = DynamicallyBinarized(np.zeros((8, 28, 28), np.float32), batch_size=4)
    with pytest.raises(InputCheckError, match="adds the channel axis"):
        vae.fit(no_channel, epochs=1, verbose=0)


@pytest.mark.parametrize(
    ("images", "fix"),
    [
        (np.full((8, 28, 28), 255, np.uint8), "to_unit_interval"),
        (np.full((8, 6), -0.1, np.float32), r"values in \[0, 1\]"),
    ],
)
def test_dynamic_binarisation_rejects_unscaled_images(images, fix):
    with pytest.raises(InputCheckError, match=fix):
        DynamicallyBinarized(images, batch_size=4)
    with pytest.raises(ValueError, match="batch_size"):
        DynamicallyBinarized(np.zeros((8, 6), np.float32), batch_size=9)


def test_factorised_bernoulli_is_the_best_independent_pixel_model():
    rng = np.random.default_rng(0)
    p_true = rng.uniform(0.05, 0.95, size=6)
    train = (rng.random((20_000, 6)) < p_true).astype(np.float32)
    test = (rng.random((5_000, 6)) < p_true).astype(np.float32)
    logits = factorised_bernoulli_logits(train)
    np.testing.assert_allclose(1 / (1 + np.exp(-logits)), p_true, atol=0.02)
    score = bernoulli_log_likelihood(test, np.broadcast_to(logits, test.shape)).numpy().mean()
    for other in (np.zeros(6, np.float32), logits + 0.3):
        assert score > bernoulli_log_likelihood(test, np.broadcast_to(other, test.shape)).numpy().mean()
    assert np.all(np.isfinite(factorised_bernoulli_logits(np.zeros((5, 6), np.float32))))


def test_vae_refuses_a_decoder_that_does_not_fit_the_encoder():
    with pytest.raises(ValueError, match=r"decoder must map \(8,\) -> \(28, 28, 1\)"):
        VAE(build_mlp_encoder(latent_dim=8), build_mlp_decoder(latent_dim=8, data_shape=(784,)))
    with pytest.raises(ValueError, match=r"decoder must map \(8,\)"):
        VAE(build_mlp_encoder(latent_dim=8), build_mlp_decoder(latent_dim=4))


def test_importance_weighted_bounds_are_cached_for_the_same_weights(tractable, tmp_path):
    encoder, decoder, x, _, _ = tractable
    first = importance_weighted_bounds(encoder, decoder, x, ks=(1, 10), seed=0, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("iw_bounds_*.npz"))) == 1
    again = importance_weighted_bounds(encoder, decoder, x, ks=(1, 10), seed=0, cache_dir=tmp_path)
    for k in (1, 10):
        np.testing.assert_array_equal(first[k], again[k])
        np.testing.assert_array_equal(first[k], importance_weighted_bound(encoder, decoder, x, k, seed=k))
    bias = decoder.get_layer("logits").bias
    bias.assign(bias + 1.0)  # other weights: computed anew
    try:
        changed = importance_weighted_bounds(encoder, decoder, x, ks=(1, 10), seed=0, cache_dir=tmp_path)
    finally:
        bias.assign(bias - 1.0)  # the fixture is shared with other tests
    assert len(list(tmp_path.glob("iw_bounds_*.npz"))) == 2
    assert not np.allclose(changed[10], first[10])


@pytest.mark.parametrize("k", [0, -3, 2.5])
def test_importance_weighted_bounds_refuse_a_bad_k(tractable, k):
    encoder, decoder, x, _, _ = tractable
    with pytest.raises(ValueError, match="positive integer"):
        importance_weighted_bounds(encoder, decoder, x, ks=(1, k))


def test_nan_elbo_stops_training_and_keeps_the_last_good_checkpoint(tmp_path):
    model = small_vae()
    x = binary_data(64)
    kernel = model.decoder.get_layer("logits").kernel
    saved = {}

    class PoisonSecondEpoch(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1:
                saved["good"] = [w.copy() for w in model.get_weights()]
                kernel.assign(np.full(kernel.shape, np.nan, np.float32))  # the ELBO is now NaN

    with pytest.raises(TrainingDivergedError, match="diverged"):
        fit_resumable(
            model,
            x,
            epochs=3,
            directory=tmp_path,
            batch_size=16,
            print_every=100,
            callbacks=[PoisonSecondEpoch()],
        )
    good = saved["good"]
    for restored, saved in zip(model.get_weights(), good, strict=True):
        np.testing.assert_array_equal(restored, saved)
    assert TrainingCheckpoint(small_vae(), tmp_path).restore() == 1  # no checkpoint of the NaN epoch


def test_kl_warm_up_follows_the_optimizer_steps_and_resumes(tmp_path):
    model = small_vae()
    x = binary_data(64)
    betas = []

    class Record(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            betas.append(float(model.beta.numpy()))

    warm_up = KLWarmUp(epochs=2, steps_per_epoch=4)
    fit_resumable(model, x, epochs=1, directory=tmp_path, batch_size=16, callbacks=[warm_up, Record()])
    np.testing.assert_allclose(betas, [0.0, 0.125, 0.25, 0.375])
    resumed = small_vae()  # a new session: the schedule continues from the checkpoint's step
    warm_up = KLWarmUp(epochs=2, steps_per_epoch=4)
    model = resumed
    fit_resumable(resumed, x, epochs=3, directory=tmp_path, batch_size=16, callbacks=[warm_up, Record()])
    np.testing.assert_allclose(betas[4:], [0.5, 0.625, 0.75, 0.875, 1.0, 1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="positive"):
        KLWarmUp(epochs=0, steps_per_epoch=4)


def test_warm_up_reaches_its_target_and_refuses_bad_ones():
    model = small_vae()
    model.fit(np.zeros((8, 6), np.float32), epochs=1, batch_size=8, verbose=0)  # optimizer at step 1
    warm_up = KLWarmUp(epochs=1, steps_per_epoch=2, target=0.5)
    warm_up.set_model(model)
    warm_up.on_train_batch_begin(0)
    assert float(model.beta.numpy()) == pytest.approx(0.25)
    with pytest.raises(ValueError, match="target"):
        KLWarmUp(epochs=1, steps_per_epoch=2, target=-1.0)


def test_recipe_builds_the_vae_chapters_model_and_checks_its_arguments():
    from genmodels.training import set_seed
    from genmodels.vae import Recipe

    recipe = Recipe(latent_dim=4, hidden=(16, 8), batch_size=32)
    model = recipe.build(n_images=320)
    set_seed(0)  # what the VAE chapter does by hand
    encoder, decoder = build_mlp_encoder(latent_dim=4, hidden=(16, 8)), build_mlp_decoder(4, hidden=(8, 16))
    by_hand = VAE(encoder, decoder, seed=0)
    for ours, theirs in zip(model.get_weights(), by_hand.get_weights(), strict=True):
        np.testing.assert_array_equal(ours, theirs)
    assert recipe.steps_per_epoch(320) == 10 and model.optimizer.learning_rate.numpy() == pytest.approx(2e-3)
    with pytest.raises(ValueError, match="do not fill one batch"):
        recipe.steps_per_epoch(31)
    bad_arguments = [{"epochs": 0}, {"beta": -1.0}, {"warm_up_epochs": -1}, {"hidden": (0,)}]
    for bad in bad_arguments:
        with pytest.raises(ValueError):
            Recipe(**bad)


def test_recipe_trains_and_resumes(tmp_path):
    from genmodels.vae import Recipe

    images = np.random.default_rng(0).uniform(size=(64, 28, 28, 1)).astype(np.float32)
    recipe = Recipe(latent_dim=2, hidden=(8,), batch_size=32, epochs=2, warm_up_epochs=1, beta=0.5)
    model, resumed_from = recipe.train(images, tmp_path)
    assert resumed_from == 0 and float(model.beta.numpy()) == pytest.approx(0.5)
    again, resumed_from = recipe.train(images, tmp_path)
    assert resumed_from == 2
    for ours, theirs in zip(model.get_weights(), again.get_weights(), strict=True):
        np.testing.assert_array_equal(ours, theirs)
