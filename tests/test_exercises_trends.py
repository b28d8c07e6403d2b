"""The checks of the trends chapter pass right answers and explain wrong ones, never raising."""

from __future__ import annotations

import keras
import numpy as np

from genmodels import diffusion
from genmodels.exercises import trends as checks


def forward_marginal(x0, t, noise, betas):
    alpha_bar = np.cumprod(1 - betas)[t][:, None]
    return np.sqrt(alpha_bar) * x0 + np.sqrt(1 - alpha_bar) * noise


def test_forward_marginal_check():
    assert checks.check_forward_marginal(forward_marginal)
    one_step = checks.check_forward_marginal(
        lambda x0, t, noise, betas: np.sqrt(1 - betas[t])[:, None] * x0 + np.sqrt(betas[t])[:, None] * noise
    )
    assert not one_step and "Hint" in one_step.message
    no_roots = checks.check_forward_marginal(
        lambda x0, t, noise, betas: (
            np.cumprod(1 - betas)[t][:, None] * x0 + (1 - np.cumprod(1 - betas)[t][:, None]) * noise
        )
    )
    assert not no_roots
    assert not checks.check_forward_marginal(None)


def _raises(*args):
    raise NotImplementedError


def test_guided_noise_check_numbers():
    assert checks.check_guided_noise(diffusion.guided_noise)
    assert checks.check_guided_noise(lambda c, u, w: c + w * (c - u))
    assert not checks.check_guided_noise(lambda c, u, w: (1 - w) * c + w * u)  # guides the wrong way
    assert not checks.check_guided_noise(lambda c, u, w: w * c - (1 - w) * u)
    unanswered = checks.check_guided_noise(_raises)
    assert not unanswered and "not answered" in unanswered.message


def test_guided_noise_check_runs_the_sampler():
    keras.utils.set_random_seed(0)
    model = diffusion.Diffusion(
        diffusion.build_noise_predictor(2, n_classes=3, hidden=(8,)),
        diffusion.linear_schedule(5),
        n_classes=3,
    )
    result = checks.check_guided_noise(lambda c, u, w: (1 + w) * c - w * u, model, label=1, w=2.0)
    assert result and "sampler" in result.message
    as_list = checks.check_guided_noise(lambda c, u, w: ((1 + w) * c - w * u).tolist(), model, label=1)
    assert as_list  # any array-like is accepted


def test_copy_fraction_check():
    def copy_fraction(samples, train, radius):
        distances = np.linalg.norm(samples[:, None] - train[None], axis=-1)
        return np.mean(distances.min(axis=1) <= radius)

    assert checks.check_copy_fraction(copy_fraction)
    reverse = checks.check_copy_fraction(
        lambda s, tr, r: np.mean(np.linalg.norm(tr[:, None] - s[None], axis=-1).min(axis=1) <= r)
    )
    assert not reverse and "Hint" in reverse.message
    count = checks.check_copy_fraction(
        lambda s, tr, r: np.sum(np.linalg.norm(s[:, None] - tr[None], axis=-1).min(axis=1) <= r)
    )
    assert not count
    assert not checks.check_copy_fraction(42)
    crashing = checks.check_copy_fraction(lambda s, tr, r: s.undefined_attribute)
    assert not crashing and "AttributeError" in crashing.message
