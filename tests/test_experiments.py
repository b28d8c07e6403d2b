"""genmodels.experiments: methods, one run, the cache, the CSV and the stored table."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from genmodels import experiments
from genmodels.experiments import METHODS, Method

RESULTS = Path(__file__).resolve().parents[1] / "book" / "results" / "mode_collapse.csv"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"generator_loss": "hinge"}, "generator_loss"),
        ({"optimizer": "rmsprop"}, "optimizer"),
        ({"family": "folk"}, "family"),
        ({"pack_size": 0}, "pack_size"),
        ({"d_learning_rate": 0.0}, "learning rates"),
    ],
)
def test_bad_methods_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Method("x", "x", **kwargs)


def test_every_family_is_represented():
    families = [m.family for m in METHODS.values()]
    assert families.count("article") >= 3 and families.count("established") >= 3
    assert {"gan", "gan_minimax"} <= set(METHODS)


def test_run_seeds_are_distinct_and_stable():
    seeds = {experiments.run_seed(m, mix, s) for m in METHODS for mix in ("ring", "grid") for s in range(5)}
    assert len(seeds) == len(METHODS) * 10
    assert experiments.run_seed("gan", "ring", 0) == experiments.run_seed("gan", "ring", 0)


def test_real_batch_comes_from_the_mixture():
    model = experiments.ToyGAN(METHODS["gan"], experiments.MIXTURES["grid"], 10, batch_size=512, seed=0)
    points = model.real_batch().numpy()
    distances = np.linalg.norm(points[:, None] - experiments.MIXTURES["grid"].centers[None], axis=-1)
    assert points.shape == (512, 2) and np.all(distances.min(axis=1) < 6 * experiments.MIXTURES["grid"].std)
    assert len(np.unique(distances.argmin(axis=1))) == 25


def test_batch_must_fit_the_packs():
    with pytest.raises(ValueError, match="multiple of pack_size 4"):
        experiments.ToyGAN(METHODS["pacgan4"], experiments.MIXTURES["ring"], 10, batch_size=258)


def test_unknown_names_are_refused():
    with pytest.raises(ValueError, match="unknown method"):
        experiments.train_run("gan2", "ring", 0, 10)
    with pytest.raises(ValueError, match="mixture must be one of"):
        experiments.train_run("gan", "moons", 0, 10)


def test_same_seed_same_numbers_and_snapshots():
    a = experiments.train_run("pacgan2", "ring", 3, 60, 64, snapshot_every=30, d_map_limit=0.0)
    b = experiments.train_run("pacgan2", "ring", 3, 60, 64, snapshot_every=30)
    c = experiments.train_run("pacgan2", "ring", 4, 60, 64)
    np.testing.assert_array_equal(a.samples, b.samples)
    assert not np.array_equal(a.samples, c.samples)
    assert list(a.snapshot_steps) == [0, 30, 60] and a.snapshot_samples.shape == (3, 2500, 2)
    np.testing.assert_array_equal(a.snapshot_samples[-1], a.samples)


def test_discriminator_maps_only_for_single_point_discriminators():
    run = experiments.train_run("gan", "ring", 0, 20, 64, snapshot_every=20, d_map_limit=2.5)
    assert run.snapshot_d_maps.shape == (2, 80, 80)
    assert np.all((run.snapshot_d_maps >= 0) & (run.snapshot_d_maps <= 1))
    with pytest.raises(ValueError, match="single points"):
        experiments.train_run("pacgan2", "ring", 0, 20, 64, snapshot_every=20, d_map_limit=2.5)


def test_a_diverging_run_is_recorded_not_raised():
    exploding = Method(
        "exploding",
        "SGD with a huge step",
        optimizer="sgd",
        g_learning_rate=1e6,
        d_learning_rate=1e6,
        decay=False,
    )
    run = experiments.train_run(exploding, "ring", 0, 300, 64)
    assert run.diverged and run.report is None
    row = run.row()
    assert row["diverged"] == 1 and np.isnan(row["modes"]) and np.isnan(row["high_quality"])
    summary = experiments.summarise([row, {**row, "seed": 1}])
    assert summary[0]["diverged"] == 2 and np.isnan(summary[0]["modes_mean"])


def test_cached_run_loads_instead_of_training(tmp_path, monkeypatch):
    first = experiments.cached_run("gan", "ring", 0, 40, 64, cache=tmp_path)
    assert len(list(tmp_path.glob("*.npz"))) == 1

    def no_training(*args, **kwargs):
        raise AssertionError("trained again instead of loading")

    monkeypatch.setattr(experiments, "train_run", no_training)
    again = experiments.cached_run("gan", "ring", 0, 40, 64, cache=tmp_path)
    np.testing.assert_array_equal(first.samples, again.samples)
    assert again.row() == first.row()
    with pytest.raises(AssertionError, match="trained again"):  # another setting is another file
        experiments.cached_run("gan", "ring", 0, 41, 64, cache=tmp_path)


def test_a_changed_recipe_never_loads_a_stale_run(tmp_path, monkeypatch):
    import dataclasses

    experiments.cached_run("gan", "ring", 0, 30, 64, cache=tmp_path)
    calls = []

    def count_training(method, *args, **kwargs):
        calls.append(method)
        return original(method, *args, **kwargs)

    original = experiments.train_run
    monkeypatch.setattr(experiments, "train_run", count_training)
    changed = dataclasses.replace(METHODS["gan"], decay=False)  # same name, other recipe
    experiments.cached_run(changed, "ring", 0, 30, 64, cache=tmp_path)
    experiments.cached_run(METHODS["gan"], "ring", 0, 30, 64, cache=tmp_path)  # the registered one: cached
    assert calls == [changed] and len(list(tmp_path.glob("*.npz"))) == 2
    assert changed.fingerprint() != METHODS["gan"].fingerprint()
    assert Method("x", "other label", "article").fingerprint() == Method("y", "y").fingerprint()


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"generator_hidden": [64, 64]}, TypeError),
        ({"unroll_optimizer": "rmsprop"}, ValueError),
        ({"steps_factor": 0}, ValueError),
    ],
)
def test_bad_architectures_are_refused(kwargs, error):
    with pytest.raises(error):
        Method("x", "x", **kwargs)


def test_csv_round_trip_and_summary(tmp_path):
    rows = [
        {
            "method": "gan",
            "mixture": "ring",
            "seed": s,
            "steps": 10,
            "batch_size": 64,
            "modes": m,
            "modes_strict": m,
            "high_quality": hq,
            "reverse_kl": kl,
            "seconds": 1.5,
            "diverged": 0,
        }
        for s, (m, hq, kl) in enumerate([(8, 0.9, 0.01), (6, 0.8, 0.3), (7, 0.7, 0.2)])
    ]
    path = experiments.write_csv(rows, tmp_path / "t.csv", {"command": "test", "date": "today"})
    header, back = experiments.read_csv(path)
    assert header == {"command": "test", "date": "today"} and back == rows
    (entry,) = experiments.summarise(back)
    assert entry["modes_mean"] == pytest.approx(7.0) and entry["modes_sd"] == pytest.approx(1.0)
    assert entry["high_quality_mean"] == pytest.approx(80.0) and entry["all_modes"] == 1
    table = experiments.markdown_table([entry], "ring")
    assert "| 7.0 ± 1.0 | 1/3 |" in table and "*published:* PacGAN2 | 7.9 |" in table


def test_missing_results_file_says_how_to_make_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="make experiments"):
        experiments.read_csv(tmp_path / "nothing.csv")


def test_sweep_rows_and_progress(tmp_path):
    stream = io.StringIO()
    rows = experiments.sweep(
        ["gan", "pacgan2"], ["ring"], [0, 1], budget={"ring": (20, 64)}, cache=tmp_path, progress=stream
    )
    assert [(r["method"], r["seed"]) for r in rows] == [
        ("gan", 0),
        ("pacgan2", 0),
        ("gan", 1),
        ("pacgan2", 1),
    ]
    assert "4/4 runs" in stream.getvalue()
    with pytest.raises(ValueError, match="unknown methods"):
        experiments.sweep(["nope"], ["ring"], [0])


def test_stored_table_is_complete_and_has_provenance():
    header, rows = experiments.read_csv(RESULTS)
    for key in ("command", "date", "tensorflow", "keras", "numpy", "budget"):
        assert header.get(key), key
    assert all(
        r["steps"] == experiments.BUDGET[r["mixture"]][0] * METHODS[r["method"]].steps_factor for r in rows
    )


@pytest.mark.slow
def test_one_stored_row_reproduces():
    """Re-run the cheapest stored seed-0 ring run: same seed, same numbers."""
    _, rows = experiments.read_csv(RESULTS)
    row = min((r for r in rows if r["seed"] == 0 and r["mixture"] == "ring"), key=lambda r: r["seconds"])
    again = experiments.train_run(row["method"], "ring", 0, row["steps"], row["batch_size"]).row()
    for key in ("modes", "modes_strict", "high_quality", "reverse_kl", "diverged"):
        assert again[key] == pytest.approx(row[key], rel=1e-4, nan_ok=True), key


def test_find_results_locally_and_says_what_to_do(tmp_path, monkeypatch):
    assert experiments.find_results() == RESULTS or experiments.find_results().resolve() == RESULTS
    monkeypatch.chdir(tmp_path)
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "x.csv").write_text("method\n")
    assert experiments.find_results("x.csv") == Path("results") / "x.csv"
    with pytest.raises(FileNotFoundError, match="make experiments"):
        experiments.find_results("nothing.csv")
