"""The vector-space probe: a few fixed texts whose vectors tell whether two runtimes agree.

An index records the vectors its runtime gave these texts; an encoder opening it encodes them
again. Runtimes of one model agree to cosine >= 0.9999 (torch float32 and bfloat16, ONNX Runtime
float32 and int8; measured on the shared corpora, docs/performance.md "Model runtimes"); another
model, other weights or a lossy quantisation fall far below VECTOR_TOLERANCE and are refused
like a model mismatch.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

VECTOR_TOLERANCE = 0.999  # least cosine between two runtimes' vectors of a probe text
PROBE_TEXTS = (
    "初冬时节，一辆贴有“工匠学院直通车”条幅的中巴车驶入天津市静海区独流镇，讲师团走进生产一线。",
    "臺灣的颱風季節通常在夏天和秋天。",
    "外卖配送员春节怎么过？",
    "2024年全国职工职业技能大赛在北京举行，共有1,256名选手参加（含AI赛道）。",
    "工会",
    "为深化产业工人队伍建设改革，静海区总工会与区成人职业教育中心携手打造“工匠学院直通车”，通过下沉服务、"
    "送教上门，将优质培训资源直接输送至企业和职工身边，助力产业工人由“工”变“匠”。以往组织职工去城区参加培训，"
    "光路上就要花费一个多小时，加上两三个小时的培训时间，就会耽误半天工作，影响企业生产。",
)


def probe_record(vectors: np.ndarray) -> list[list[float]]:
    """Passage vectors of PROBE_TEXTS as the manifest keeps them (6 decimals: far below the tolerance)."""
    return [[round(float(x), 6) for x in row] for row in np.asarray(vectors, dtype=np.float32)]


def agreement(recorded: Sequence[Sequence[float]], current: Sequence[Sequence[float]]) -> float:
    """The least cosine between matching rows (-1.0 when their shapes differ)."""
    a, b = np.asarray(recorded, dtype=np.float64), np.asarray(current, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 2 or not len(a):
        return -1.0
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    return float(np.min(np.sum(a * b, axis=1) / np.maximum(norms, 1e-12)))


def without_probe(model: dict[str, object]) -> dict[str, object]:
    """A model record for people to read (reports, /stats): the probe's numbers left out."""
    return {key: value for key, value in model.items() if key != "probe"}
