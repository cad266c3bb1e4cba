"""The API on loopback with the tests' fake encoder: what `zhsearch serve` is for a `--fake-encoder` index.

Usage: .venv/bin/python bench/serve_fake.py --index-dir DIR --port PORT

Its imports are in `main`: every merge child the service forks runs this file again as `__mp_main__`
(multiprocessing does that for a script), and imported at the top they cost each merge ~0.2 s of CPU
that a service started by `zhsearch serve` (`python -m api.cli`) does not pay.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def main() -> None:
    import uvicorn

    from api.app import create_app
    from encoders import load_encoder
    from index.model.heap import SERVICE_HEAPS, limit_heaps
    from index.settings import Settings
    from search.serving.blas import one_blas_thread

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    settings = Settings().model_copy(update={"index_dir": args.index_dir})
    limit_heaps(SERVICE_HEAPS)  # as `zhsearch serve` does
    one_blas_thread()
    uvicorn.run(create_app(settings, load_encoder(settings, fake=True)), host="127.0.0.1", port=args.port)


if __name__ == "__main__":
    main()
