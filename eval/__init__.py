"""Offline relevance evaluation on BEIR-format datasets."""
