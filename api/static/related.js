// Related stories under an opened article (GET /articles/{id}/related): each opens in place.
// Document text reaches the page only through text nodes.

export async function fillRelated(section, articleId, loadArticle) {
  try {
    const response = await fetch(`/articles/${encodeURIComponent(articleId)}/related?k=5`,
      { headers: { Accept: "application/json" } });
    const body = await response.json().catch(() => null);
    if (!response.ok || !body || !Array.isArray(body.related) || body.related.length === 0) return;
    const heading = document.createElement("h4");
    heading.textContent = "相关报道";
    const list = document.createElement("ul");
    for (const other of body.related) {
      const item = document.createElement("li");
      const details = document.createElement("details");
      details.dataset.articleId = other.article_id;
      const summary = document.createElement("summary");
      summary.textContent = other.title || other.article_id;
      const about = [other.date, other.source].filter(Boolean).join(" · ");
      if (about) {
        const small = document.createElement("span");
        small.className = "related-about";
        small.textContent = ` ${about}`;
        summary.append(small);
      }
      const text = document.createElement("div");
      details.append(summary, text);
      details.addEventListener("toggle", async () => {
        if (!details.open || text.dataset.loaded) return;
        text.textContent = "载入中… loading";
        try {
          const article = await loadArticle(other.article_id);
          const paragraphs = document.createElement("ol");
          paragraphs.className = "paragraphs";
          for (const p of article.paragraphs) {
            const li = document.createElement("li");
            li.textContent = p.text;
            paragraphs.append(li);
          }
          text.replaceChildren(paragraphs);
          text.dataset.loaded = "true";
        } catch (err) {
          text.textContent = `无法载入文章：${err.message}`;
        }
      });
      item.append(details);
      list.append(item);
    }
    section.replaceChildren(heading, list);
  } catch (err) {
    // no related stories shown: the article itself is there
  }
}
