"""The service's live index: the searcher it holds and refreshes, writes admitted and group-committed, background merges."""
