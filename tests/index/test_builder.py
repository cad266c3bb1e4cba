"""Building an index: one segment and a commit point, compatibility checks, stable ids."""

import pytest

from index.builder import EmptyCorpusError, build_index
from index.commits import IndexNotFoundError, read_current
from index.manifest import IndexMismatchError
from index.models import Article
from index.snapshot import open_snapshot
from index.tokenize import tokenizer_from


def build(settings, articles, encoder):
    return build_index(settings.index_dir, articles, tokenizer_from(settings), encoder, ["tiny"], quiet=True)


def test_manifest_records_what_the_index_was_built_with(settings, tiny_articles, fake_encoder):
    manifest = build(settings, tiny_articles, fake_encoder)
    assert manifest == read_current(settings.index_dir)[1]
    assert (manifest.articles, manifest.paragraphs, manifest.vectors) == (3, 4, 4)
    assert len(manifest.segments) == 1 and manifest.segments[0].rows == 4 and manifest.generation == 1
    assert manifest.model["name"] == "fake-bigram" and manifest.model["dim"] == 64
    assert manifest.tokenizer["fold_traditional"] is True


def live_ids(settings, encoder):
    snapshot = open_snapshot(settings.index_dir, encoder.config(), tokenizer_from(settings).config())
    return {p.id for p in snapshot.live_paragraphs()}, snapshot


def test_rebuild_keeps_ids_and_replaces_the_segment(settings, tiny_articles, fake_encoder):
    build(settings, tiny_articles, fake_encoder)
    first, _ = read_current(settings.index_dir)
    ids, before = live_ids(settings, fake_encoder)
    build(settings, tiny_articles, fake_encoder)
    second, manifest = read_current(settings.index_dir)
    again, snapshot = live_ids(settings, fake_encoder)
    assert first != second and again == ids and manifest.generation == 2
    assert [s.name for s in manifest.segments] != [s.name for s in before.manifest.segments]
    segment = snapshot.views[0].segment
    assert segment.bm25.doc_count() == len(segment.vectors.ids) == len(ids)


def test_other_model_or_tokenizer_is_a_clear_error(settings, tiny_articles, fake_encoder):
    build(settings, tiny_articles, fake_encoder)
    other_model = fake_encoder.config() | {"name": "other-model"}
    with pytest.raises(IndexMismatchError, match="ZHSEARCH_MODEL=fake-bigram"):
        open_snapshot(settings.index_dir, other_model, tokenizer_from(settings).config())
    other_tokenizer = tokenizer_from(settings).config() | {"fold_traditional": False}
    with pytest.raises(IndexMismatchError, match="rebuild"):
        open_snapshot(settings.index_dir, fake_encoder.config(), other_tokenizer)


def test_missing_index_and_empty_corpus(settings, fake_encoder):
    with pytest.raises(IndexNotFoundError, match="zhsearch index"):
        open_snapshot(settings.index_dir, fake_encoder.config(), {})
    with pytest.raises(EmptyCorpusError):
        build(settings, [Article("e", "空", ())], fake_encoder)
    assert not (settings.index_dir / "CURRENT").exists()


LONG = [
    Article("s1", "讲师团", ("讲师团走进生产一线，为职工充电赋能。青年职工高阳说，培训特别解渴。工作起来更得心应手了。",
                             "只有一句话的第二段在这里。")),
    Article("s2", "驿站", ("工会为外卖配送员建起暖心驿站。驿站里有热水、充电和休息的地方。",)),
]


def test_sentence_vectors_built_for_multi_sentence_paragraphs_only(settings, fake_encoder):
    manifest = build(settings, LONG, fake_encoder)
    assert manifest.sentence_vectors and manifest.sentences == 5
    snapshot = open_snapshot(settings.index_dir, fake_encoder.config(), tokenizer_from(settings).config())
    sentences = snapshot.views[0].segment.sentences
    assert sorted(set(sentences.store.ids)) == ["s1.p000", "s2.p000"]
    assert len(sentences) == 5
    assert not list(snapshot.index_dir.rglob("*.tmp.npy"))


def test_sentence_vectors_can_be_left_out(settings, fake_encoder):
    manifest = build_index(settings.index_dir, LONG, tokenizer_from(settings), fake_encoder, ["long"], quiet=True,
                           sentence_vectors=False)
    assert not manifest.sentence_vectors and manifest.sentences == 0
    snapshot = open_snapshot(settings.index_dir, fake_encoder.config(), tokenizer_from(settings).config())
    assert snapshot.views[0].segment.sentences is None


class ProbingEncoder:
    """The fake encoder with a vector-space probe, as the real runtimes record one; `noise` moves its vectors."""

    def __init__(self, base, noise: float = 0.0, runtime: str = "onnx") -> None:
        import numpy as np

        from index.model.probe import PROBE_TEXTS, probe_record

        self.base, self.name, self.dim = base, base.name, base.dim
        vectors = base.encode_passages(PROBE_TEXTS) + noise * np.random.default_rng(0).standard_normal((6, base.dim))
        self.record = {**base.config(), "runtime": runtime, "dtype": "int8", "probe": probe_record(vectors)}

    def __getattr__(self, name):
        return getattr(self.base, name)

    def config(self):
        return self.record


def test_vectors_of_another_runtime_must_agree_with_the_index(settings, tiny_articles, fake_encoder):
    build(settings, tiny_articles, ProbingEncoder(fake_encoder, runtime="torch"))
    tokenizer = tokenizer_from(settings).config()
    open_snapshot(settings.index_dir, ProbingEncoder(fake_encoder, noise=1e-4).config(), tokenizer)  # within 0.999
    open_snapshot(settings.index_dir, fake_encoder.config(), tokenizer)  # no probe: nothing to compare
    with pytest.raises(IndexMismatchError, match="made by torch/int8; onnx/int8 makes vectors at cosine 0.[0-9]+"):
        open_snapshot(settings.index_dir, ProbingEncoder(fake_encoder, noise=0.05).config(), tokenizer)
