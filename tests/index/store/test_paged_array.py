"""A paged array reads what a memory-mapped one would, without mapping its file."""

import os

import numpy as np
import pytest

from index.store.paged_array import PagedArray


@pytest.fixture
def saved(tmp_path):
    def save(array: np.ndarray):
        path = tmp_path / f"a{len(list(tmp_path.iterdir()))}.npy"
        np.save(path, array)
        return PagedArray(path), np.load(path, mmap_mode="r")
    return save


def test_rows_spans_and_the_whole_array_equal_the_mapped_ones(saved):
    rng = np.random.default_rng(3)
    for array in (rng.integers(0, 2**63, size=(7, 5), dtype=np.uint64), rng.random((11, 3, 2)).astype(np.float32),
                  np.arange(13, dtype=np.int32)):
        paged, mapped = saved(array)
        assert paged.shape == mapped.shape and paged.dtype == mapped.dtype and len(paged) == len(mapped)
        assert np.array_equal(np.asarray(paged), mapped)
        for rows in ([0], [3, 4, 5], [6, 0, 1, 2, 2, 5], [], np.array([-1, 2]), list(range(len(array)))):
            assert np.array_equal(paged[rows], mapped[rows]) and paged[rows].dtype == mapped.dtype
        assert np.array_equal(paged[2], mapped[2]) and np.array_equal(paged[-1], mapped[-1])
        if array.ndim == 2:
            for columns in (slice(0, 0), slice(1, 4), slice(2, None), slice(None, 99), slice(-2, None)):
                assert np.array_equal(paged[4, columns], mapped[4, columns])


def test_a_row_out_of_range_or_an_unsupported_index_is_refused(saved):
    paged, _ = saved(np.zeros((4, 2), dtype=np.uint32))
    with pytest.raises(IndexError):
        paged[4]
    with pytest.raises(IndexError):
        paged[[0, 9]]
    with pytest.raises(TypeError):
        paged[1:3]
    with pytest.raises(TypeError):
        paged[0, ::2]


def test_the_file_stays_readable_once_removed_and_is_never_mapped(tmp_path):
    array = np.arange(40, dtype=np.uint64).reshape(8, 5)
    np.save(tmp_path / "r.npy", array)
    paged = PagedArray(tmp_path / "r.npy")
    os.remove(paged.path)
    assert np.array_equal(paged[[1, 2, 7]], array[[1, 2, 7]])  # the open descriptor keeps the removed file
    with open("/proc/self/maps") as maps:
        assert str(paged.path) not in maps.read()


def test_a_truncated_file_is_a_clear_error(tmp_path):
    path = tmp_path / "t.npy"
    np.save(path, np.arange(100, dtype=np.int64))
    with open(path, "r+b") as handle:
        handle.truncate(os.path.getsize(path) - 80)
    with pytest.raises(OSError, match="truncated"):
        PagedArray(path)[[99]]
