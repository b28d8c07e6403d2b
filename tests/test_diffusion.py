"""DDPM: the schedule's closed forms against the step-by-step chain, shapes, bad input, training."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from genmodels import data, diffusion, training
from genmodels.validation import InputCheckError

# ---------------------------------------------------------------- schedule


def test_linear_schedule_arrays():
    schedule = diffusion.linear_schedule(100)
    assert schedule.steps == 100
    for array in (schedule.betas, schedule.alphas, schedule.alpha_bars, schedule.posterior_variances):
        assert array.shape == (101,)
    assert schedule.betas[0] == 0 and schedule.alpha_bars[0] == 1
    assert np.isclose(schedule.betas[1], 1e-3) and np.isclose(schedule.betas[100], 0.2)
    np.testing.assert_allclose(schedule.alpha_bars[1:], np.cumprod(1 - schedule.betas[1:]))
    assert np.all(np.diff(schedule.alpha_bars) < 0), "abar_t must fall with t"
    assert schedule.alpha_bars[-1] < 1e-4, "x_T should be almost pure noise"
    assert schedule.posterior_variances[1] == 0  # q(x_0 | x_1, x_0) is a point
    assert np.all(schedule.posterior_variances[2:] < schedule.betas[2:])


def test_paper_schedule_is_recovered_with_1000_steps():
    schedule = diffusion.linear_schedule(1000)
    assert np.isclose(schedule.betas[1], 1e-4) and np.isclose(schedule.betas[1000], 0.02)


@pytest.mark.parametrize("t", [1, 5, 30, 100])
def test_closed_form_marginal_matches_the_step_by_step_chain(t):
    """q(x_t | x_0) = N(sqrt(abar_t) x_0, (1 - abar_t) I): check the chain's mean and variance."""
    schedule = diffusion.linear_schedule(100)
    rng = np.random.default_rng(t)
    n = 40_000
    x0 = np.tile(np.array([[1.5, -0.7]]), (n, 1))
    x = x0.copy()
    for step in range(1, t + 1):
        x = diffusion.forward_step(x, step, rng.standard_normal(x.shape), schedule)
    mean_expected = np.sqrt(schedule.alpha_bars[t]) * x0[0]
    var_expected = 1 - schedule.alpha_bars[t]
    # five standard errors of the sample mean and of the sample variance (Gaussian: sqrt(2/n) var)
    np.testing.assert_allclose(x.mean(axis=0), mean_expected, atol=5 * np.sqrt(var_expected / n))
    np.testing.assert_allclose(x.var(axis=0), var_expected, atol=5 * np.sqrt(2 / n) * var_expected)
    # and q_sample draws from the same distribution in one step
    one_go = np.asarray(
        diffusion.q_sample(x0, np.full(n, t), rng.standard_normal(x0.shape).astype("float32"), schedule)
    )
    np.testing.assert_allclose(one_go.mean(axis=0), mean_expected, atol=5 * np.sqrt(var_expected / n))
    np.testing.assert_allclose(one_go.var(axis=0), var_expected, atol=5 * np.sqrt(2 / n) * var_expected)


def test_q_sample_is_the_formula():
    schedule = diffusion.linear_schedule(50)
    x0 = np.array([[1.0, 2.0], [-1.0, 0.5]], dtype="float32")
    noise = np.array([[0.3, -0.2], [1.0, 0.0]], dtype="float32")
    t = np.array([0, 50])
    got = np.asarray(diffusion.q_sample(x0, t, noise, schedule))
    np.testing.assert_allclose(got[0], x0[0], rtol=1e-6)  # t = 0: no noise
    abar = schedule.alpha_bars[50]
    np.testing.assert_allclose(got[1], np.sqrt(abar) * x0[1] + np.sqrt(1 - abar) * noise[1], rtol=1e-5)


def test_reverse_step_with_the_true_noise_is_the_posterior_mean():
    """With eps the noise that made x_t from x_0, the step's mean is mu~(x_t, x_0) of Ho et al. (7)."""
    schedule = diffusion.linear_schedule(100)
    rng = np.random.default_rng(0)
    x0, eps = rng.normal(size=(5, 2)), rng.normal(size=(5, 2))
    for t in (1, 2, 40, 100):
        abar, abar_prev = schedule.alpha_bars[t], schedule.alpha_bars[t - 1]
        x_t = np.sqrt(abar) * x0 + np.sqrt(1 - abar) * eps
        posterior_mean = (
            np.sqrt(abar_prev) * schedule.betas[t] / (1 - abar) * x0
            + np.sqrt(schedule.alphas[t]) * (1 - abar_prev) / (1 - abar) * x_t
        )
        step = diffusion.reverse_step(x_t, t, eps, np.zeros_like(x0), schedule)
        np.testing.assert_allclose(step, posterior_mean, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(
        diffusion.reverse_step(
            np.sqrt(schedule.alphas[1]) * x0 + np.sqrt(schedule.betas[1]) * eps,
            1,
            eps,
            rng.normal(size=x0.shape),
            schedule,
        ),
        x0,
        atol=1e-12,
    )  # t = 1: sigma_1 = 0, the clean point comes back exactly


def test_guided_noise_interpolates_and_extrapolates():
    conditional, unconditional = np.array([1.0, 2.0]), np.array([0.5, -1.0])
    np.testing.assert_allclose(diffusion.guided_noise(conditional, unconditional, 0.0), conditional)
    np.testing.assert_allclose(diffusion.guided_noise(conditional, unconditional, -1.0), unconditional)
    np.testing.assert_allclose(diffusion.guided_noise(conditional, unconditional, 2.0), [2.0, 8.0])


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("steps", [0, -5, 2.5, True])
def test_bad_number_of_steps(steps):
    with pytest.raises(ValueError, match="steps must be a positive integer"):
        diffusion.linear_schedule(steps)


@pytest.mark.parametrize(
    "betas", [[], [[0.1, 0.2]], [0.1, 0.0], [0.1, -0.2], [0.5, 1.0], [0.1, 1.5], [0.1, np.nan]]
)
def test_bad_betas(betas):
    with pytest.raises(ValueError, match="beta"):
        diffusion.make_schedule(betas)


def test_bad_steps_for_q_sample():
    schedule = diffusion.linear_schedule(10)
    x0 = np.zeros((2, 2), dtype="float32")
    with pytest.raises(ValueError, match=r"0 \.\. 10"):
        diffusion.q_sample(x0, np.array([3, 11]), x0, schedule)
    with pytest.raises(TypeError, match="integers"):
        diffusion.q_sample(x0, np.array([0.5, 1.0]), x0, schedule)


def _conditional(n_classes=3, hidden=(16,), steps=10, seed=0):
    keras.utils.set_random_seed(seed)
    model = diffusion.Diffusion(
        diffusion.build_noise_predictor(2, n_classes=n_classes, hidden=hidden),
        diffusion.linear_schedule(steps),
        n_classes=n_classes,
        seed=seed,
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    return model


def test_bad_model_arguments():
    with pytest.raises(ValueError, match="n_classes"):
        diffusion.build_noise_predictor(2, n_classes=-1)
    with pytest.raises(ValueError, match="n_classes"):
        diffusion.Diffusion(diffusion.build_noise_predictor(2, n_classes=3), diffusion.linear_schedule(5))
    with pytest.raises(TypeError, match="NoiseSchedule"):
        diffusion.Diffusion(diffusion.build_noise_predictor(2), np.linspace(0.01, 0.1, 5))
    with pytest.raises(ValueError, match="label_dropout"):
        diffusion.Diffusion(
            diffusion.build_noise_predictor(2, n_classes=3),
            diffusion.linear_schedule(5),
            3,
            label_dropout=1.0,
        )
    with pytest.raises(ValueError, match="even"):
        diffusion.StepEmbedding(7)


def test_bad_data_and_labels_give_clear_errors():
    model = _conditional()
    x = np.zeros((8, 2), dtype="float32")
    with pytest.raises(InputCheckError, match=r"shape \(N, 2\)"):
        model.fit(np.zeros((8, 3)), np.zeros(8, dtype=int), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="needs labels"):
        model.fit(x, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="unknown class label 3"):
        model.fit(x, np.array([0, 1, 2, 3, 0, 1, 2, 0]), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="unknown class label -1"):
        model.sample(4, labels=-1)
    with pytest.raises(ValueError, match="expected 4 labels"):
        model.sample(4, labels=[0, 1])
    with pytest.raises(TypeError, match="integer class indices"):
        model.sample(4, labels=[0.0, 1.0, 2.0, 0.0])
    with pytest.raises(ValueError, match="needs class labels"):
        model.sample(4, w=1.0)
    with pytest.raises(ValueError, match="positive integer"):
        model.sample(0, labels=0)
    unconditional = diffusion.Diffusion(
        diffusion.build_noise_predictor(2, hidden=(8,)), diffusion.linear_schedule(5)
    )
    with pytest.raises(ValueError, match="unconditional"):
        unconditional.sample(4, labels=0)


# ---------------------------------------------------------------- shapes, sampling, training


def test_shapes_of_network_and_sampler():
    model = _conditional(steps=7)
    x = np.zeros((5, 2), dtype="float32")
    eps = model.denoiser([x, np.arange(5, dtype="int32"), np.array([0, 1, 2, 3, 3], dtype="int32")])
    assert tuple(eps.shape) == (5, 2)
    assert model.predict_noise(x, 3, np.zeros(5, dtype="int32"), w=2.0).shape == (5, 2)
    samples, path = model.sample(6, labels=1, w=1.0, seed=0, return_path=True)
    assert samples.shape == (6, 2) and path.shape == (8, 6, 2)
    np.testing.assert_array_equal(path[-1], samples)
    assert model.sample(6, seed=0).shape == (6, 2)  # the null label: unconditional


def test_sampling_is_seeded_and_uses_the_combine_function():
    model = _conditional()
    a = model.sample(16, labels=2, w=1.5, seed=3)
    np.testing.assert_array_equal(a, model.sample(16, labels=2, w=1.5, seed=3))
    assert not np.allclose(a, model.sample(16, labels=2, w=1.5, seed=4))
    plain = model.sample(16, labels=2, w=0.0, seed=3)
    np.testing.assert_allclose(
        model.sample(16, labels=2, w=1.5, seed=3, combine=lambda c, u, w: c), plain, rtol=1e-5, atol=1e-5
    )
    assert not np.allclose(a, plain)


def _mixture(n, rng, n_classes=3):
    centers = data.ring_centers(n_classes)
    labels = rng.integers(0, n_classes, n).astype("int32")
    return (centers[labels] + 0.05 * rng.standard_normal((n, 2))).astype("float32"), labels


def _fixed_loss(model, x, labels, seed=0):
    rng = np.random.default_rng(seed)
    t = rng.integers(1, model.schedule.steps + 1, len(x)).astype("int32")
    noise = rng.standard_normal(x.shape).astype("float32")
    return float(diffusion.diffusion_loss(model.denoiser, x, t, noise, model.schedule, labels))


def test_a_tiny_training_run_lowers_the_loss():
    model = _conditional(hidden=(32, 32), steps=20)
    x, labels = _mixture(512, np.random.default_rng(0))
    before = _fixed_loss(model, x, labels)
    history = model.fit(x, labels, epochs=15, batch_size=64, verbose=0)
    after = _fixed_loss(model, x, labels)
    assert after < 0.7 * before, (before, after)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_unconditional_training_and_checkpoint_round_trip(tmp_path):
    keras.utils.set_random_seed(1)
    model = diffusion.Diffusion(
        diffusion.build_noise_predictor(2, hidden=(16,)), diffusion.linear_schedule(10), seed=1
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    x, _ = _mixture(256, np.random.default_rng(1))
    with pytest.raises(ValueError, match="without labels"):
        model.fit(x, np.zeros(256, dtype=int), epochs=1, verbose=0)
    training.fit_resumable(model, x, epochs=2, directory=tmp_path, batch_size=64, print_every=10)
    reference = model.sample(8, seed=0)
    keras.utils.set_random_seed(2)
    restored = diffusion.Diffusion(
        diffusion.build_noise_predictor(2, hidden=(16,)), diffusion.linear_schedule(10)
    )
    restored.compile(optimizer=keras.optimizers.Adam(1e-2))
    assert training.TrainingCheckpoint(restored, tmp_path).restore() == 2
    np.testing.assert_allclose(restored.sample(8, seed=0), reference, rtol=1e-5, atol=1e-6)
