"""Filters and boolean queries as Milvus expressions: the date rule as search/filters.py has it, evaluated by Milvus
Lite over dates of every shape; NOT never negated over a phrase's necessary condition; constants folded."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings as hypothesis_settings
from hypothesis import strategies as st
from whoosh.query import And, AndNot, Not, NullQuery, Or, Phrase, Term

from index.models import Paragraph
from search.filters import Filter, accepts
from search.milvus.expressions import both, either, filter_condition, match_condition, quoted

DATES = ["2026", "2026-01", "2026-01-12", "2026-01-31", "2026-02-01", "2025-12-31", "2025", "2024-12-10", "--12-18",
         "", "2026-1-5", "1999-12"]
SOURCES = ["p1.txt", 'quote"d.txt', "版面二.txt"]


@pytest.fixture(scope="module")
def lite(tmp_path_factory):
    """A collection of one paragraph per (date, source), with the filter fields as the schema has them."""
    from index.milvus.rows import filter_fields
    from pymilvus import DataType, MilvusClient

    client = MilvusClient(os.environ.get("ZHSEARCH_TEST_MILVUS_URI") or str(tmp_path_factory.mktemp("expr") / "e.db"))
    name = f"expressions_{os.getpid()}"
    schema = MilvusClient.create_schema(auto_id=False)
    schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=64)
    schema.add_field("article_id", DataType.VARCHAR, max_length=64)
    schema.add_field("source", DataType.VARCHAR, max_length=64)
    schema.add_field("date", DataType.VARCHAR, max_length=64)
    schema.add_field("date_len", DataType.INT8)
    schema.add_field("v", DataType.FLOAT_VECTOR, dim=2)
    index = client.prepare_index_params()
    index.add_index("v", index_type="FLAT", metric_type="IP")
    if client.has_collection(name):
        client.drop_collection(name)
    client.create_collection(name, schema=schema, index_params=index, consistency_level="Strong")
    rows, paragraphs = [], []
    for i, date in enumerate(DATES):
        for j, source in enumerate(SOURCES):
            pid = f"a{i}-{j}.p000"
            paragraphs.append(Paragraph(pid, f"a{i}-{j}", 0, "", "", source, date or None))
            rows.append({"id": pid, **filter_fields(f"a{i}-{j}", source, date or None), "v": [1.0, 0.0]})
    client.insert(name, rows)
    yield client, name, paragraphs
    client.drop_collection(name)


def milvus_accepts(lite, flt: Filter) -> set[str]:
    client, name, paragraphs = lite
    condition = filter_condition(flt)
    if condition is True:
        return {p.id for p in paragraphs}
    return {row["id"] for row in client.query(name, filter=condition, output_fields=["id"], limit=1000)}


bounds = st.one_of(st.none(), st.sampled_from(DATES[:8] + ["2026-01-05", "2025-12", "2027", "2000"]))


@hypothesis_settings(max_examples=60)
@given(date_from=bounds, date_to=bounds, source=st.one_of(st.none(), st.sampled_from(SOURCES + ["none.txt"])))
def test_filters_select_what_search_filters_accept(lite, date_from, date_to, source):
    flt = Filter(source=source, date_from=date_from, date_to=date_to)
    assert milvus_accepts(lite, flt) == {p.id for p in lite[2] if accepts(flt, p)}


def test_article_filter_and_quoting(lite):
    assert milvus_accepts(lite, Filter(article_id="a0-1")) == {"a0-1.p000"}
    assert quoted('a"b\\c') == '"a\\"b\\\\c"'


IDS = {("text", "工会"): 1, ("text", "职工"): 2, ("text", "培训"): 3, ("title", "工会"): 4}


def condition(query):
    return match_condition(query, lambda f, t: IDS.get((f, t)))


def test_terms_and_booleans_are_exact_conditions():
    assert condition(Term("text", "工会")) == ("array_contains(terms, 1)", True)
    found, exact = condition(AndNot(Or([Term("text", "工会"), Term("title", "工会")]), Term("text", "培训")))
    assert exact and found == "((array_contains(terms, 1)) or (array_contains(terms, 4))) and (not (array_contains(terms, 3)))"


def test_unknown_terms_fold_to_constants():
    assert condition(Term("text", "没有")) == (False, True)
    assert condition(And([Term("text", "工会"), Term("text", "没有")])) == (False, True)
    assert condition(Or([Term("text", "工会"), Term("text", "没有")])) == ("array_contains(terms, 1)", True)
    assert condition(Not(Term("text", "没有"))) == (True, True)
    assert condition(NullQuery) == (False, True)
    assert both(True, "x") == "x" and either(False, "x") == "x" and both(False, "x") is False and either(True, "x") is True


def test_a_phrase_is_a_necessary_condition_and_is_never_negated():
    assert condition(Phrase("text", ["职工", "培训"])) == ("array_contains_all(terms, [2, 3])", False)
    # NOT "职工 培训" must keep paragraphs holding both words apart: no condition here, the candidates are checked
    assert condition(AndNot(Term("text", "工会"), Phrase("text", ["职工", "培训"]))) == ("array_contains(terms, 1)", False)
    assert condition(Phrase("text", ["职工", "没有"])) == (False, True)
