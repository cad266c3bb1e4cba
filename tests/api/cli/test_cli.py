"""The command line without the model: check, words, and errors that name the fix."""

from typer.testing import CliRunner

from api.cli.main import app
from index.builder import build_index
from index.tokenize import tokenizer_from

runner = CliRunner()


def segment_dir(settings):
    from index.commits import read_current

    return settings.index_dir / read_current(settings.index_dir)[1].segments[0].name


def test_check_passes_then_reports_damage(settings, tiny_articles, fake_encoder):
    build_index(settings.index_dir, tiny_articles, tokenizer_from(settings), fake_encoder, ["tiny"], quiet=True)
    ok = runner.invoke(app, ["check", "--index-dir", str(settings.index_dir)])
    assert ok.exit_code == 0 and "consistent" in ok.output
    generation = segment_dir(settings)
    (generation / "vector_ids.json").write_text('["a1.p000"]')
    broken = runner.invoke(app, ["check", "--index-dir", str(settings.index_dir)])
    assert broken.exit_code == 1 and "unreadable" in broken.output


def test_check_finds_id_mismatch(settings, tiny_articles, fake_encoder):
    build_index(settings.index_dir, tiny_articles, tokenizer_from(settings), fake_encoder, ["tiny"], quiet=True)
    generation = segment_dir(settings)
    lines = (generation / "paragraphs.jsonl").read_text().splitlines()
    (generation / "paragraphs.jsonl").write_text("\n".join(lines[:-1]) + "\n")
    broken = runner.invoke(app, ["check", "--index-dir", str(settings.index_dir)])
    assert broken.exit_code == 1 and "vectors and paragraphs.jsonl hold different paragraphs" in broken.output


def test_missing_index_names_the_fix(tmp_path):
    result = runner.invoke(app, ["check", "--index-dir", str(tmp_path / "none")])
    assert result.exit_code == 1 and "zhsearch index" in result.output


def test_index_refuses_unknown_sources(tmp_path):
    result = runner.invoke(app, ["index", str(tmp_path / "nothing.csv"), "--index-dir", str(tmp_path / "i")])
    assert result.exit_code == 2 and "no such file" in result.output


def test_eval_reports_judged_at_10_and_condenses_on_request(dataset, tmp_path, monkeypatch):
    import json

    from fakes import FakeEncoder

    monkeypatch.setattr("eval.evaluate.load_encoder", lambda settings: FakeEncoder())
    index = ["--index-dir", str(tmp_path / "eval-index"), "--quiet", "--json"]
    full = json.loads(runner.invoke(app, ["eval", str(dataset), *index], catch_exceptions=False).stdout)
    short = json.loads(runner.invoke(app, ["eval", str(dataset), "--condensed", *index]).stdout)
    assert 0 < full["dense"]["judged@10"] == short["dense"]["judged@10"] <= 0.1
    assert short["setup"]["condensed"] and not full["setup"]["condensed"]
    text = runner.invoke(app, ["eval", str(dataset), "--condensed", "--index-dir", str(tmp_path / "eval-index"),
                               "--quiet"]).stdout
    assert "judged@10" in text and "condensed lists" in text


def test_eval_of_a_running_service(dataset, settings, fake_encoder):
    import json

    from eval.datasets import load_dataset
    from eval.evaluate import ensure_corpus_index
    from live_server import serving

    refused = runner.invoke(app, ["eval", str(dataset), "--url", "http://127.0.0.1:9", "--tune"])
    assert refused.exit_code == 2 and "need a local index" in refused.output
    ensure_corpus_index(load_dataset(dataset), settings, fake_encoder, quiet=True)
    with serving(settings, fake_encoder) as url:
        out = json.loads(runner.invoke(app, ["eval", str(dataset), "--url", url, "--json", "--quiet"]).stdout)
        text = runner.invoke(app, ["eval", str(dataset), "--url", url, "--mode", "bm25", "--quiet"]).stdout
    assert out["bm25"]["ndcg@10"] == 1.0 and out["setup"]["url"] == url
    assert f"Service {url} (embedded" in text and "judged@10" in text


def test_judge_on_a_port_in_use_names_the_fix_and_lets_the_next_judge_start(dataset, tmp_path):
    import socket

    from eval.pool import PoolItem, write_pool

    pool = tmp_path / "pool.jsonl"
    write_pool([PoolItem("q1", "讲师团为谁充电", "d2", "驿站", "暖心驿站", ["bm25"], 1)], pool)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        for _ in range(2):  # the first run's lock on the qrels is released: the second fails the same way
            result = runner.invoke(app, ["judge", str(dataset), "--pool", str(pool), "--port", str(port)])
            assert result.exit_code == 2, result.output
            assert f"cannot serve the page on 127.0.0.1:{port}" in result.output and "--port" in result.output


def test_judge_on_an_address_not_of_this_machine_names_the_host(dataset, tmp_path):
    from eval.pool import PoolItem, write_pool

    pool = tmp_path / "pool.jsonl"
    write_pool([PoolItem("q1", "讲师团为谁充电", "d2", "驿站", "暖心驿站", ["bm25"], 1)], pool)
    result = runner.invoke(app, ["judge", str(dataset), "--pool", str(pool), "--host", "192.0.2.1"])  # TEST-NET-1
    assert result.exit_code == 2 and "choose another --host" in result.output, result.output


def test_a_served_url_puts_an_ipv6_address_in_brackets():
    from api.cli.common import url_of

    assert url_of("::1", 8001) == "http://[::1]:8001/" and url_of("127.0.0.1", 0) == "http://127.0.0.1:0/"
