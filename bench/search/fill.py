"""Vectors for what a benchmark run does not embed: a paragraph gets the mean of its sentences' model vectors.

Embedding 1,000,000 paragraphs takes about 12 hours on 2 cores, so a large run embeds the first
`--embed-limit` paragraphs and fills in the rest. The generated corpus is made of some 13,400
distinct real sentences (bench/common/corpus.py), so each distinct sentence is embedded once by the
model, and:
- a sentence vector (of a multi-sentence paragraph) is the model's own: same text, same vector;
- a paragraph vector is the normalised mean of its sentences' vectors. That is not what the model
  gives the whole paragraph (as a paragraph vector it ranks worse: seed dense nDCG@10 0.788 vs
  0.844), but it lies where real vectors lie, clustered by topic near its source document, so IVF
  lists, query latency and recall against exact search behave as with real vectors. Uniform
  random vectors have no clusters at all, the worst case for an inverted-file index. (The title
  that the encoder sees before a one-paragraph article's text is left out here.)
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from rich.console import Console

from index.model.embed import Encoder, as_unit_rows
from index.model.passage_vectors import encode_into
from index.ingest.sentences import split_sentences

CHUNK = 50_000  # rows pooled per pass: bounds the temporaries at any corpus size


class SentenceTable:
    """Every distinct sentence of some texts, embedded once by the model."""

    def __init__(self, encoder: Encoder, texts: Sequence[str], console: Console) -> None:
        distinct = list(dict.fromkeys(s for text in texts for s in split_sentences(text)))
        self.row = {sentence: number for number, sentence in enumerate(distinct)}
        self.vectors = np.zeros((len(distinct), encoder.dim), dtype=np.float32)
        encode_into(encoder, distinct, self.vectors, console, unit="distinct sentences")

    def __len__(self) -> int:
        return len(self.row)

    def sentences(self, texts: Sequence[str], out: np.ndarray) -> None:
        """out[i] = the model's vector of sentence texts[i] (each must be one of the table's)."""
        for start in range(0, len(texts), CHUNK):
            rows = [self.row[text] for text in texts[start:start + CHUNK]]
            out[start:start + len(rows)] = self.vectors[rows]

    def pooled(self, texts: Sequence[str], out: np.ndarray) -> None:
        """out[i] = the unit mean of the vectors of texts[i]'s sentences."""
        for start in range(0, len(texts), CHUNK):
            block = texts[start:start + CHUNK]
            rows = [[self.row[s] for s in split_sentences(text)] for text in block]
            means = np.stack([self.vectors[r].mean(axis=0) for r in rows])
            out[start:start + len(block)] = as_unit_rows(means)
