"""A segment's documents: articles and paragraphs as JSONL (docstore.py), its paragraphs read by row from the
mapped file (paragraph_rows.py), and where each article's rows are, for a process that writes (article_rows.py)."""
