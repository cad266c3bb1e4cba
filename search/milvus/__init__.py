"""The Milvus engine as a Corpus (docs/milvus.md): a corpus exported or written into Milvus collections.

`corpus.py` (MilvusCorpus), `lexical.py` (BM25F by sparse inner product, rescored and tie-broken
as the embedded engine ranks), `vectors.py` (dense search blended with sentences),
`expressions.py` (filters and boolean queries as Milvus expressions), `rows_cache.py` (paragraph
rows read by searches, kept for their hits).
"""
