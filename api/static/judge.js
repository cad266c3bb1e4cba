// The judging page: shows the state the server answers, sends one action per key or tap.
// Invariant: every action carries the position shown, so a stale tab cannot grade another item.
"use strict";

const $ = (id) => document.getElementById(id);
let shown = null; // the last state from the server
let busy = false; // an action in flight: keys pressed meanwhile are dropped (never applied to the next item)

function render(state) {
  shown = state;
  $("judge").dataset.state = state.done ? "done" : "judging";
  $("dataset").textContent = state.dataset;
  $("progress").textContent =
    `已标注 ${state.graded} / ${state.total} judged · 本次 ${state.given} this session · ` +
    `不相关 ${state.counts["0"]} · 相关 ${state.counts["1"]} · 回答 ${state.counts["2"]}`;
  $("bar").max = Math.max(state.total, 1);
  $("bar").value = state.graded;
  $("item").hidden = state.done;
  $("done").hidden = !state.done;
  if (state.item) {
    $("query-id").textContent = state.item.query_id;
    $("query").textContent = state.item.query;
    $("doc-id").textContent = `${state.item.doc_id} · #${state.position + 1}`;
    $("title").textContent = state.item.title || "（无标题 untitled）";
    $("date").textContent = state.item.date || "";
    $("text").replaceChildren(...state.item.text.split("\n").map((line) => {
      const p = document.createElement("p");
      p.textContent = line;
      return p;
    }));
    $("current-grade").textContent = state.grade === null || state.grade === undefined
      ? "" : `已评 graded: ${state.grade}`;
  }
  document.querySelectorAll("#keys button").forEach((b) => { b.disabled = state.done && b.dataset.action !== "back"; });
}

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = !message;
}

async function send(path, body) {
  if (busy || !shown) return;
  busy = true;
  try {
    const answer = await fetch(path, {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ position: shown.position, ...body }),
    });
    const data = await answer.json();
    if (answer.ok) {
      showError("");
      render(data);
    } else {
      showError(data.message || `error ${answer.status}`);
      if (data.state) render(data.state);
    }
  } catch (err) {
    showError(`未保存 not saved: ${err}`);
  } finally {
    busy = false;
  }
}

function act(key) {
  if (key === "0" || key === "1" || key === "2") send("/api/grade", { grade: Number(key) });
  else if (key === "s") send("/api/skip", {});
  else if (key === "b" || key === "ArrowLeft") send("/api/back", {});
  else return false;
  return true;
}

document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return; // a held key grades once
  if (act(event.key)) event.preventDefault();
});

document.querySelectorAll("#keys button").forEach((button) => {
  button.addEventListener("click", () => act(button.dataset.grade ?? (button.dataset.action === "skip" ? "s" : "b")));
});

fetch("/api/state").then((r) => r.json()).then(render).catch((err) => showError(`${err}`));
