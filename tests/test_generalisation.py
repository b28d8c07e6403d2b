"""genmodels.generalisation: the runs of the sweep, the memorising model, the results file."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from genmodels import data, generalisation, vae

RESULTS = Path(__file__).resolve().parents[1] / "book" / "results" / "generalisation.csv"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_train": 100}, "one batch"),
        ({"n_train": 0}, "positive"),
        ({"n_train": 1000, "model": "huge"}, "model"),
        ({"n_train": 1000, "augmentation": "shuffle"}, "augmentation"),
        ({"n_train": 1000, "order": "random"}, "order"),
    ],
)
def test_bad_runs_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        generalisation.Run(**kwargs)


def test_a_run_is_the_vae_chapters_recipe_with_its_own_widths_and_budget():
    recipe = generalisation.Run(1000, model="large", seed=3).recipe()
    default = vae.Recipe()
    assert recipe.hidden == generalisation.HIDDEN["large"] and recipe.seed == 3
    assert recipe.epochs == generalisation.EPOCHS
    assert (recipe.latent_dim, recipe.batch_size, recipe.learning_rate) == (
        default.latent_dim,
        default.batch_size,
        default.learning_rate,
    )
    assert default.steps_per_epoch(60_000) == generalisation.STEPS_PER_EPOCH


def test_runs_have_distinct_names():
    runs = generalisation.sweep_runs()
    assert len({run.name for run in runs}) == len(runs)


def test_the_sweep_covers_what_the_chapter_needs():
    runs = generalisation.sweep_runs()
    default_sizes = {
        r.n_train for r in runs if (r.model, r.augmentation, r.order) == ("default", "none", "shuffled")
    }
    assert len(default_sizes) >= 3 and min(default_sizes) <= 1000 and max(default_sizes) == 60_000
    assert {r.model for r in runs if r.n_train == 1000} == set(generalisation.HIDDEN)
    assert {r.augmentation for r in runs} >= {"none", "flip"}
    assert any(r.order == "fixed" for r in runs)


def test_custom_augmentation_needs_its_own_directory_and_enough_images():
    images = np.zeros((200, 28, 28, 1), np.float32)
    with pytest.raises(ValueError, match="own directory"):
        generalisation.train_variant(generalisation.Run(200), images, augment=lambda x, rng: x)
    with pytest.raises(ValueError, match="needs 1000"):
        generalisation.train_variant(generalisation.Run(1000), images)


def test_memoriser_log_likelihood_matches_the_formula():
    rng = np.random.default_rng(0)
    train = rng.random((5, 4, 4, 1))
    x = (rng.random((3, 4, 4, 1)) < 0.5).astype(np.float32)
    p = 0.1 + 0.8 * train.reshape(5, -1)
    flat = x.reshape(3, -1)
    by_hand = [np.log(np.mean([np.prod(np.where(row == 1, p_n, 1 - p_n)) for p_n in p])) for row in flat]
    np.testing.assert_allclose(generalisation.memoriser_log_likelihood(x, train, 0.1), by_hand, rtol=1e-10)


def test_memoriser_prefers_its_training_images():
    images, _ = data.load_fashion_mnist("train")
    intensities = data.to_unit_interval(images[:600])
    train, test = intensities[:300], intensities[300:]
    rng = np.random.default_rng(1)
    on_train = generalisation.memoriser_log_likelihood(data.binarize(train, rng), train).mean()
    on_test = generalisation.memoriser_log_likelihood(data.binarize(test, rng), train).mean()
    assert on_train > on_test + 50


@pytest.mark.parametrize(
    ("images", "train", "smoothing", "match"),
    [
        (np.zeros((2, 4)), np.zeros((3, 5)), 0.05, "pixels"),
        (np.zeros((2, 4)), np.zeros((3, 4)), 0.5, "smoothing"),
    ],
)
def test_memoriser_refuses_bad_input(images, train, smoothing, match):
    with pytest.raises(ValueError, match=match):
        generalisation.memoriser_log_likelihood(images, train, smoothing)


@pytest.fixture
def tiny_budget(monkeypatch):
    """A budget of seconds: 2 epochs of 10 steps, small evaluation sets."""
    for name, value in (
        ("EPOCHS", 2),
        ("STEPS_PER_EPOCH", 10),
        ("WARM_UP_EPOCHS", 0.5),
        ("N_EVAL", 200),
        ("N_GAP", 300),
        ("N_SAMPLES", 50),
        ("IW_SAMPLES", 5),
    ):
        monkeypatch.setattr(generalisation, name, value)


def test_a_run_trains_measures_and_resumes(tiny_budget, tmp_path):
    images = generalisation.Data.load()
    run = generalisation.Run(300, model="small")
    row = generalisation.run_row(run, images, directory=tmp_path / "run")
    assert set(generalisation.CSV_FIELDS) <= set(row)
    assert row["steps"] == 20 and row["passes"] == pytest.approx(20 * 128 / 300)
    assert row["gap"] == pytest.approx(row["test_nll_elbo"] - row["train_nll_elbo"])
    assert 0 < row["gap_se"] < 10
    assert 0 <= row["closer_to_train"] <= 1 and row["seconds"] > 0
    again = generalisation.run_row(run, images, directory=tmp_path / "run")  # restored, not retrained
    assert again["test_nll"] == pytest.approx(row["test_nll"])
    assert again["seconds"] == row["seconds"], "the training time comes from the checkpoint's history"


def test_main_writes_a_results_file_with_provenance(tiny_budget, tmp_path, monkeypatch):
    monkeypatch.setattr(
        generalisation, "sweep_runs", lambda seed: [generalisation.Run(300, "small", seed=seed)]
    )
    monkeypatch.setenv("GENMODELS_CHECKPOINT_DIR", str(tmp_path / "checkpoints"))
    out = tmp_path / "generalisation.csv"
    assert generalisation.main(["--out", str(out)]) == 0
    header, rows = generalisation.read_csv(out)
    assert header["command"].startswith("python -m genmodels.experiments generalisation")
    assert "budget" in header and header["runs"] == "1 of 1"
    assert generalisation.find_row(rows, generalisation.Run(300, "small"))["steps"] == 20
    with pytest.raises(KeyError, match="no row"):
        generalisation.find_row(rows, generalisation.Run(300, "large"))


def test_missing_results_file_says_how_to_make_it(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"genmodels\.experiments generalisation"):
        generalisation.read_csv(tmp_path / "none.csv")


def test_stored_results_are_complete_and_have_provenance():
    header, rows = generalisation.read_csv(RESULTS)
    for key in ("command", "date", "tensorflow", "keras", "numpy", "budget"):
        assert header.get(key), key
    assert all(r["steps"] == generalisation.EPOCHS * generalisation.STEPS_PER_EPOCH for r in rows)
    for run in generalisation.sweep_runs():
        generalisation.find_row(rows, run)


@pytest.mark.slow
def test_one_stored_row_reproduces(tmp_path):
    """Re-run the cheapest stored run: same seed, same numbers."""
    _, rows = generalisation.read_csv(RESULTS)
    row = min(rows, key=lambda r: r["seconds"])
    run = generalisation.Run(
        **{field.name: row[field.name] for field in dataclasses.fields(generalisation.Run)}
    )
    again = generalisation.run_row(run, directory=tmp_path / run.name)
    for key in ("train_nll_elbo", "test_nll_elbo", "train_nll", "test_nll", "gap", "closer_to_train"):
        assert again[key] == pytest.approx(row[key], rel=1e-3, abs=0.05), key
