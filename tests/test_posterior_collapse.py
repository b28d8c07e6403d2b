"""genmodels.posterior_collapse: the autoregressive decoder, the configurations, the results file."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from genmodels import posterior_collapse as pc
from genmodels import results


def test_decoder_logit_d_sees_only_earlier_pixels_and_z():
    decoder = pc.build_autoregressive_decoder(latent_dim=3, n_pixels=12, hidden=20)
    decoder.set_weights([np.random.default_rng(0).normal(size=w.shape) for w in decoder.get_weights()])
    rng = np.random.default_rng(1)
    x = (rng.random((1, 12)) < 0.5).astype(np.float32)
    z = rng.normal(size=(1, 3)).astype(np.float32)
    before = decoder([x, z]).numpy()
    for pixel in range(12):
        flipped = x.copy()
        flipped[0, pixel] = 1 - flipped[0, pixel]
        changed = np.flatnonzero(np.abs(decoder([flipped, z]).numpy() - before)[0] > 1e-6)
        assert np.all(changed > pixel), f"flipping pixel {pixel} changed logits {changed}"
    other_z = decoder([x, z + 1.0]).numpy()
    assert np.all(np.abs(other_z - before) > 1e-6)  # every logit depends on z


def test_configs_validate_and_give_schedules():
    for config in pc.CONFIGS.values():
        weights = config.kl_weights(40)
        assert weights.shape == (40,) and weights.min() >= 0
        assert weights[-1] == pytest.approx(config.beta)
    assert pc.CONFIGS["annealing"].kl_weights(40)[0] == 0
    assert np.sum(pc.CONFIGS["cyclical"].kl_weights(40) == 0) == 4
    with pytest.raises(ValueError, match="schedule"):
        pc.CollapseConfig("x", "x", schedule="exponential")
    with pytest.raises(ValueError, match="no beta, schedule or free bits"):
        pc.CollapseConfig("x", "x", iw_samples=5, free_bits=0.5)
    with pytest.raises(ValueError, match="free_bits"):
        pc.CollapseConfig("x", "x", free_bits=-1)


def test_model_terms_and_iwae_bound():
    model = pc.AutoregressiveVAE(pc.CONFIGS["plain"], latent_dim=4, hidden=30, side=14, seed=0)
    x = tf.constant((np.random.default_rng(0).random((6, 14, 14, 1)) < 0.3).astype(np.float32))
    terms = model.terms(x, samples=3)
    assert terms["log_lik"].shape == (3, 6) and terms["kl_per_dim"].shape == (6, 4)
    assert np.all(terms["log_lik"].numpy() < 0)
    # E_q[log w] = ELBO up to the constants of log p(z) and log q(z|x), which cancel:
    # so the mean of log w over many samples is close to log_lik - KL
    many = model.terms(x, samples=2000)
    elbo = many["log_lik"].numpy().mean(axis=0) - many["kl_per_dim"].numpy().sum(axis=1)
    np.testing.assert_allclose(many["log_w"].numpy().mean(axis=0), elbo, atol=0.5)
    # log_likelihood scores images under given codes; the codes matter
    z = np.random.default_rng(2).normal(size=(6, 4)).astype(np.float32)
    scores = model.log_likelihood(x.numpy(), z)
    assert scores.shape == (6,) and np.all(scores < 0)
    assert not np.allclose(scores, model.log_likelihood(x.numpy(), z[::-1].copy()))
    with pytest.raises(ValueError, match="one code per image"):
        model.log_likelihood(x.numpy(), z[:3])


def test_downsample_averages_blocks():
    images = np.zeros((1, 28, 28, 1), np.float32)
    images[0, :2, :2, 0] = [[1.0, 0.0], [0.5, 0.5]]
    small = pc.downsample(images)
    assert small.shape == (1, 14, 14, 1) and small[0, 0, 0, 0] == pytest.approx(0.5)
    assert small.sum() == pytest.approx(images.sum() / 4)
    with pytest.raises(ValueError, match="shape"):
        pc.downsample(np.zeros((2, 14, 14, 1)))
    with pytest.raises(ValueError, match="side"):
        pc.fashion_data(10, side=7)


def test_pretrained_decoder_ignores_z(tmp_path, monkeypatch):
    monkeypatch.setenv("GENMODELS_CHECKPOINT_DIR", str(tmp_path))
    budget = pc.CollapseBudget(n_train=200, epochs=1, latent_dim=4, hidden=20, pretrain_epochs=1)
    train_x, _ = pc.fashion_data(200, side=14)
    weights = pc.pretrained_decoder_weights(budget, train_x)
    decoder = pc.build_autoregressive_decoder(4, 196, 20)
    decoder.set_weights(weights)
    x = np.zeros((2, 196), np.float32)
    z = np.random.default_rng(0).normal(size=(2, 4)).astype(np.float32)
    np.testing.assert_allclose(decoder([x, z]).numpy(), decoder([x, 0 * z]).numpy(), atol=1e-6)
    assert any(np.abs(w).sum() > 0 for w in weights)  # but it learned something
    again = pc.pretrained_decoder_weights(budget, train_x)  # read back from the cache
    assert all(np.array_equal(a, b) for a, b in zip(weights, again, strict=True))


def test_collapse_run_is_cached_and_kl_weights_are_checked(tmp_path, monkeypatch):
    monkeypatch.setenv("GENMODELS_CHECKPOINT_DIR", str(tmp_path))
    budget = pc.CollapseBudget(n_train=300, epochs=1, latent_dim=4, hidden=20, pretrain_epochs=1)
    first = pc.collapse_run("free_bits", budget)
    assert first["experiment"] == "collapse" and first["kl_per_dim"].shape == (4,)
    assert first["rate"] >= 0.1 * 4 * 0.5  # free bits leave no reason to go below the floor
    assert first["elbo"] == pytest.approx(-(first["rate"] + first["distortion"]))
    assert pc.collapse_run("free_bits", budget)["elbo"] == first["elbo"]  # read back
    with pytest.raises(ValueError, match="one weight per step"):
        pc.train_collapse_run("plain", budget, kl_weights=np.ones(5), directory=tmp_path / "x")


def test_results_file_holds_the_sweep_and_the_remedies():
    header, rows = results.read_csv(pc.DEFAULT_CSV)
    assert "posterior_collapse" in header["command"]
    sweep = [r for r in rows if r["experiment"] == "beta_sweep"]
    collapse = {r["name"]: r for r in rows if r["experiment"] == "collapse"}
    assert len(sweep) >= 6 and min(r["beta"] for r in sweep) <= 0.1 and max(r["beta"] for r in sweep) >= 8
    assert set(collapse) == set(pc.CONFIGS)
    for row in rows:
        assert row["elbo"] == pytest.approx(-(row["rate"] + row["distortion"]), abs=1e-3)


@pytest.mark.slow
def test_a_stored_row_reproduces(tmp_path, monkeypatch):
    """Same configuration, same seed: the plain collapse run gives its stored row again."""
    monkeypatch.setenv("GENMODELS_CHECKPOINT_DIR", str(tmp_path))
    _, rows = results.read_csv(pc.DEFAULT_CSV)
    stored = next(r for r in rows if r["experiment"] == "collapse" and r["name"] == "plain")
    again = pc.collapse_run("plain")
    for key in ("rate", "distortion", "elbo", "active_units"):
        assert again[key] == pytest.approx(stored[key], rel=1e-3, abs=1e-3), key
