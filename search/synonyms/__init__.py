"""Synonyms: the file's rules applied to BM25 at query time (rules.py), and candidates proposed from a corpus (candidates.py)."""
