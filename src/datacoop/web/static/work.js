// The task page: lease the next item, show it, take the answer by mouse or keyboard,
// send heartbeats while the page is visible, submit, repeat. No third-party code.
(function () {
  "use strict";
  const root = document.getElementById("task");
  const projectId = root.dataset.project;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const statusEl = document.getElementById("status");
  const itemEl = document.getElementById("item");
  const form = document.getElementById("answer-form");
  const choicesEl = document.getElementById("choices");
  const activeEl = document.getElementById("active");
  const doneEl = document.getElementById("done");
  let task = null;
  let keyMap = {};
  let heartbeatTimer = null;
  let done = 0;

  async function api(method, path, body) {
    const opts = { method, headers: { "X-CSRF-Token": csrf }, credentials: "same-origin" };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    const r = await fetch("/api/v1" + path, opts);
    if (r.status === 204) return null;
    const data = await r.json();
    if (!r.ok) throw new Error((data.error && data.error.message) || ("HTTP " + r.status));
    return data;
  }

  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function showItem(data) {
    itemEl.replaceChildren();
    const blur = root.dataset.sensitivity !== "none";
    for (const [key, value] of Object.entries(data)) {
      if (key === "alt") continue;
      const isImage = typeof value === "string" && /^\/media\/.+\.(png|jpe?g|gif|webp)$/i.test(value);
      if (isImage) {
        const img = el("img", { src: value, alt: data.alt || "item image", class: "item-image" });
        if (blur) img.classList.add("blurred");
        itemEl.append(img);
      } else {
        const p = el("p", { class: "item-field" });
        p.append(el("strong", {}, key + ": "), document.createTextNode(
          typeof value === "string" ? value : JSON.stringify(value)));
        if (blur) p.classList.add("blurred");
        itemEl.append(p);
      }
    }
    if (blur) {
      const reveal = el("button", { type: "button", class: "secondary" }, "Reveal sensitive content");
      reveal.addEventListener("click", () => {
        itemEl.querySelectorAll(".blurred").forEach((n) => n.classList.remove("blurred"));
        reveal.remove();
      });
      itemEl.prepend(reveal);
    }
  }

  function labelsFor(t) {
    const c = t.config;
    if (t.task_type === "rating") {
      const out = [];
      for (let v = c.min; v <= c.max; v++) out.push(String(v));
      return out;
    }
    return c.labels || [];
  }

  function buildChoices(t) {
    choicesEl.replaceChildren();
    keyMap = {};
    if (t.task_type === "free_text") {
      const label = el("label", { for: "free-text" }, "Your answer");
      const area = el("textarea", { id: "free-text", rows: "4", maxlength: String(t.config.max_length) });
      choicesEl.append(label, area);
      return;
    }
    if (t.task_type === "span") {
      choicesEl.append(el("p", {}, "Span selection is available through the API in this version."));
      return;
    }
    const labels = labelsFor(t);
    const multi = t.task_type === "multi_label";
    const singleChars = labels.every((l) => l.length === 1);
    labels.forEach((label, i) => {
      let key = singleChars ? label.toLowerCase() : (i < 9 ? String(i + 1) : (i === 9 ? "0" : ""));
      if (t.task_type === "pairwise") key = { A: "a", B: "b", tie: "t" }[label];
      const id = "choice-" + i;
      const input = el("input", { type: multi ? "checkbox" : "radio", name: "choice", id, value: label });
      const lab = el("label", { for: id });
      lab.append(document.createTextNode(label + " "));
      if (key) { lab.append(el("kbd", {}, key)); keyMap[key] = input; }
      const wrap = el("div", { class: "choice" });
      wrap.append(input, lab);
      choicesEl.append(wrap);
    });
  }

  function currentAnswer() {
    const t = task;
    if (t.task_type === "free_text") return document.getElementById("free-text").value;
    const picked = Array.from(choicesEl.querySelectorAll("input:checked")).map((i) => i.value);
    if (t.task_type === "multi_label") return picked;
    if (picked.length === 0) return null;
    return t.task_type === "rating" ? Number(picked[0]) : picked[0];
  }

  async function beat() {
    if (!task || document.visibilityState !== "visible") return;
    try {
      const hb = await api("POST", "/assignments/" + task.assignment_id + "/heartbeat");
      activeEl.textContent = Math.round(hb.active_seconds);
    } catch (e) { /* the next heartbeat or the submit will say more */ }
  }

  async function next() {
    clearInterval(heartbeatTimer);
    form.hidden = true;
    statusEl.textContent = "Loading your next task…";
    try {
      task = await api("POST", "/projects/" + projectId + "/next");
    } catch (e) {
      statusEl.textContent = "Could not load a task: " + e.message;
      return;
    }
    if (!task) {
      itemEl.replaceChildren();
      statusEl.textContent = "No more tasks for you in this project right now. Thank you!";
      return;
    }
    statusEl.textContent = "Item " + task.item_id + " — lease until " +
      new Date(task.expires_at).toLocaleTimeString();
    activeEl.textContent = Math.round(task.active_seconds);
    showItem(task.data);
    buildChoices(task);
    form.hidden = false;
    const first = choicesEl.querySelector("input, textarea");
    if (first) first.focus();
    heartbeatTimer = setInterval(beat, 10000);
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const answer = currentAnswer();
    if (answer === null) { statusEl.textContent = "Pick an answer first."; return; }
    try {
      await api("POST", "/submissions", {
        assignment_id: task.assignment_id, answer,
        idempotency_key: "page-" + task.assignment_id,
      });
      done += 1;
      doneEl.textContent = done;
      next();
    } catch (e) {
      statusEl.textContent = "Not accepted: " + e.message;
    }
  });

  document.getElementById("skip").addEventListener("click", async () => {
    if (!task) return;
    await api("POST", "/assignments/" + task.assignment_id + "/skip");
    next();
  });

  document.addEventListener("keydown", (ev) => {
    if (form.hidden || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (ev.target && ev.target.tagName === "TEXTAREA") {
      if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); form.requestSubmit(); }
      return;
    }
    if (ev.key === "Escape") { ev.preventDefault(); document.getElementById("skip").click(); return; }
    if (ev.key === "Enter") { ev.preventDefault(); form.requestSubmit(); return; }
    const input = keyMap[ev.key.toLowerCase()];
    if (input) {
      ev.preventDefault();
      input.checked = input.type === "checkbox" ? !input.checked : true;
      input.focus();
    }
  });

  document.addEventListener("visibilitychange", beat);
  next();
})();
