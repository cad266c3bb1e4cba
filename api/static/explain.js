// Why a hit ranks where it does (a search's explain=true), as (term, detail) rows for a definition list.

function fmt(value) {
  return value === null || value === undefined ? "—" : Number(value).toFixed(4);
}

export function explainRows(why) {
  const rows = [];
  for (const leg of ["bm25", "dense"]) {
    const part = why[leg];
    if (!part) continue;
    const name = leg === "bm25" ? "关键词 BM25" : "语义 dense";
    let line = part.rank ? `${fmt(part.score)}，第 ${part.rank} 名` : "不在候选中 not a candidate";
    if (part.normalised !== undefined) line += `；归一化 normalised ${fmt(part.normalised)}`;
    if (part.paragraph_cosine !== undefined) {
      line += `（段落 paragraph ${fmt(part.paragraph_cosine)}，最佳句子 best sentence ${fmt(part.best_sentence_cosine)}）`;
    }
    rows.push([name, line]);
  }
  if (why.fusion) {
    rows.push(["融合 fusion", `${why.fusion}，语义权重 dense weight ${fmt(why.dense_weight)}：${why.why}`]);
    rows.push(["融合得分 fused", fmt(why.fused)]);
    rows.push(["文章上下文 article context", `+${fmt(why.article_context.added)}`]);
  }
  rows.push(["得分 score", fmt(why.score)]);
  return rows;
}
