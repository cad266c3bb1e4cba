"""A service's NumPy products are small: one BLAS thread, not a team that spins between them.

A search multiplies a query by tens to a few hundred stored vectors (a segment's candidates,
their sentences). NumPy's OpenBLAS splits such products over every CPU, and its worker thread then
busy-waits for the next one: in a service at 100k paragraphs with 8 clients on 2 cores, OpenBLAS's
worker used ~37 of the ~99 CPU-seconds the server used a minute (per-thread CPU from /proc, the thread
named by gdb), time the model's and the requests' threads could have had. Builds keep every thread.
"""

from __future__ import annotations


def one_blas_thread() -> int:
    """Limit NumPy's BLAS (OpenBLAS, MKL) to one thread in this process; how many BLAS libraries now run one."""
    from importlib import import_module

    from threadpoolctl import threadpool_info, threadpool_limits

    import_module("numpy")  # its BLAS loads with it: the limit reaches only libraries loaded

    threadpool_limits(limits=1, user_api="blas")
    return sum(1 for lib in threadpool_info() if lib["user_api"] == "blas" and lib["num_threads"] == 1)
