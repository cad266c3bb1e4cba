"""The embedded engine as a Corpus: one commit point's segments (Whoosh and BM25 postings, FAISS), in this process.

`corpus.py` (EmbeddedCorpus), `collection.py` (BM25 with the live collection's statistics),
`segment_dense.py` (a segment's dense search), `masks.py` (filters as row masks).
"""
