// The zhsearch page: state <-> URL, GET /search, results (articles or paragraphs) with highlights, paging,
// sorting, filters and facets.
// Document and user text only ever reaches the page through textContent / text nodes.
import { explainRows } from "./explain.js";
import { renderFacets } from "./facets.js";
import { fillRelated } from "./related.js";

(() => {
  const K = 10; // hits per page
  const MAX_OFFSET = 1000; // the API's bound on offset
  const MODES = { hybrid: "混合检索", bm25: "关键词检索", dense: "语义检索" };
  const FILTERS = ["source", "article_id", "date_from", "date_to"];
  const GROUPS = ["article", "paragraph"]; // the first is the page's default
  const SORTS = ["relevance", "date"];

  const $ = (id) => document.getElementById(id);
  const ui = {
    main: $("main"), form: $("search-form"), q: $("q"), status: $("status"),
    empty: $("empty"), noResults: $("no-results"), error: $("error"), results: $("results"),
    errorTitle: $("error-title"), errorMessage: $("error-message"), errorHint: $("error-hint"), hits: $("hits"),
    pager: $("pager"), prev: $("prev"), next: $("next"), pageIndicator: $("page-indicator"),
    sourceFilter: $("source-filter"), source: $("source"), dateFrom: $("date-from"), dateTo: $("date-to"),
    chip: $("article-chip"), chipTitle: $("article-chip-title"), chipRemove: $("article-chip-remove"),
    health: $("health"), template: $("hit-template"), facets: $("facets"),
  };

  let state = blankState();
  let latest = 0; // number of the newest search; answers to older ones are dropped
  // Invariant: `explained` belongs to the page rendered last (render() resets it): a click on a hit explains
  // the search that hit came from, never a newer one, and an index change is picked up on the next search.
  let shownUrl = ""; // the search the hits on screen came from
  let explained = null; // that search again with explain=true, fetched on the first click

  const articleCache = new Map(); // article_id -> Promise of GET /articles/{id}
  const titles = new Map(); // article_id -> title, for the article chip

  function blankState() {
    return {
      q: "", mode: "hybrid", group: GROUPS[0], sort: SORTS[0], page: 1, source: "", article_id: "", date_from: "",
      date_to: "", dedup: true, // dedup: copies of one story (reprints) shown once
    };
  }

  // ---- state <-> URL and form ----

  function stateFromUrl(search) {
    const params = new URLSearchParams(search);
    const next = blankState();
    next.q = (params.get("q") || "").trim();
    const mode = params.get("mode");
    if (mode && Object.hasOwn(MODES, mode)) next.mode = mode;
    if (GROUPS.includes(params.get("group"))) next.group = params.get("group");
    if (SORTS.includes(params.get("sort"))) next.sort = params.get("sort");
    next.dedup = params.get("dedup") !== "false";
    const page = parseInt(params.get("page") || "1", 10);
    next.page = Number.isFinite(page) && page >= 1 ? page : 1;
    for (const name of FILTERS) next[name] = (params.get(name) || "").trim();
    return next;
  }

  function pageUrl(s) {
    const params = new URLSearchParams();
    if (s.q) {
      params.set("q", s.q);
      params.set("mode", s.mode);
      if (s.group !== GROUPS[0]) params.set("group", s.group);
      if (s.sort !== SORTS[0]) params.set("sort", s.sort);
      if (!s.dedup) params.set("dedup", "false");
      if (s.page > 1) params.set("page", String(s.page));
    }
    for (const name of FILTERS) if (s[name]) params.set(name, s[name]);
    const query = params.toString();
    return query ? `${location.pathname}?${query}` : location.pathname;
  }

  function searchUrl(s) {
    const params = new URLSearchParams({
      q: s.q, mode: s.mode, k: String(K), offset: String((s.page - 1) * K), group: s.group, sort: s.sort,
      facets: "source,month",
    });
    if (!s.dedup) params.set("dedup", "false");
    for (const name of FILTERS) if (s[name]) params.set(name, s[name]); // only when set: unknown params are a 422
    return `/search?${params}`;
  }

  function readForm() {
    const checked = (name, fallback) => (ui.form.querySelector(`input[name=${name}]:checked`) || { value: fallback }).value;
    return {
      ...state, q: ui.q.value.trim(), mode: checked("mode", "hybrid"), group: checked("group", GROUPS[0]),
      sort: checked("sort", SORTS[0]), page: 1,
      source: ui.source.value, date_from: ui.dateFrom.value, date_to: ui.dateTo.value,
    };
  }

  function fillForm(s) {
    ui.q.value = s.q;
    for (const name of ["mode", "group", "sort"]) {
      for (const radio of ui.form.querySelectorAll(`input[name=${name}]`)) radio.checked = radio.value === s[name];
    }
    ensureSourceOption(s.source);
    ui.source.value = s.source;
    ui.dateFrom.value = s.date_from;
    ui.dateTo.value = s.date_to;
    ui.chip.hidden = !s.article_id;
    if (s.article_id) showChipTitle(s.article_id);
  }

  function navigate(next, { push = true } = {}) {
    const url = pageUrl(next);
    state = next;
    if (push && url !== location.pathname + location.search) history.pushState(null, "", url);
    fillForm(state);
    run();
  }

  // ---- searching ----

  function show(which) {
    ui.main.dataset.state = which;
    ui.main.removeAttribute("aria-busy");
    ui.empty.hidden = which !== "empty";
    ui.noResults.hidden = which !== "no-results";
    ui.error.hidden = which !== "error";
    ui.results.hidden = which !== "results";
  }

  async function run() {
    document.title = state.q ? `${state.q} · zhsearch` : "zhsearch · 中文新闻检索";
    if (!state.q) {
      ui.status.textContent = "";
      show("empty");
      return;
    }
    const mine = ++latest;
    ui.main.dataset.state = "loading";
    ui.main.setAttribute("aria-busy", "true");
    ui.status.textContent = "搜索中… searching";
    let response, body;
    try {
      response = await fetch(searchUrl(state), { headers: { Accept: "application/json" } });
      body = await response.json().catch(() => null);
    } catch (err) {
      if (mine === latest) showError(0, null);
      return;
    }
    if (mine !== latest) return;
    if (!response.ok || !body || !Array.isArray(body.hits) || (body.group === "article" && !Array.isArray(body.articles))) {
      showError(response.status, body);
      return;
    }
    render(body);
  }

  function showError(status, body) {
    const headings = { 0: "无法连接服务器", 404: "找不到 (404)", 422: "查询有误 (422)", 503: "索引尚未就绪 (503)" };
    ui.errorTitle.textContent = headings[status] || (status >= 500 ? `服务器出错 (${status})` : `搜索出错了 (${status})`);
    ui.errorMessage.textContent = (body && body.message)
      || (status ? `HTTP ${status}` : "网络错误 network error");
    const hints = {
      0: "服务可能没有启动，或网络中断了。", 422: "请修改查询或筛选条件后再试。",
      503: "服务已启动，但索引或模型尚未载入；请按上面的提示处理。",
    };
    ui.errorHint.textContent = hints[status] || (status >= 500 ? "请稍后再试；若一直出错，请查看服务日志。" : "");
    ui.status.textContent = "";
    show("error");
  }

  function render(body) {
    shownUrl = searchUrl(state);
    explained = null;
    ui.results.dataset.mode = body.mode;
    ui.results.dataset.group = body.group;
    ui.results.dataset.sort = body.sort;
    ui.results.dataset.offset = String(body.offset);
    const articles = body.group === "article";
    const items = articles ? body.articles : body.hits;
    if (items.length === 0) {
      ui.status.textContent = `${MODES[body.mode] || body.mode} · 用时 ${formatMs(body.took_ms)}`;
      show("no-results");
      return;
    }
    const first = body.offset + 1;
    const last = body.offset + items.length;
    const unit = articles ? "篇文章" : "个段落";
    const order = body.sort === "date" ? " · 最新在前" : "";
    ui.status.textContent = `共 ${body.total} ${unit} · 第 ${first}–${last} · ${MODES[body.mode] || body.mode}${order}`
      + ` · 用时 ${formatMs(body.took_ms)}`;
    ui.hits.replaceChildren(...items.map(articles ? articleElement : hitElement));
    renderFacets(ui.facets, body, () => state, navigate);
    ui.hits.start = first;
    const lastPage = Math.min(Math.ceil(body.total / K), Math.floor(MAX_OFFSET / K) + 1);
    ui.pager.hidden = lastPage <= 1 && state.page <= 1;
    ui.prev.disabled = state.page <= 1;
    ui.next.disabled = state.page >= lastPage;
    ui.pageIndicator.textContent = `第 ${state.page} / ${Math.max(lastPage, state.page)} 页`;
    show("results");
  }

  function formatMs(ms) {
    return ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
  }

  // ---- one article: its best paragraph as the hit, the others that match under it ----

  function articleElement(article) {
    const [best, ...others] = article.hits;
    const li = hitElement({ ...best, rank: article.rank });
    li.classList.add("article-hit");
    const also = li.querySelector(".also");
    for (const hit of others) {
      const item = document.createElement("li");
      item.dataset.paragraphId = hit.paragraph_id;
      appendHighlighted(item, hit.text, hit.highlights || []);
      const where = document.createElement("span");
      where.className = "also-position";
      where.textContent = ` 第 ${hit.position + 1} 段`;
      item.append(where);
      also.append(item);
    }
    also.hidden = others.length === 0;
    return li;
  }

  // ---- one hit ----

  function hitElement(hit) {
    const li = ui.template.content.firstElementChild.cloneNode(true);
    li.dataset.paragraphId = hit.paragraph_id;
    li.dataset.articleId = hit.article_id;
    titles.set(hit.article_id, hit.title);
    const scoreTip = `得分 score ${hit.score.toFixed(4)} · 第 ${hit.rank} 名 · ${hit.paragraph_id}`;
    const title = li.querySelector(".hit-title");
    title.textContent = hit.title || "（无标题）";
    const text = li.querySelector(".hit-text");
    appendHighlighted(text, hit.text, hit.highlights || []);
    const rank = li.querySelector(".hit-rank");
    rank.textContent = `#${hit.rank}`;
    for (const el of [title, text, rank]) el.title = scoreTip;
    li.dataset.score = String(hit.score);
    const source = li.querySelector(".hit-source");
    source.textContent = hit.source || "";
    source.hidden = !hit.source;
    li.querySelector(".hit-position").textContent = `第 ${hit.position + 1} 段`;
    const date = li.querySelector(".hit-date");
    date.textContent = hit.date ? hit.date.replace(/^--/, "") : "";
    date.hidden = !hit.date;

    const more = li.querySelector(".more");
    const body = li.querySelector(".article-body");
    more.addEventListener("click", () => toggleArticle(hit, more, body));
    const why = li.querySelector(".why");
    const explainBox = li.querySelector(".explain");
    why.addEventListener("click", () => toggleExplain(hit, why, explainBox));
    similarButton(li.querySelector(".similar"), hit.similar || []);
    const only = li.querySelector(".only");
    only.hidden = state.article_id === hit.article_id;
    only.addEventListener("click", () => {
      navigate({ ...state, article_id: hit.article_id, page: 1 });
      window.scrollTo(0, 0);
    });
    return li;
  }

  // Copies of a story (reprints, marked at ingest): folded into the first one shown, or all shown (dedup=false).
  function similarButton(button, similar) {
    button.hidden = similar.length === 0;
    if (button.hidden) return;
    button.textContent = state.dedup ? `另有 ${similar.length} 篇相似报道` : "合并相似报道";
    button.title = state.dedup ? `转载或近似的报道已合并 copies folded here: ${similar.join(", ")}；点击全部显示 show them all`
      : "每篇报道只显示一次 show each story once";
    button.addEventListener("click", () => navigate({ ...state, dedup: !state.dedup, page: 1 }));
  }

  // ---- explain: the same search again with explain=true (once per page), the hit's numbers shown ----

  function loadExplained() {
    if (!explained) {
      const request = fetch(`${shownUrl}&explain=true`, { headers: { Accept: "application/json" } })
        .then(async (response) => {
          const body = await response.json().catch(() => null);
          if (!response.ok || !body) throw new Error((body && body.message) || `HTTP ${response.status}`);
          return body;
        });
      explained = request;
      request.catch(() => { if (explained === request) explained = null; }); // a later click tries again
    }
    return explained;
  }

  async function toggleExplain(hit, button, box) {
    const open = button.getAttribute("aria-expanded") === "true";
    button.setAttribute("aria-expanded", String(!open));
    box.hidden = open;
    if (open) return;
    box.textContent = "载入中… loading";
    try {
      const body = await loadExplained();
      const shown = body.group === "article" ? body.articles.flatMap((a) => a.hits) : body.hits;
      const found = shown.find((h) => h.paragraph_id === hit.paragraph_id);
      if (!found || !found.explain) throw new Error("这条结果已不在本页 no longer on this page");
      const list = document.createElement("dl");
      for (const [term, detail] of explainRows(found.explain)) {
        const dt = document.createElement("dt");
        dt.textContent = term;
        const dd = document.createElement("dd");
        dd.textContent = detail;
        list.append(dt, dd);
      }
      box.replaceChildren(list);
    } catch (err) {
      box.textContent = `无法载入评分说明：${err.message}`;
    }
  }

  // Highlight offsets count Unicode code points; JS strings index UTF-16 units, so slice an array of code points.
  function appendHighlighted(parent, text, spans) {
    const chars = Array.from(text);
    const sorted = [...spans].sort((a, b) => a.start - b.start || b.end - a.end);
    let at = 0;
    for (const span of sorted) {
      const start = Math.max(span.start, at);
      const end = Math.min(span.end, chars.length);
      if (end <= start) continue; // overlapping or out of range
      if (start > at) parent.append(chars.slice(at, start).join(""));
      const mark = document.createElement("mark");
      mark.textContent = chars.slice(start, end).join("");
      parent.append(mark);
      at = end;
    }
    if (at < chars.length) parent.append(chars.slice(at).join(""));
  }

  function loadArticle(articleId) {
    if (!articleCache.has(articleId)) {
      const request = fetch(`/articles/${encodeURIComponent(articleId)}`, { headers: { Accept: "application/json" } })
        .then(async (response) => {
          const body = await response.json().catch(() => null);
          if (!response.ok || !body) throw new Error((body && body.message) || `HTTP ${response.status}`);
          titles.set(articleId, body.title);
          return body;
        });
      request.catch(() => articleCache.delete(articleId)); // let a later click try again
      articleCache.set(articleId, request);
    }
    return articleCache.get(articleId);
  }

  async function toggleArticle(hit, button, body) {
    const open = button.getAttribute("aria-expanded") === "true";
    button.setAttribute("aria-expanded", String(!open));
    button.textContent = open ? "本文更多段落" : "收起全文";
    body.hidden = open;
    if (open || body.dataset.loaded) return;
    body.textContent = "载入中… loading";
    try {
      const article = await loadArticle(hit.article_id);
      const related = document.createElement("section");
      related.className = "related";
      body.replaceChildren(...articleNodes(article, hit), related);
      body.dataset.loaded = "true";
      fillRelated(related, hit.article_id, loadArticle);
    } catch (err) {
      body.textContent = `无法载入文章：${err.message}`;
    }
  }

  function articleNodes(article, hit) {
    const nodes = [];
    const about = [article.subtitle, article.byline, article.date].filter(Boolean).join(" · ");
    if (about) {
      const p = document.createElement("p");
      p.className = "article-about";
      p.textContent = about;
      nodes.push(p);
    }
    const list = document.createElement("ol");
    list.className = "paragraphs";
    for (const paragraph of article.paragraphs) {
      const li = document.createElement("li");
      li.value = paragraph.position + 1;
      if (paragraph.paragraph_id === hit.paragraph_id) {
        li.className = "current";
        appendHighlighted(li, paragraph.text, hit.highlights || []);
      } else {
        li.textContent = paragraph.text;
      }
      list.append(li);
    }
    nodes.push(list);
    return nodes;
  }

  // ---- filters ----

  function ensureSourceOption(source) {
    if (!source || [...ui.source.options].some((o) => o.value === source)) return;
    ui.source.append(new Option(source, source));
    ui.sourceFilter.hidden = false;
  }

  async function loadSources() {
    try {
      const response = await fetch("/stats", { headers: { Accept: "application/json" } });
      if (!response.ok) return; // no /stats on this server: the select stays hidden
      const body = await response.json();
      if (!Array.isArray(body.sources) || body.sources.length === 0) return;
      for (const source of body.sources) ensureSourceOption(String(source));
      ui.source.value = state.source;
      ui.sourceFilter.hidden = false;
    } catch (err) {
      // leave the select hidden
    }
  }

  function showChipTitle(articleId) {
    ui.chipTitle.textContent = titles.get(articleId) || articleId;
    ui.chip.title = articleId;
    if (!titles.has(articleId)) {
      loadArticle(articleId)
        .then((article) => { if (state.article_id === articleId) ui.chipTitle.textContent = article.title; })
        .catch(() => {});
    }
  }

  async function loadHealth() {
    try {
      const response = await fetch("/health", { headers: { Accept: "application/json" } });
      const body = await response.json();
      if (response.ok) {
        ui.health.textContent = `已索引 ${body.articles} 篇文章、${body.paragraphs} 个段落`;
      } else {
        ui.health.textContent = `索引未就绪：${body.message || response.status}`;
        ui.health.classList.add("warn");
      }
    } catch (err) {
      // the search itself will say what is wrong
    }
  }

  // ---- events ----

  ui.form.addEventListener("submit", (event) => {
    event.preventDefault();
    navigate(readForm());
  });

  // Changing the mode or a filter searches again when there is something to search for.
  ui.form.addEventListener("change", (event) => {
    if (event.target === ui.q) return;
    const next = readForm();
    if (next.q) navigate(next);
    else state = { ...next, q: state.q };
  });

  ui.chipRemove.addEventListener("click", () => navigate({ ...readForm(), article_id: "" }));

  for (const button of document.querySelectorAll(".example")) {
    button.addEventListener("click", () => navigate({ ...readForm(), q: button.dataset.q, mode: button.dataset.mode }));
  }

  function turnPage(step) {
    navigate({ ...state, page: state.page + step });
    window.scrollTo(0, 0);
  }
  ui.prev.addEventListener("click", () => turnPage(-1));
  ui.next.addEventListener("click", () => turnPage(1));

  window.addEventListener("popstate", () => navigate(stateFromUrl(location.search), { push: false }));

  document.addEventListener("keydown", (event) => {
    const typing = event.target instanceof HTMLInputElement || event.target instanceof HTMLSelectElement;
    if (event.key === "/" && !typing) {
      event.preventDefault();
      ui.q.focus();
      ui.q.select();
    }
  });

  navigate(stateFromUrl(location.search), { push: false });
  loadSources();
  loadHealth();
})();
