"""A segment's BM25 postings as numpy files: the arrays (segment_postings.py), how they are assembled
(assembly.py) from Whoosh (from_whoosh.py), from the text (from_text.py) or from a merge's sources
(merge.py), and the statistics of rows deleted since (deleted_stats.py)."""
