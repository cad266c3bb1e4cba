"""Whoosh sub-files read in place: the same bytes and positions as BytesIO, and no copy of the buffer."""

import io
import mmap

from hypothesis import given
from hypothesis import strategies as st
from whoosh.filedb.structfile import BufferFile

import index.bm25_store  # noqa: F401  (what installs the reader for the project)
from index.whoosh_files import MemoryRaw, memory_file

operations = st.lists(st.one_of(
    st.tuples(st.just("read"), st.integers(-1, 40)),
    st.tuples(st.just("readline"), st.just(0)),
    st.tuples(st.just("seek"), st.integers(0, 300)),
    st.tuples(st.just("seek_cur"), st.integers(-20, 20)),
    st.tuples(st.just("seek_end"), st.integers(-50, 0)),
), max_size=30)


def apply(f, op: str, arg: int, size: int):
    """One file operation; seeks are clamped inside [0, size] for both files alike."""
    if op == "read":
        return f.read(arg)
    if op == "readline":
        return f.readline()
    if op == "seek":
        return f.seek(arg)
    if op == "seek_cur":
        return f.seek(max(arg, -f.tell()), io.SEEK_CUR)
    return f.seek(max(arg, -size), io.SEEK_END)


@given(st.binary(max_size=200).map(lambda b: b.replace(b"\x00", b"\n")), operations)
def test_reads_and_seeks_as_bytesio_does(data, ops):
    ours, theirs = memory_file(memoryview(data)), io.BytesIO(data)
    for op, arg in ops:
        assert apply(ours, op, arg, len(data)) == apply(theirs, op, arg, len(data))
        assert ours.tell() == theirs.tell()
    assert ours.read() == theirs.read()


def test_whoosh_buffer_files_read_the_map_in_place(tmp_path):
    path = tmp_path / "segment"
    path.write_bytes(bytes(range(256)) * 64)
    with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as source:
        view = memoryview(source)[1000:5000]
        f = BufferFile(view, name="x.pst")
        assert isinstance(f.file.raw, MemoryRaw)  # not BytesIO: nothing copied at open
        f.seek(10)
        assert f.read(3) == bytes([(1010 + i) % 256 for i in range(3)])
        assert f.get(0, 2) == bytes([1000 % 256, 1001 % 256])
        assert f.read_byte() == 1013 % 256
        f.file.close()
        del f, view
