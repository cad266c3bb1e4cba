"""A segment's documents: articles and paragraphs as JSONL (docstore.py), mapped and read a record at a time
(json_lines.py): paragraphs by row (paragraph_rows.py), articles by id (article_map.py); and where each article's
rows are, for a process that writes (article_rows.py)."""
