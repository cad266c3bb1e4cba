"""The Milvus store: a corpus as five Milvus collections (docs/milvus.md).

`connection.py` (the client, its timeouts and errors), `schema.py` (the collections), `record.py`
(what a corpus was built with, and its statistics), `rows.py` (paragraphs, sentences, articles
and terms as rows), `sparse.py` (BM25F as sparse vectors), `export.py` (an embedded index copied in).
"""
