"""Whoosh sub-files read in place: the same bytes and positions as BytesIO, and no copy of the buffer."""

import io
import mmap
import pickle
import subprocess
import sys
from pathlib import Path

from hypothesis import example, given
from hypothesis import strategies as st
from whoosh.filedb.structfile import BufferFile

from index.store.whoosh_files import WHOOSH_INIT, MemoryRaw, install, memory_file

ROOT = Path(__file__).resolve().parents[3]

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


@example(data=b"\r\x01", ops=[], buffer_size=1)  # bytes.splitlines would split at the \r: a file does not
@given(st.binary(max_size=200).map(lambda b: b.replace(b"\x00", b"\n")), operations, st.integers(1, 17))
def test_reads_and_seeks_as_bytesio_does(data, ops, buffer_size):
    # Buffers of a few bytes: refills and seeks beyond the buffer, where the raw reader is used.
    ours, theirs = memory_file(memoryview(data), buffer_size), io.BytesIO(data)
    for op, arg in ops:
        assert apply(ours, op, arg, len(data)) == apply(theirs, op, arg, len(data))
        assert ours.tell() == theirs.tell()
    assert ours.read() == theirs.read()
    ours.seek(0)
    theirs.seek(0)
    assert list(ours) == list(theirs)  # binary files split lines at b"\n" only, never at b"\r"


def test_pickles_read_as_whoosh_reads_them():
    data = pickle.dumps({"a": [1, 2, 3]}) + pickle.dumps("tail")
    f = memory_file(memoryview(data), buffer_size=5)
    assert pickle.load(f) == {"a": [1, 2, 3]} and pickle.load(f) == "tail"


def test_whoosh_buffer_files_read_the_map_in_place(tmp_path):
    install()
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


def test_the_replacement_sets_what_whoosh_sets():
    ours, theirs = BufferFile.__new__(BufferFile), BufferFile.__new__(BufferFile)
    install()
    BufferFile.__init__(ours, b"abc", name="n")
    WHOOSH_INIT(theirs, b"abc", name="n")
    assert vars(ours).keys() == vars(theirs).keys()
    assert {k: v for k, v in vars(ours).items() if k != "file"} == {k: v for k, v in vars(theirs).items() if k != "file"}


def test_opening_the_bm25_store_installs_it():
    code = ("import index.store.bm25_store; from whoosh.filedb.structfile import BufferFile; "
            "print(type(BufferFile(b'x').file).__name__)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "BufferedReader"
