"""The embedded MNIST sample shipped with the package."""

from __future__ import annotations

import numpy as np

from chainrule.data import load_mnist, load_mnist_sample
from chainrule.data.embedded import MNIST_SAMPLE_PATH


def test_sample_shapes_dtypes_and_size():
    x_train, y_train, x_test, y_test = load_mnist_sample()
    assert x_train.shape == (10000, 28, 28) and x_test.shape == (2000, 28, 28)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.int64
    assert int(x_train.max()) == 255 and int(x_train.min()) == 0
    assert np.bincount(y_train).tolist() == [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]
    assert np.bincount(y_test).tolist() == [175, 234, 219, 207, 217, 179, 178, 205, 192, 194]
    assert MNIST_SAMPLE_PATH.stat().st_size <= 3 * 1024 * 1024
    assert (MNIST_SAMPLE_PATH.parent / "ATTRIBUTION.md").is_file()


def test_sample_is_the_head_of_the_full_files(shared_data):
    x_train, y_train, x_test, y_test = load_mnist_sample()
    full_x, full_y = load_mnist(shared_data / "mnist", train=True)
    np.testing.assert_array_equal(x_train, full_x[:10000])
    np.testing.assert_array_equal(y_train, full_y[:10000])
    test_x, test_y = load_mnist(shared_data / "mnist", train=False)
    np.testing.assert_array_equal(x_test, test_x[:2000])
    np.testing.assert_array_equal(y_test, test_y[:2000])
