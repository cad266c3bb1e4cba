"""A service runs NumPy's BLAS on one thread (search/serving/blas.py); this is checked in a child process."""

import subprocess
import sys

LIMIT = ("from search.serving.blas import one_blas_thread; from threadpoolctl import threadpool_info; "
         "print(one_blas_thread(), sorted({lib['num_threads'] for lib in threadpool_info() if lib['user_api'] == 'blas'}))")


def test_a_service_keeps_numpys_blas_to_one_thread():
    ran = subprocess.run([sys.executable, "-c", LIMIT], env={"OPENBLAS_NUM_THREADS": "2", "PATH": ""},
                         capture_output=True, text=True, check=True)
    limited, threads = ran.stdout.split(" ", 1)
    assert int(limited) >= 1 and threads.strip() == "[1]"
