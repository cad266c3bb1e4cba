"""Query and rank: BM25 and dense retrievers, fusion, the hybrid searcher."""
