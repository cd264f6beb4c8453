"""matmul_nt: a @ b.T through OpenBLAS with the GIL released, and its NumPy fallbacks."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from chainrule.kernels._gemm import matmul_nt


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(16, 27, 3000), (1, 1, 1), (5, 7, 2)])
def test_matmul_nt_matches_numpy(dtype, shape):
    M, N, K = shape
    rng = np.random.default_rng(0)
    a = rng.standard_normal((M, K)).astype(dtype)
    b = rng.standard_normal((N, K)).astype(dtype)
    out = matmul_nt(a, b)
    assert out.shape == (M, N) and out.dtype == dtype
    tol = 1e-4 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out, a @ b.T, rtol=tol, atol=tol * np.sqrt(K))


def test_matmul_nt_falls_back_for_views_mixed_dtypes_and_empty_reductions():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((6, 10)).astype(np.float32)
    b = rng.standard_normal((4, 20)).astype(np.float32)
    np.testing.assert_allclose(matmul_nt(a, b[:, ::2]), a @ b[:, ::2].T, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(
        matmul_nt(a, b[:, :10].astype(np.float64)), a @ b[:, :10].T, rtol=1e-5
    )
    np.testing.assert_array_equal(matmul_nt(a[:, :0], b[:, :0]), np.zeros((6, 4), np.float32))


def test_matmul_nt_from_several_threads_gives_each_its_product():
    rng = np.random.default_rng(2)
    pairs = [(rng.standard_normal((16, 4000)), rng.standard_normal((9, 4000))) for _ in range(6)]
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda p: matmul_nt(*p), pairs))
    for (a, b), out in zip(pairs, results, strict=True):
        np.testing.assert_allclose(out, a @ b.T, rtol=1e-12, atol=1e-10)
