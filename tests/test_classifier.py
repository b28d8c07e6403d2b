"""genmodels.classifier and the Fréchet distance of genmodels.metrics.

The Fréchet distance is checked against closed forms computed independently of the
implementation's matrix square root: the 1-D and diagonal formulas, and for general
covariances ``Tr((S_a S_b)^(1/2)) = sum_i sqrt(lambda_i(S_a^(1/2) S_b S_a^(1/2)))`` from
symmetric eigendecompositions.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

from genmodels import classifier, data, gan, metrics
from genmodels.metrics import class_histogram, classifier_frechet_distance, frechet_distance
from genmodels.training import CheckpointError
from genmodels.validation import InputCheckError

# ---------------------------------------------------------------- independent references


def _psd_sqrt(matrix: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh(matrix)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def gaussian_fd(mu_a, cov_a, mu_b, cov_b) -> float:
    """W2^2 between two Gaussians via symmetric eigendecompositions (no sqrtm)."""
    root_a = _psd_sqrt(np.asarray(cov_a, float))
    inner = np.linalg.eigvalsh(root_a @ cov_b @ root_a)
    diff = np.asarray(mu_a, float) - mu_b
    return float(diff @ diff + np.trace(cov_a) + np.trace(cov_b) - 2 * np.sqrt(np.clip(inner, 0, None)).sum())


def sample_fd(a: np.ndarray, b: np.ndarray) -> float:
    """The same estimator as frechet_distance (sample mean, ddof=1 covariance), computed by eigh."""
    return gaussian_fd(a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False))


def exact_moments(rng, n, mean, std) -> np.ndarray:
    """n points whose sample mean is exactly ``mean`` and sample covariance exactly diag(std^2)."""
    z = rng.standard_normal((n, len(mean)))
    z -= z.mean(axis=0)
    z = z @ np.linalg.inv(_psd_sqrt(np.cov(z, rowvar=False)))  # whitened: sample covariance I
    return np.asarray(mean) + z * np.asarray(std)


def random_covariance(rng, d) -> np.ndarray:
    m = rng.standard_normal((d, d))
    return m @ m.T / d + 0.1 * np.eye(d)


# ---------------------------------------------------------------- frechet_distance


def test_one_dimensional_closed_form():
    rng = np.random.default_rng(0)
    a = rng.normal(1.0, 2.0, size=(500, 1))
    b = rng.normal(-0.5, 0.7, size=(300, 1))
    expected = (a.mean() - b.mean()) ** 2 + (a.std(ddof=1) - b.std(ddof=1)) ** 2
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-10)


def test_diagonal_closed_form():
    rng = np.random.default_rng(1)
    mu_a, mu_b = rng.normal(size=6), rng.normal(size=6)
    std_a, std_b = rng.uniform(0.2, 3.0, 6), rng.uniform(0.2, 3.0, 6)
    a = exact_moments(rng, 400, mu_a, std_a)
    b = exact_moments(rng, 250, mu_b, std_b)
    np.testing.assert_allclose(np.cov(a, rowvar=False), np.diag(std_a**2), atol=1e-12)
    expected = np.sum((mu_a - mu_b) ** 2) + np.sum((std_a - std_b) ** 2)
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-9)


def test_general_covariances_match_the_eigenvalue_formula():
    rng = np.random.default_rng(2)
    a = rng.multivariate_normal(rng.normal(size=8), random_covariance(rng, 8), size=300)
    b = rng.multivariate_normal(rng.normal(size=8), random_covariance(rng, 8), size=200)
    assert frechet_distance(a, b) == pytest.approx(sample_fd(a, b), rel=1e-8)


def test_identical_sets_give_zero():
    rng = np.random.default_rng(3)
    features = np.maximum(rng.standard_normal((1000, 64)) @ rng.standard_normal((64, 64)), 0.0)
    features[:, :5] = 0.0  # dead ReLU units, as in a trained network
    scale = np.trace(np.cov(features, rowvar=False))
    assert 0.0 <= frechet_distance(features, features) <= 1e-9 * scale
    assert frechet_distance(features.astype(np.float32), features.astype(np.float32)) <= 1e-6 * scale


def test_symmetric():
    rng = np.random.default_rng(4)
    a = rng.multivariate_normal(np.zeros(5), random_covariance(rng, 5), size=400)
    b = rng.multivariate_normal(np.ones(5), random_covariance(rng, 5), size=300)
    assert frechet_distance(a, b) == pytest.approx(frechet_distance(b, a), rel=1e-9)


def test_a_mean_shift_adds_its_squared_length():
    rng = np.random.default_rng(5)
    a = rng.multivariate_normal(np.zeros(4), random_covariance(rng, 4), size=500)
    direction = rng.normal(size=4)
    values = [frechet_distance(a, a + t * direction) for t in (0.25, 0.5, 1.0, 2.0)]
    assert values == pytest.approx([t**2 * direction @ direction for t in (0.25, 0.5, 1.0, 2.0)], rel=1e-8)
    assert values == sorted(values)


def test_large_samples_approach_the_analytic_distance():
    rng = np.random.default_rng(6)
    d = 4
    mu_a, mu_b = rng.normal(size=d), rng.normal(size=d)
    cov_a, cov_b = random_covariance(rng, d), random_covariance(rng, d)
    truth = gaussian_fd(mu_a, cov_a, mu_b, cov_b)
    errors = []
    for n in (200, 200_000):
        a = rng.multivariate_normal(mu_a, cov_a, size=n)
        b = rng.multivariate_normal(mu_b, cov_b, size=n)
        errors.append(abs(frechet_distance(a, b) - truth))
    assert errors[1] < 0.01 * truth, (truth, errors)
    assert errors[1] < errors[0]


def test_bias_for_equal_distributions_shrinks_with_n():
    # Two samples of the same Gaussian: the true distance is 0, the estimate is positive
    # and falls roughly like 1/N.
    rng = np.random.default_rng(7)

    def mean_fd(n):
        return np.mean(
            [frechet_distance(rng.normal(size=(n, 10)), rng.normal(size=(n, 10))) for _ in range(5)]
        )

    small, large = mean_fd(200), mean_fd(20_000)
    assert small > 0 and large > 0
    assert large < small / 20


def test_features_constant_in_both_sets_add_their_squared_mean_difference():
    rng = np.random.default_rng(8)
    a = rng.multivariate_normal(np.zeros(3), random_covariance(rng, 3), size=300)
    b = rng.multivariate_normal(np.ones(3), random_covariance(rng, 3), size=300)
    a_dead = np.hstack([a, np.full((300, 2), [0.0, 1.5])])
    b_dead = np.hstack([b, np.full((300, 2), [0.0, -0.5])])
    assert frechet_distance(a_dead, b_dead) == pytest.approx(frechet_distance(a, b) + 2.0**2, rel=1e-9)


def test_singular_covariance_in_one_set_stays_close_to_the_reference():
    rng = np.random.default_rng(9)
    a = rng.multivariate_normal(np.zeros(6), random_covariance(rng, 6), size=400)
    b = rng.multivariate_normal(np.ones(6), random_covariance(rng, 6), size=400)
    a[:, 0] = 0.0  # dead in one set only: S_a is singular
    b[:, 1] = 2.0 * b[:, 2]  # rank-deficient in the other
    value = frechet_distance(a, b)
    assert np.isfinite(value)
    assert value == pytest.approx(sample_fd(a, b), rel=1e-4)


def test_frechet_distance_input_errors():
    rng = np.random.default_rng(10)
    a = rng.normal(size=(100, 4))
    with pytest.raises(InputCheckError, match="4 features per example, features_b 3"):
        frechet_distance(a, rng.normal(size=(100, 3)))
    with pytest.raises(InputCheckError, match=r"reshape\(-1, 1\)"):
        frechet_distance(a[:, 0], a[:, 1])
    with pytest.raises(InputCheckError, match="more examples than features"):
        frechet_distance(a, a[:4])
    with pytest.raises(InputCheckError, match="NaN"):
        frechet_distance(a, np.where(a > 2.5, np.nan, a))


# ---------------------------------------------------------------- the classifier


def test_classifier_shapes_and_feature_layer():
    model = classifier.build_fashion_classifier()
    images = np.zeros((3, 28, 28, 1), np.float32)
    assert model(images).shape == (3, 10)
    extractor = classifier.feature_extractor(model)
    assert extractor(images).shape == (3, 128)
    assert extractor.get_layer(classifier.FEATURE_LAYER) is model.get_layer(classifier.FEATURE_LAYER)
    small = classifier.build_fashion_classifier(feature_dim=32)
    assert classifier.feature_extractor(small)(images).shape == (3, 32)


def test_classifier_weights_follow_the_seed():
    def weights(seed):
        return [w.copy() for w in classifier.build_fashion_classifier(seed=seed).get_weights()]

    for w0, w0_again in zip(weights(0), weights(0), strict=True):
        np.testing.assert_array_equal(w0, w0_again)
    assert not np.allclose(weights(0)[0], weights(1)[0])


def test_feature_extractor_needs_the_feature_layer():
    x = keras.Input((28, 28, 1))
    other = keras.Model(x, keras.layers.Dense(10)(keras.layers.Flatten()(x)), name="other")
    with pytest.raises(ValueError, match="no layer named 'features'"):
        classifier.feature_extractor(other)


def test_training_input_errors():
    images_u8 = np.zeros((20, 28, 28), np.uint8)
    labels = np.arange(20) % 10
    with pytest.raises(InputCheckError, match="to_tanh_range"):
        classifier.train_fashion_classifier(images_u8, labels)
    with pytest.raises(InputCheckError, match=r"\[-1, 1\]"):
        classifier.train_fashion_classifier(np.full((20, 28, 28, 1), 255.0), labels)
    images = np.zeros((20, 28, 28, 1), np.float32)
    with pytest.raises(InputCheckError, match="one per image"):
        classifier.train_fashion_classifier(images, labels[:10])
    with pytest.raises(InputCheckError, match=r"0\.\.9"):
        classifier.train_fashion_classifier(images, labels + 1)
    with pytest.raises(InputCheckError, match="integers"):
        classifier.train_fashion_classifier(images, labels.astype(float))


@pytest.mark.slow
def test_short_training_repeats_number_for_number():
    """Two 1-epoch runs on 256 random images (about 5 s, mostly tracing): identical weights."""
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (256, 28, 28, 1)).astype(np.float32)
    labels = rng.integers(0, 10, 256)
    first = classifier.train_fashion_classifier(images, labels, epochs=1, batch_size=64, seed=3)
    second = classifier.train_fashion_classifier(images, labels, epochs=1, batch_size=64, seed=3)
    for w1, w2 in zip(first.get_weights(), second.get_weights(), strict=True):
        np.testing.assert_array_equal(w1, w2)


def test_save_and_load(tmp_path):
    model = classifier.build_fashion_classifier(seed=5)
    path = classifier.save_classifier(model, tmp_path / "clf")
    assert path.name == classifier.WEIGHTS_FILE and path.is_file()
    images = np.random.default_rng(0).uniform(-1, 1, (4, 28, 28, 1)).astype(np.float32)
    loaded = classifier.load_classifier(tmp_path / "clf")
    np.testing.assert_array_equal(np.asarray(model(images)), np.asarray(loaded(images)))


def test_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no saved classifier"):
        classifier.load_classifier(tmp_path)
    classifier.save_classifier(classifier.build_fashion_classifier(feature_dim=64), tmp_path)
    with pytest.raises(CheckpointError, match="another architecture"):
        classifier.load_classifier(tmp_path, feature_dim=128)
    classifier.load_classifier(tmp_path, feature_dim=64)  # the right size loads
    path = tmp_path / classifier.WEIGHTS_FILE
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(CheckpointError, match="corrupt"):
        classifier.load_classifier(tmp_path, feature_dim=64)


def test_load_or_train_trains_once(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (64, 28, 28, 1)).astype(np.float32)
    labels = rng.integers(0, 10, 64)
    trained = classifier.load_or_train_fashion_classifier(tmp_path, images, labels, batch_size=32)

    def no_training(*args, **kwargs):
        raise AssertionError("trained again although weights were saved")

    monkeypatch.setattr(classifier, "train_fashion_classifier", no_training)
    again = classifier.load_or_train_fashion_classifier(tmp_path, images, labels, batch_size=32)
    np.testing.assert_array_equal(np.asarray(trained(images[:4])), np.asarray(again(images[:4])))


# ---------------------------------------------------------------- class histogram


def _pixel_classifier() -> keras.Model:
    """Logits = the first 10 pixels: an image with its brightest such pixel at k is class k."""
    x = keras.Input((28, 28, 1))
    logits = keras.layers.Lambda(lambda t: t[:, :10])(keras.layers.Flatten()(x))
    return keras.Model(x, logits)


def test_class_histogram_counts_arg_max_classes():
    classes = np.array([0, 3, 3, 9, 9, 9, 1])
    images = -np.ones((len(classes), 28, 28, 1), np.float32)
    images[np.arange(len(classes)), 0, classes, 0] = 1.0
    counts = class_histogram(_pixel_classifier(), images, batch_size=3)
    np.testing.assert_array_equal(counts, [1, 1, 0, 2, 0, 0, 0, 0, 0, 3])
    assert counts.dtype == np.int64


def test_class_histogram_errors():
    model = _pixel_classifier()
    with pytest.raises(ValueError, match="n_classes=10"):
        class_histogram(model, np.zeros((2, 28, 28, 1)), n_classes=5)
    with pytest.raises(InputCheckError, match="to_tanh_range"):
        class_histogram(model, np.zeros((2, 28, 28), np.uint8))


def test_classifier_frechet_distance_checks_both_sets():
    extractor = classifier.feature_extractor(classifier.build_fashion_classifier(feature_dim=8))
    rng = np.random.default_rng(0)
    real = rng.uniform(-1, 1, (50, 28, 28, 1)).astype(np.float32)
    assert classifier_frechet_distance(extractor, real, real) == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(InputCheckError, match="fake images must have values in"):
        classifier_frechet_distance(extractor, real, (real + 1) * 127.5)


# ---------------------------------------------------------------- on real Fashion-MNIST


@pytest.fixture(scope="module")
def fashion():
    if data.find_fashion_mnist() is None:
        pytest.skip("Fashion-MNIST not available offline")
    train_images, train_labels = data.load_fashion_mnist("train", download=False)
    test_images, test_labels = data.load_fashion_mnist("test", download=False)
    return (
        data.to_tanh_range(train_images),
        train_labels,
        data.to_tanh_range(test_images),
        test_labels,
    )


@pytest.fixture(scope="module")
def trained_classifier(fashion):
    train_images, train_labels, _, _ = fashion
    return classifier.train_fashion_classifier(train_images[:5000], train_labels[:5000], epochs=1)


@pytest.mark.slow
def test_short_training_beats_chance(fashion, trained_classifier):
    """5,000 images, one epoch (about 3 s on 2 cores): chance is 10%, we get about 75%."""
    _, _, test_images, test_labels = fashion
    accuracy = classifier.classifier_accuracy(trained_classifier, test_images[:2000], test_labels[:2000])
    assert accuracy > 0.6


@pytest.mark.slow
def test_real_images_are_far_closer_to_real_than_noise_or_an_untrained_generator(fashion, trained_classifier):
    train_images, _, test_images, _ = fashion
    extractor = classifier.feature_extractor(trained_classifier)
    rng = np.random.default_rng(0)
    real = train_images[10_000:12_000]  # not seen by the classifier
    real_other = test_images[:2000]
    noise = rng.uniform(-1, 1, real.shape).astype(np.float32)
    keras.utils.set_random_seed(0)
    generator = gan.build_dcgan_generator()
    z = rng.standard_normal((2000, 64)).astype(np.float32)
    untrained = keras.ops.convert_to_numpy(generator(z, training=False))

    fd_real = classifier_frechet_distance(extractor, real, real_other)
    fd_noise = classifier_frechet_distance(extractor, real, noise)
    fd_untrained = classifier_frechet_distance(extractor, real, untrained)
    assert fd_real > 0
    assert fd_noise > 20 * fd_real, (fd_real, fd_noise)
    assert fd_untrained > 20 * fd_real, (fd_real, fd_untrained)

    counts = metrics.class_histogram(trained_classifier, real_other)
    assert counts.sum() == 2000 and counts.min() >= 50  # all 10 classes (about 200 each; measured >= 108)
