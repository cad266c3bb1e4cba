"""Speed and scale of searches: `make bench` (run.py), its builds and peers, and the studies beside it."""
