"""Encoding queries for a concurrent service: batched forward passes, recent vectors kept."""
