// The task page: lease the next item, show it, take the answer by mouse or keyboard, send
// heartbeats while the page is visible, submit, repeat. Every task type of
// datacoop.projects.tasktypes has its controls here. No third-party code.
(function () {
  "use strict";
  const root = document.getElementById("task");
  const projectId = root.dataset.project;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const statusEl = document.getElementById("status");
  const itemEl = document.getElementById("item");
  const form = document.getElementById("answer-form");
  const legendEl = document.getElementById("answer-legend");
  const choicesEl = document.getElementById("choices");
  const errorEl = document.getElementById("answer-error");
  const submitBtn = document.getElementById("submit");
  const skipBtn = document.getElementById("skip");
  const activeEl = document.getElementById("active");
  const doneEl = document.getElementById("done");
  const keysHelp = document.getElementById("keys-help");
  const HEARTBEAT_MS = 10000;
  const KEY_HELP = {
    single_choice: "Number keys pick an answer; <kbd>Enter</kbd> submits; <kbd>Esc</kbd> skips.",
    multi_label: "Number keys tick or untick answers; <kbd>Enter</kbd> submits; <kbd>Esc</kbd> skips.",
    pairwise: "<kbd>←</kbd> left is better, <kbd>→</kbd> right is better, <kbd>t</kbd> tie; <kbd>Enter</kbd> submits; <kbd>Esc</kbd> skips.",
    rating: "Number keys or <kbd>←</kbd> <kbd>→</kbd> pick a point on the scale; <kbd>Enter</kbd> submits; <kbd>Esc</kbd> skips.",
    free_text: "Type your answer; <kbd>Enter</kbd> submits, <kbd>Shift</kbd>+<kbd>Enter</kbd> starts a new line; <kbd>Esc</kbd> skips.",
    span: "Select text with the mouse, or in the text box with <kbd>Shift</kbd>+arrow keys; a number key marks the selection with that label; <kbd>Backspace</kbd> removes the last mark; <kbd>Enter</kbd> submits; <kbd>Esc</kbd> skips.",
  };
  let task = null;
  let keyMap = {};
  let heartbeatTimer = null;
  let submitting = false;
  let done = 0;
  let spans = [];

  async function api(method, path, body, headers) {
    const opts = { method, headers: { "X-CSRF-Token": csrf, ...(headers || {}) }, credentials: "same-origin" };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    const r = await fetch("/api/v1" + path, opts);
    if (r.status === 401) {  // the session ended: log in and come back here
      window.location.assign("/login?next=" + encodeURIComponent(location.pathname + location.search));
      throw new Error("your session has ended");
    }
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

  function duration(seconds) {
    const s = Math.max(0, Math.round(seconds));
    return s < 60 ? s + " s" : Math.floor(s / 60) + " min " + (s % 60) + " s";
  }

  // ----- showing the item --------------------------------------------------------------------

  function fieldNode(key, value, alt) {
    const isImage = typeof value === "string" && /^\/media\/.+\.(png|jpe?g|gif|webp)$/i.test(value);
    if (isImage) return el("img", { src: value, alt: alt || ("item " + key), class: "item-image" });
    const p = el("p", { class: "item-field" });
    p.append(el("strong", {}, key + ": "),
      document.createTextNode(typeof value === "string" ? value : JSON.stringify(value)));
    return p;
  }

  function showItem(t) {
    itemEl.replaceChildren();
    const data = t.data, c = t.config;
    const skip = new Set(["alt"]);
    if (t.task_type === "pairwise") { skip.add(c.left_field); skip.add(c.right_field); }
    if (t.task_type === "span") skip.add(c.text_field);
    const blurred = [];
    for (const [key, value] of Object.entries(data)) {
      if (skip.has(key)) continue;
      const node = fieldNode(key, value, data.alt);
      blurred.push(node);
      itemEl.append(node);
    }
    if (t.task_type === "pairwise") {
      const pair = el("div", { class: "pair" });
      for (const [side, field, key] of [["A", c.left_field, "←"], ["B", c.right_field, "→"]]) {
        const panel = el("section", { class: "side", "aria-label": "Option " + side });
        const h = el("h3", {}, "Option " + side + " ");
        h.append(el("kbd", {}, key));
        const body = fieldNode(field, data[field], data.alt);
        blurred.push(body);
        panel.append(h, body);
        pair.append(panel);
      }
      itemEl.append(pair);
    }
    if (t.sensitivity !== "none") {
      blurred.forEach((n) => n.classList.add("blurred"));
      const reveal = el("button", { type: "button", class: "secondary", id: "reveal" }, "Reveal sensitive content ");
      reveal.append(el("kbd", {}, "v"));
      reveal.addEventListener("click", revealItem);
      itemEl.prepend(reveal);
    }
  }

  function revealItem() {
    document.querySelectorAll("#task .blurred").forEach((n) => n.classList.remove("blurred"));
    const b = document.getElementById("reveal");
    if (b) b.remove();
  }

  // ----- answer controls, one builder per task type -----------------------------------------

  function numberKey(i) { return i < 9 ? String(i + 1) : (i === 9 ? "0" : ""); }

  function option(type, i, value, text, key, name) {
    const id = "choice-" + i;
    const input = el("input", { type, name: name || "choice", id, value });
    const lab = el("label", { for: id });
    lab.append(document.createTextNode(text + " "));
    if (key) { lab.append(el("kbd", {}, key)); keyMap[key] = input; }
    const wrap = el("div", { class: "choice" });
    wrap.append(input, lab);
    return wrap;
  }

  const builders = {
    single_choice(c) {
      legendEl.textContent = "Pick one";
      c.labels.forEach((l, i) => choicesEl.append(option("radio", i, l, l, numberKey(i))));
    },
    multi_label(c) {
      const lo = c.min_choices || 0, hi = c.max_choices || c.labels.length;
      legendEl.textContent = lo === hi ? "Pick " + lo : "Pick " + lo + " to " + hi;
      c.labels.forEach((l, i) => choicesEl.append(option("checkbox", i, l, l, numberKey(i))));
    },
    pairwise(c) {
      legendEl.textContent = "Which is better?";
      const names = { A: ["Option A (left)", "ArrowLeft", "←"], B: ["Option B (right)", "ArrowRight", "→"], tie: ["Tie", "t", "t"] };
      c.labels.forEach((l, i) => {
        const [text, key, shown] = names[l];
        const wrap = option("radio", i, l, text, null);
        wrap.querySelector("label").append(el("kbd", {}, shown));
        keyMap[key] = wrap.querySelector("input");
        choicesEl.append(wrap);
      });
    },
    rating(c) {
      legendEl.textContent = "Rate from " + c.min + " to " + c.max;
      const digits = c.min >= 0 && c.max <= 9;
      const anchors = c.anchors || {};
      const row = el("div", { class: "scale" });
      for (let v = c.min, i = 0; v <= c.max; v++, i++) {
        const text = String(v) + (anchors[String(v)] ? " — " + anchors[String(v)] : "");
        row.append(option("radio", i, String(v), text, digits ? String(v) : null));
      }
      choicesEl.append(row);
    },
    free_text(c) {
      legendEl.textContent = "Your answer";
      const label = el("label", { for: "free-text" }, "Answer" +
        (c.min_length ? " (at least " + c.min_length + " characters)" : ""));
      const area = el("textarea", { id: "free-text", rows: "4", maxlength: String(c.max_length) });
      const count = el("span", { class: "hint", id: "free-text-count", "aria-live": "off" }, "0 / " + c.max_length);
      area.addEventListener("input", () => { count.textContent = area.value.length + " / " + c.max_length; });
      choicesEl.append(label, area, count);
    },
    span(c, t) {
      legendEl.textContent = "Mark stretches of the text";
      spans = [];
      const label = el("label", { for: "span-text" }, "Text (select a stretch, then press a label's number key)");
      const area = el("textarea", { id: "span-text", readonly: "", rows: "6", class: "span-text" });
      area.value = String(t.data[c.text_field] || "");
      if (t.sensitivity !== "none") area.classList.add("blurred");
      const buttons = el("div", { class: "span-labels", role: "group", "aria-label": "Labels" });
      c.labels.forEach((l, i) => {
        const key = numberKey(i);
        const b = el("button", { type: "button", class: "secondary", "data-label": l }, "Mark as " + l + " ");
        if (key) { b.append(el("kbd", {}, key)); keyMap[key] = b; }
        b.addEventListener("click", () => addSpan(l));
        buttons.append(b);
      });
      const preview = el("p", { id: "span-preview", class: "span-preview", "aria-label": "Marked text" });
      const list = el("ul", { id: "span-list", class: "span-list", "aria-live": "polite" });
      choicesEl.append(label, area, buttons, preview, list);
      renderSpans();
    },
  };

  function cp(text, unitIndex) { return Array.from(text.slice(0, unitIndex)).length; }

  function addSpan(labelName) {
    const area = document.getElementById("span-text");
    const text = area.value;
    const start = cp(text, area.selectionStart), end = cp(text, area.selectionEnd);
    if (end <= start) { showError("Select some text first."); area.focus(); return; }
    const c = task.config;
    const clash = spans.some((s) => (s.start === start && s.end === end && s.label === labelName) ||
      (!c.allow_overlap && s.start < end && start < s.end));
    if (clash) { showError("That overlaps a stretch you already marked."); area.focus(); return; }
    spans.push({ start, end, label: labelName });
    spans.sort((a, b) => a.start - b.start || a.end - b.end || (a.label < b.label ? -1 : 1));
    showError("");
    renderSpans();
    area.focus();
  }

  function renderSpans() {
    const area = document.getElementById("span-text");
    const chars = Array.from(area.value);
    const preview = document.getElementById("span-preview");
    const list = document.getElementById("span-list");
    preview.replaceChildren();
    list.replaceChildren();
    let at = 0;
    for (const s of spans) {
      if (s.start >= at) {
        preview.append(document.createTextNode(chars.slice(at, s.start).join("")));
        const m = el("mark", { title: s.label }, chars.slice(s.start, s.end).join(""));
        m.append(el("sup", {}, s.label));
        preview.append(m);
        at = s.end;
      }
    }
    preview.append(document.createTextNode(chars.slice(at).join("")));
    if (task && task.sensitivity !== "none" && document.getElementById("reveal")) preview.classList.add("blurred");
    spans.forEach((s, i) => {
      const li = el("li", {}, s.label + ": “" + chars.slice(s.start, s.end).join("") + "” ");
      const rm = el("button", { type: "button", class: "link", "aria-label": "Remove mark " + (i + 1) }, "remove");
      rm.addEventListener("click", () => { spans.splice(i, 1); renderSpans(); });
      li.append(rm);
      list.append(li);
    });
    if (!spans.length) list.append(el("li", { class: "hint" }, "Nothing marked yet (an empty answer is allowed)."));
  }

  // Keyboard selection in the (read-only) span text, done here rather than left to the
  // browser, which may not move a caret in read-only text: arrows move, Shift extends,
  // Home/End jump. Positions step over whole code points.
  function moveCaret(area, ev) {
    const moves = ["ArrowLeft", "ArrowRight", "Home", "End"];
    if (!moves.includes(ev.key)) return false;
    const text = area.value;
    const backward = area.selectionDirection === "backward";
    let anchor = backward ? area.selectionEnd : area.selectionStart;
    let head = backward ? area.selectionStart : area.selectionEnd;
    if (ev.key === "Home") head = 0;
    else if (ev.key === "End") head = text.length;
    else if (ev.key === "ArrowLeft" && head > 0) {
      head -= (head > 1 && /[\uDC00-\uDFFF]/.test(text[head - 1]) && /[\uD800-\uDBFF]/.test(text[head - 2])) ? 2 : 1;
    } else if (ev.key === "ArrowRight" && head < text.length) {
      head += (/[\uD800-\uDBFF]/.test(text[head]) && head + 1 < text.length) ? 2 : 1;
    }
    if (!ev.shiftKey) anchor = head;
    area.setSelectionRange(Math.min(anchor, head), Math.max(anchor, head), head < anchor ? "backward" : "forward");
    return true;
  }

  function currentAnswer() {
    const t = task, c = t.config;
    if (t.task_type === "free_text") return document.getElementById("free-text").value;
    if (t.task_type === "span") return spans.slice();
    const picked = Array.from(choicesEl.querySelectorAll("input:checked")).map((i) => i.value);
    if (t.task_type === "multi_label") {
      const lo = c.min_choices || 0, hi = c.max_choices || c.labels.length;
      if (picked.length < lo || picked.length > hi) {
        throw new Error(lo === hi ? "Pick exactly " + lo + "." : "Pick between " + lo + " and " + hi + ".");
      }
      return picked;
    }
    if (picked.length === 0) throw new Error("Pick an answer first.");
    return t.task_type === "rating" ? Number(picked[0]) : picked[0];
  }

  function showError(message) {
    errorEl.textContent = message;
    errorEl.hidden = !message;
  }

  // ----- the loop ----------------------------------------------------------------------------

  function showActive(seconds) { activeEl.textContent = duration(seconds); }

  async function beat() {
    if (!task || document.visibilityState !== "visible") return;
    try {
      const hb = await api("POST", "/assignments/" + task.assignment_id + "/heartbeat");
      if (task && hb.assignment_id === task.assignment_id) showActive(hb.active_seconds);
    } catch (e) { /* the next heartbeat or the submit will say more */ }
  }

  function startHeartbeats() {
    clearInterval(heartbeatTimer);
    heartbeatTimer = setInterval(beat, HEARTBEAT_MS);
  }

  async function next() {
    clearInterval(heartbeatTimer);
    form.hidden = true;
    task = null;
    showError("");
    statusEl.textContent = "Loading your next task…";
    let t;
    try {
      t = await api("POST", "/projects/" + projectId + "/next");
    } catch (e) {
      statusEl.textContent = "Could not load a task: " + e.message;
      return;
    }
    if (!t) {
      itemEl.replaceChildren();
      statusEl.replaceChildren(document.createTextNode("No more tasks for you in this project right now. Thank you! "),
        el("a", { href: "/work" }, "See your work and receipts"));
      return;
    }
    task = t;
    statusEl.textContent = "Item " + t.item_id + " · lease until " +
      new Date(t.expires_at).toLocaleTimeString();
    showActive(t.active_seconds);
    keyMap = {};
    choicesEl.replaceChildren();
    showItem(t);
    builders[t.task_type](t.config, t);
    keysHelp.innerHTML = KEY_HELP[t.task_type];
    form.hidden = false;
    submitting = false;
    submitBtn.disabled = false;
    const first = choicesEl.querySelector("textarea, input");
    if (first) first.focus();
    startHeartbeats();
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!task || submitting) return;  // a double click sends one request
    let answer;
    try { answer = currentAnswer(); } catch (e) { showError(e.message); return; }
    submitting = true;
    submitBtn.disabled = true;
    try {
      // One key per assignment: if a retry does reach the server, it returns the original.
      await api("POST", "/submissions", { assignment_id: task.assignment_id, answer },
        { "Idempotency-Key": "page-" + task.assignment_id });
      done += 1;
      doneEl.textContent = done;
      await next();
    } catch (e) {
      showError("Not accepted: " + e.message);
      submitting = false;
      submitBtn.disabled = false;
    }
  });

  skipBtn.addEventListener("click", async () => {
    if (!task || submitting) return;
    submitting = true;
    try {
      await api("POST", "/assignments/" + task.assignment_id + "/skip");
    } catch (e) { /* skipping an expired lease is harmless: move on */ }
    await next();
  });

  function pick(input) {
    if (input.tagName === "BUTTON") { input.click(); return; }
    input.checked = input.type === "checkbox" ? !input.checked : true;
    input.focus();
  }

  function stepRating(delta) {
    const radios = Array.from(choicesEl.querySelectorAll("input[type=radio]"));
    const at = radios.findIndex((r) => r.checked);
    const to = at < 0 ? (delta > 0 ? 0 : radios.length - 1) : Math.min(radios.length - 1, Math.max(0, at + delta));
    pick(radios[to]);
  }

  document.addEventListener("keydown", (ev) => {
    if (form.hidden || !task || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const target = ev.target;
    if (target && target.id === "free-text") {
      if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); form.requestSubmit(); }
      else if (ev.key === "Escape") { ev.preventDefault(); skipBtn.click(); }
      return;
    }
    const activates = target && (target.tagName === "A" || target.tagName === "SUMMARY" ||
      (target.tagName === "BUTTON" && target.type !== "submit"));
    if (activates && (ev.key === "Enter" || ev.key === " ")) {
      return;  // Enter on a focused link, button (skip, reveal, a label) or summary acts on it
    }
    if (ev.key === "Escape") { ev.preventDefault(); skipBtn.click(); return; }
    if (ev.key === "Enter") { ev.preventDefault(); form.requestSubmit(); return; }
    if (ev.key === "v" && document.getElementById("reveal")) { ev.preventDefault(); revealItem(); return; }
    if (target && target.id === "span-text" && moveCaret(target, ev)) { ev.preventDefault(); return; }
    if (task.task_type === "span" && ev.key === "Backspace") {
      ev.preventDefault();
      spans.pop();
      renderSpans();
      return;
    }
    if (task.task_type === "rating" && (ev.key === "ArrowLeft" || ev.key === "ArrowRight")) {
      ev.preventDefault();
      stepRating(ev.key === "ArrowLeft" ? -1 : 1);
      return;
    }
    const key = ev.key.length === 1 ? ev.key.toLowerCase() : ev.key;
    const input = keyMap[key];
    if (input) { ev.preventDefault(); pick(input); }
  });

  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") { beat(); startHeartbeats(); }
    else clearInterval(heartbeatTimer);
  });
  next();
})();
