"""Benchmarks: scripts that print figures, never timed tests. Run each from the repository root as a module,
`python -m bench.<package>.<script>`: common/ (what they share), search/ (speed and scale of searches, `make
bench`), writes/ (writes, feeds, merges), model/ (the model's runtimes and memory), milvus/ (the Milvus
backend), cpu/ (an AVX2-only CPU, emulated). Results go to bench/results/."""
