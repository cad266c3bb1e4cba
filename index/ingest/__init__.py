"""Ingest: newspaper pages, JSONL and BEIR sources -> Articles -> Paragraphs and sentences."""
