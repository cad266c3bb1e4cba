"""The API on loopback with the tests' fake encoder: what `zhsearch serve` is for a `--fake-encoder` index.

Usage: .venv/bin/python bench/common/serve_fake.py --index-dir DIR --port PORT (run by its path, with PYTHONPATH naming
the checkout whose app it serves: bench/search/compare_revisions.py serves another revision's code with it)

Its imports are in `main`: every merge child the service forks runs this file again as `__mp_main__`
(multiprocessing does that for a script), and imported at the top they cost each merge ~0.2 s of CPU
that a service started by `zhsearch serve` (`python -m api.cli`) does not pay.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[2] / "tests"  # this checkout's, for the fake encoder


def main() -> None:
    import uvicorn

    from api.app import create_app
    from index.model.heap import SERVICE_HEAPS, limit_heaps
    from index.settings import Settings
    from search.serving.blas import one_blas_thread

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    sys.path.insert(0, str(TESTS))
    from fakes import FakeEncoder

    settings = Settings().model_copy(update={"index_dir": args.index_dir})
    limit_heaps(SERVICE_HEAPS)  # as `zhsearch serve` does
    one_blas_thread()
    uvicorn.run(create_app(settings, FakeEncoder()), host="127.0.0.1", port=args.port)


if __name__ == "__main__":
    main()
