"""The stores one segment is made of: docs, Whoosh (BM25), FAISS (paragraphs and sentences), postings."""
