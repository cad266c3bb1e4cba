// Facets: counts per source page and per month of a search's pool, each a filter to click (a second click clears).
// Document text reaches the page only through text nodes.

const UNDATED = "undated"; // the month facet of results without a full date

function monthBounds(month) {
  const [year, m] = month.split("-").map(Number);
  const lastDay = new Date(Date.UTC(year, m, 0)).getUTCDate(); // day 0 of the next month
  return [`${month}-01`, `${month}-${String(lastDay).padStart(2, "0")}`];
}

function facetButton(facet, value, count, currentState, navigate) {
  const state = currentState();
  const label = facet === "month" && value === UNDATED ? "无日期" : value;
  const active = facet === "source" ? state.source === value
    : value !== UNDATED && [state.date_from, state.date_to].join() === monthBounds(value).join();
  const element = document.createElement(value === UNDATED ? "span" : "button");
  element.className = active ? "facet-value active" : "facet-value";
  element.dataset.value = value;
  element.append(`${label} `);
  const number = document.createElement("b");
  number.textContent = String(count);
  element.append(number);
  if (value === UNDATED) {
    element.title = "没有完整日期的结果（不能按日期筛选） results without a full date";
    return element;
  }
  element.type = "button";
  element.setAttribute("aria-pressed", String(active));
  element.title = active ? "取消这个筛选 remove this filter" : "只看这些结果 only these";
  element.addEventListener("click", () => {
    const next = { ...currentState(), page: 1 };
    if (facet === "source") next.source = active ? "" : value;
    else [next.date_from, next.date_to] = active ? ["", ""] : monthBounds(value);
    navigate(next);
  });
  return element;
}

// `currentState()` is the page's state when asked: a click acts on the state of its moment, not of the render.
export function renderFacets(container, body, currentState, navigate) {
  const facets = body.facets || {};
  let any = false;
  for (const box of container.querySelectorAll(".facet")) {
    const values = facets[box.dataset.facet] || [];
    box.hidden = values.length === 0;
    any = any || values.length > 0;
    box.querySelector(".facet-values")
      .replaceChildren(...values.map((v) => facetButton(box.dataset.facet, v.value, v.count, currentState, navigate)));
  }
  const pool = container.querySelector(".facet-pool");
  pool.textContent = body.pool ? `统计范围 counted over: ${body.pool.what}` : "";
  container.hidden = !any;
}
