"""How results are shown beyond a ranked page: one per article, newest first, facets (view.py, arrange.py, facets.py), and related stories (related.py)."""
