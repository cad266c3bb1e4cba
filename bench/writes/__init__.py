"""Writes: one-article upserts, ack-to-searchable, the sustained feed, bursts, merges and their cost."""
