"""The pool of large arrays: reuse only once nothing refers to a block, limits, threads."""

import threading

import numpy as np
import pytest

from chainrule.kernels import _memory

BIG = (256, 1024)  # 1 MiB of float32: the smallest pooled size


@pytest.fixture(autouse=True)
def _empty_pool():
    _memory.release_pool()
    yield
    _memory.release_pool()


def test_small_arrays_come_from_numpy():
    a = _memory.empty((10, 10), np.float32)
    assert a.flags.owndata and a.shape == (10, 10) and a.dtype == np.float32


def test_a_freed_array_gives_its_block_to_the_next_request():
    a = _memory.empty(BIG, np.float32)
    pointer = a.ctypes.data
    del a
    b = _memory.empty(BIG, np.float32)
    assert b.ctypes.data == pointer and b.shape == BIG and b.flags.c_contiguous


@pytest.mark.parametrize(
    "derive",
    [
        lambda a: a.T,
        lambda a: a[3:7],
        lambda a: a.reshape(-1)[::2],
        lambda a: a.view(np.int32),
        lambda a: memoryview(a),
        lambda a: np.asarray(a)[None],
    ],
    ids=["transpose", "slice", "strided", "view", "memoryview", "asarray"],
)
def test_a_block_stays_taken_while_any_view_of_it_lives(derive):
    a = _memory.empty(BIG, np.float32)
    a[...] = 7.0
    view = derive(a)
    expected = np.array(view, copy=True)
    pointer = a.ctypes.data
    del a
    b = _memory.empty(BIG, np.float32)
    assert b.ctypes.data != pointer
    b[...] = -1.0
    np.testing.assert_array_equal(np.asarray(view), expected)
    del view, b
    assert _memory.empty(BIG, np.float32).ctypes.data == pointer  # free again: reused


def test_the_view_keeps_its_values_while_new_arrays_are_written():
    a = _memory.empty(BIG, np.float32)
    a[...] = 3.0
    row = a[5]
    del a
    others = [_memory.empty(BIG, np.float32) for _ in range(3)]
    for o in others:
        o[...] = -2.0
    assert np.all(row == 3.0)


def test_size_classes_bound_the_waste_and_are_shared():
    for n in (MiB := 1 << 20, MiB + 1, 3 * MiB + 5, 10**7):
        size = _memory._size_class(n)
        assert n <= size <= n * 1.125
    a = _memory.empty((1 << 20) + 4, np.uint8)
    pointer = a.ctypes.data
    del a
    assert _memory.empty((1 << 20) + 40, np.uint8).ctypes.data == pointer


def test_shapes_and_dtypes():
    a = _memory.empty(3 << 18, np.float64)
    assert a.shape == (3 << 18,) and a.dtype == np.float64
    like = _memory.empty_like(np.zeros((4, 1 << 17), np.float32).T)
    assert like.shape == (1 << 17, 4) and like.flags.c_contiguous


def test_idle_blocks_beyond_the_limit_are_dropped(monkeypatch):
    monkeypatch.setattr(_memory, "LIMIT_BYTES", 3 << 20)
    held = [_memory.empty(BIG, np.float32) for _ in range(3)]
    assert _memory.pool_bytes() == 3 << 20
    del held
    _memory.empty((2 << 20,), np.uint8)  # another class: idle 1 MiB blocks make room
    assert _memory.pool_bytes() <= 3 << 20


def test_live_blocks_are_never_dropped(monkeypatch):
    monkeypatch.setattr(_memory, "LIMIT_BYTES", 1 << 20)
    held = [_memory.empty(BIG, np.float32) for _ in range(3)]
    for i, h in enumerate(held):
        h[...] = i
    assert _memory.release_pool() == 0
    assert [float(h[0, 0]) for h in held] == [0.0, 1.0, 2.0]
    del held, h
    assert _memory.release_pool() == 3 << 20 and _memory.pool_bytes() == 0


def test_threads_never_share_a_block():
    pointers = []
    barrier = threading.Barrier(4)
    keep = []

    def grab():
        barrier.wait()
        for _ in range(20):
            a = _memory.empty(BIG, np.float32)
            keep.append(a)
            pointers.append(a.ctypes.data)

    threads = [threading.Thread(target=grab) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(pointers)) == len(pointers) == 80


def test_a_zero_limit_turns_the_pool_off(monkeypatch):
    monkeypatch.setattr(_memory, "LIMIT_BYTES", 0)
    a = _memory.empty(BIG, np.float32)
    assert a.flags.owndata and _memory.pool_bytes() == 0
