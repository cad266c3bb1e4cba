# zhsearch: `make run` (install, index seeds/, serve on 127.0.0.1:8000) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INDEX_DIR ?= .zhsearch/index
export HF_HUB_OFFLINE := 1

.PHONY: install browser run test test-fast test-avx2 eval bench bench-milvus bench-runtimes bench-scale bench-writes clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# The CPU build of torch, from local disk; a bare `torch` requirement would pull a CUDA build.
	$(BIN)/pip install -q torch==2.13.0

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/zhsearch index seeds --index-dir $(INDEX_DIR)
	$(BIN)/zhsearch serve --index-dir $(INDEX_DIR) --host 127.0.0.1 --port 8000

test: install browser
	$(BIN)/pytest -q

test-fast: install
	$(BIN)/pytest -q -m "not e2e"

# The suite as on a CPU without AVX-512, AMX or bfloat16 (bench/cpu/avx2_only.py hides them from every process;
# pytest's faulthandler would take the SIGSEGV handler the shim answers cpuid with, hence -p no:faulthandler).
test-avx2: install browser
	$(BIN)/python bench/cpu/avx2_only.py --check -- $(BIN)/pytest -q -p no:faulthandler

# Relevance of every mode on the judged seed set and the shared BEIR sets (corpus indexes cached in
# ~/.cache/zhsearch/eval; about 20 minutes on 2 cores the first time).
eval: install
	for d in eval/datasets/seeds ../shared/datasets/*/; do $(BIN)/zhsearch eval $$d --mode all --compare; done

# Speed and scale (bench/search/run.py): a 10,000-paragraph corpus of real Chinese text, indexed (every paragraph
# and sentence embedded by the model: ~4 min) and timed; prints one table (index throughput by phase, peak RSS, size on disk,
# latency in-process and over HTTP with 1 and 8 clients, bm25s and numpy peers) and writes it to
# bench/results/<date>-10000.md. Larger corpora, one column each (--embed-limit N: the model embeds the first N,
# the rest filled in from their sentences' model vectors, bench/search/fill.py; --reuse-builds: time queries again on the last build):
#   $(BIN)/python -m bench.search.run --sizes 10000 --sizes 100000 --embed-limit 100000   # 100k: ~55 min on 2 cores
#   ZHSEARCH_SENTENCE_VECTORS=false $(BIN)/python -m bench.search.run --sizes 1000000 --embed-limit 20000 --loop-seconds 30  # 1M: ~50 min, server 8.7 GB; ran on 24 GB
# `make bench-scale` runs 100k alone and then 1M as above (~1 h 45 min; a table each, bench/results/<date>-100000.md
# and -1000000.md).
# A quick run without the model: $(BIN)/python -m bench.search.run --sizes 2000 --fake-encoder
bench: $(BIN)/python
	$(BIN)/pip install -q -e '.[bench]' && $(BIN)/python -m bench.search.run --sizes 10000 --embed-limit 10000

# The Milvus backend beside the embedded one on make bench's 10k index (bench/milvus/milvus_speed.py; Milvus Lite unless
# MILVUS_URI names a server: Lite's figures say nothing of a server's), and its relevance parity on every shared set
# (bench/milvus/milvus_parity.py, ranx's paired test; ~1 h on 2 cores with Lite).
MILVUS_URI ?= /tmp/zhsearch-bench-milvus.db
bench-milvus: $(BIN)/python
	$(BIN)/pip install -q -e '.[bench]'
	$(BIN)/python -m bench.milvus.milvus_speed --index-dir .zhsearch/bench/10000/index --uri $(MILVUS_URI)
	$(BIN)/python -m bench.milvus.milvus_parity --uri $(MILVUS_URI)

# The model runtimes side by side on this CPU and as an AVX2-only one (bench/model/runtimes.py, ~20 min): query latency,
# passages per second, cosine to torch float32 on the shared sets; bench/results/<date>-runtimes.md.
bench-runtimes: $(BIN)/python
	$(BIN)/pip install -q -e '.[bench]'
	$(BIN)/python -m bench.model.runtimes --agreement 500

bench-scale: $(BIN)/python
	$(BIN)/pip install -q -e '.[bench]'
	$(BIN)/python -m bench.search.run --sizes 100000 --embed-limit 100000
	ZHSEARCH_SENTENCE_VECTORS=false $(BIN)/python -m bench.search.run --sizes 1000000 --embed-limit 20000 --loop-seconds 30

# Writes at scale (bench/writes/write_load.py): one-article upserts' index work, ack-to-searchable over HTTP, a sustained
# feed beside 8 searching clients, disk after 1,000 writes and a merge, recall; on copies (hard links) of the
# bench indexes built by `make bench` (10k, real model); larger sizes need their bench/search/run.py build first.
bench-writes: $(BIN)/python
	$(BIN)/pip install -q -e '.[bench]'
	$(BIN)/python -m bench.writes.write_load --sizes 10000

clean:
	rm -rf .zhsearch .pytest_cache

# Debian's headless Chromium and its chromedriver for the search page's tests, tests/e2e/test_web_page*.py (skipped without them).
browser:
	@test -x /usr/bin/chromium && test -x /usr/bin/chromedriver || \
	  (apt-get update -q && apt-get install -y -q --no-install-recommends chromium chromium-driver fonts-noto-cjk) || \
	  echo "warning: could not install chromium and chromium-driver; the browser tests will be skipped"
