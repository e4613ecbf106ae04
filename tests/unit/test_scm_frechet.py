import numpy as np
import pytest

from assets.training.scm.frechet import FeatureClassifier, GaussianStats, class_coverage, frechet_distance


def test_fd_of_a_set_with_itself_is_zero_and_symmetric():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(500, 6)), rng.normal(size=(400, 6)) * 1.5 + 0.3
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-8)
    assert frechet_distance(a, b) == pytest.approx(frechet_distance(b, a), rel=1e-9)


def test_fd_closed_forms():
    d = np.array([1.0, -2.0, 0.5])
    a = GaussianStats(np.zeros(3), np.eye(3), 10)
    b = GaussianStats(d, np.eye(3), 10)
    assert frechet_distance(a, b) == pytest.approx(float(d @ d))  # same covariance: ||mu_a - mu_b||^2
    one = GaussianStats(np.zeros(1), np.array([[4.0]]), 10)
    two = GaussianStats(np.zeros(1), np.array([[9.0]]), 10)
    assert frechet_distance(one, two) == pytest.approx(1.0)  # 1-D: (sigma_a - sigma_b)^2 = (2 - 3)^2
    diag = GaussianStats(np.zeros(2), np.diag([1.0, 4.0]), 10)
    iso = GaussianStats(np.zeros(2), np.diag([4.0, 1.0]), 10)
    assert frechet_distance(diag, iso) == pytest.approx(2.0)  # (1-2)^2 + (2-1)^2


def test_class_coverage():
    assert class_coverage(np.array([0, 1, 2, 3] * 5), 4)["coverage"] == 1.0
    collapsed = class_coverage(np.array([0] * 95 + [1] * 5), 4)
    assert collapsed["coverage"] == 0.25 and collapsed["max_class_share"] == 0.95
    assert collapsed["min_class_share"] == 0.0


def test_classifier_features_separate_classes():
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.normal(-1, 0.3, size=(60, 1, 4, 4)), rng.normal(1, 0.3, size=(60, 1, 4, 4))])
    y = np.array([0] * 60 + [1] * 60)
    clf = FeatureClassifier(hidden=(16, 8), seed=0, max_iter=200).fit(x, y)
    assert clf.accuracy(x, y) > 0.95
    f = clf.features(x)
    assert f.shape == (120, 8)
    assert frechet_distance(f[:60], f[60:]) > 10 * frechet_distance(f[:30], f[30:60])
