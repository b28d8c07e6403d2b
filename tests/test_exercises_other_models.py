"""The checks of the other-models chapter pass right answers and explain wrong ones, never raising."""

from __future__ import annotations

import keras
import numpy as np

from genmodels.exercises import other_models as checks


def _raises(*args):
    raise NotImplementedError


def test_made_output_mask_check():
    assert checks.check_made_output_mask(
        lambda d_in, d_hidden: (d_hidden[:, None] < d_in[None, :]).astype(float)
    )
    sees_itself = checks.check_made_output_mask(
        lambda d_in, d_hidden: (d_hidden[:, None] <= d_in[None, :]) * 1.0
    )
    assert not sees_itself and "Hint" in sees_itself.message
    transposed = checks.check_made_output_mask(
        lambda d_in, d_hidden: (d_in[:, None] > d_hidden[None, :]) * 1.0
    )
    assert not transposed and "shape" in transposed.message
    natural_order_only = checks.check_made_output_mask(
        lambda d_in, d_hidden: (d_hidden[:, None] < np.arange(1, len(d_in) + 1)[None, :]) * 1.0
    )
    assert not natural_order_only  # ignores the ordering the degrees encode
    assert "not answered" in checks.check_made_output_mask(_raises).message
    assert not checks.check_made_output_mask(None)


def _right_inverse(y, mask, scale_and_shift):
    s, t = (keras.ops.convert_to_numpy(v) for v in scale_and_shift(mask * y))
    return mask * y + (1 - mask) * (y - t) * np.exp(-s), -s.sum(axis=1)


def test_coupling_inverse_check():
    assert checks.check_coupling_inverse(_right_inverse)

    def forward_log_det(y, mask, scale_and_shift):
        x, log_det = _right_inverse(y, mask, scale_and_shift)
        return x, -log_det

    wrong_sign = checks.check_coupling_inverse(forward_log_det)
    assert not wrong_sign and "log_det" in wrong_sign.message

    def shift_after_scale(y, mask, scale_and_shift):
        s, t = (keras.ops.convert_to_numpy(v) for v in scale_and_shift(mask * y))
        return mask * y + (1 - mask) * (y * np.exp(-s) - t), -s.sum(axis=1)

    order = checks.check_coupling_inverse(shift_after_scale)
    assert not order and "give back the input" in order.message
    assert not checks.check_coupling_inverse(lambda y, mask, f: y)  # one value, not (x, log_det)
    assert "not answered" in checks.check_coupling_inverse(_raises).message


def _fitted(c, n, r):
    return r.multivariate_normal(c.mean(0), np.cov(c, rowvar=False), size=n)


def test_code_prior_check():
    rng = np.random.default_rng(0)
    mixing = rng.normal(size=(6, 6))
    codes = rng.normal(size=(5000, 6)) @ mixing + 3.0  # correlated, off-centre, not unit scale
    assert checks.check_code_prior(_fitted, codes)
    standard = checks.check_code_prior(lambda c, n, r: r.standard_normal((n, c.shape[1])), codes)
    assert not standard and "centred" in standard.message
    diagonal = checks.check_code_prior(
        lambda c, n, r: c.mean(0) + c.std(0) * r.standard_normal((n, c.shape[1])), codes
    )
    assert not diagonal and "correlations" in diagonal.message
    wrong_shape = checks.check_code_prior(lambda c, n, r: r.standard_normal((n, 2)), codes)
    assert not wrong_shape and "shape" in wrong_shape.message
    assert "not answered" in checks.check_code_prior(_raises, codes).message


def test_code_prior_check_scores_the_decoded_samples():
    rng = np.random.default_rng(1)
    codes = rng.normal(size=(3000, 4)) * 5.0 + 2.0

    def distance_to_codes(images):  # a "score": how far the decoded set's mean is from the codes'
        return float(np.linalg.norm(images.mean(axis=0) - codes.mean(axis=0))) + 0.01

    result = checks.check_code_prior(_fitted, codes, decode=lambda z: z, score=distance_to_codes)
    assert result and "score of the decoded samples" in result.message
    useless_decoder = checks.check_code_prior(_fitted, codes, decode=lambda z: z * 0, score=distance_to_codes)
    assert not useless_decoder and "does not sample better" in useless_decoder.message
