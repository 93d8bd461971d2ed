// Carnet's little script, for every portal page (served at <service>/assets/carnet.js):
// buttons marked data-print print the page. Pages work without it.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-print]");
  if (button) {
    event.preventDefault();
    window.print();
  }
});

// Chats: new messages appear as they come, from server-sent events (data-live, the recruiter's
// side) or by asking every few seconds (data-poll, the wallet, which relays the verifier).
// The page's data-live URL says `?after=` the position of the last message it shows, so the
// stream starts there and brings what was written since the page was made (a reconnection
// resumes from the last event received: the browser sends its id as Last-Event-ID).
// Without the script the page shows the messages as of its loading.
// A message of a chat (recruiter and candidate: `sender`) or of a session's room (`author_id`,
// `author_name`; a moderator may remove it).
function appendMessage(list, m) {
  const existing = document.getElementById("m-" + m.id);
  if (existing) {
    if (m.removed) {
      for (const extra of existing.querySelectorAll("p, form")) extra.remove();
      const note = document.createElement("p");
      note.className = "muted";
      note.textContent = list.dataset.removed || "";
      existing.append(note);
    }
    return;
  }
  const item = document.createElement("li");
  item.id = "m-" + m.id;
  const mine = (m.sender ?? m.author_id) === list.dataset.mine;
  item.className = mine ? "mine" : "theirs";
  const who = document.createElement("span");
  who.className = "who";
  who.textContent = m.author_name ?? (mine ? list.dataset.you : list.dataset.them);
  const time = document.createElement("time");
  time.textContent = wallClock(m.at, list.dataset.zone);
  const body = document.createElement("p");
  if (m.removed) body.className = "muted";
  body.textContent = m.removed ? (list.dataset.removed || "") : (m.body ?? "");
  item.append(who, " ", time, body);
  list.append(item);
}

// A moment on the wall clock of `zone` (the session's), or of metropolitan France without
// one, in the page's language: « 3 décembre 2026 à 09:37 », as the server writes the messages
// it shows.
function wallClock(ms, zone) {
  const lang = document.documentElement.lang === "en" ? "en-GB" : "fr-FR";
  return new Intl.DateTimeFormat(lang, {
    timeZone: zone || "Europe/Paris", day: "numeric", month: "long", year: "numeric",
    hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  }).format(new Date(ms));
}

document.addEventListener("DOMContentLoaded", () => {
  // Reads the messages again (those missed while the page slept: a phone in a pocket, a tab
  // in the background); they are appended in order, once each.
  const catchUp = async (list) => {
    try {
      const response = await fetch(list.dataset.poll, { headers: { accept: "application/json" } });
      if (!response.ok) return;
      const messages = await response.json();
      messages.sort((a, b) => a.at - b.at);
      for (const m of messages) appendMessage(list, m);
    } catch (_) { /* offline for a moment: the next round tries again */ }
  };
  for (const list of document.querySelectorAll("ol[data-live]")) {
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible" && list.dataset.poll) catchUp(list);
    });
    const source = new EventSource(list.dataset.live);
    source.addEventListener("message", (event) => appendMessage(list, JSON.parse(event.data)));
    source.addEventListener("removed", (event) =>
      appendMessage(list, { ...JSON.parse(event.data), removed: true }));
  }
  for (const list of document.querySelectorAll("ol[data-poll]:not([data-live])")) {
    setInterval(() => catchUp(list), 5000);
  }
  // Scanning an offer's QR code with the camera, where the browser reads QR codes itself
  // (BarcodeDetector: Chrome on Android, among others). Elsewhere the button stays hidden and
  // the link is pasted.
  for (const button of document.querySelectorAll("button[data-scan]")) {
    if (!("BarcodeDetector" in window) || !navigator.mediaDevices?.getUserMedia) continue;
    button.hidden = false;
    const target = document.getElementById(button.dataset.scan);
    button.addEventListener("click", async () => {
      const detector = new BarcodeDetector({ formats: ["qr_code"] });
      const video = document.createElement("video");
      video.className = "scanner";
      video.setAttribute("playsinline", "");
      video.muted = true;
      let stream;
      try {
        stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
      } catch (_) {
        return; // refused: paste the link instead
      }
      video.srcObject = stream;
      button.after(video);
      await video.play();
      const stop = () => { stream.getTracks().forEach((t) => t.stop()); video.remove(); };
      const look = async () => {
        if (!video.isConnected) return;
        try {
          const [code] = await detector.detect(video);
          if (code) { target.value = code.rawValue; stop(); target.focus(); return; }
        } catch (_) { /* a frame not ready yet */ }
        requestAnimationFrame(look);
      };
      look();
    });
  }
  // The section a page belongs to is marked in its tabs (or the wallet's bottom bar): the
  // link to this very page, else the longest link whose path this page's path continues.
  for (const nav of document.querySelectorAll("nav.tabs")) {
    if (nav.querySelector("[aria-current]")) continue;
    const here = location.pathname.replace(/\/$/, "");
    let best = null;
    for (const a of nav.querySelectorAll("a[href]")) {
      const path = a.pathname.replace(/\/$/, "");
      if (path === here || (here.startsWith(path + "/") && (!best || path.length > best.pathname.length))) {
        if (path === here) { best = a; break; }
        best = a;
      }
    }
    if (best) best.setAttribute("aria-current", "page");
  }
  // Tables become one card per row on a phone (the stylesheet's `table.stacked`): each cell
  // is labelled with its column's heading. Tables marked data-keep (a grid of marks, a month)
  // keep their shape and scroll within themselves.
  for (const table of document.querySelectorAll("table:not([data-keep]):not(.month)")) {
    const heads = [...table.querySelectorAll("thead th")].map((th) => th.textContent.trim());
    if (!heads.length) continue;
    for (const row of table.querySelectorAll("tbody tr")) {
      [...row.children].forEach((cell, i) => cell.setAttribute("data-label", heads[i] ?? ""));
    }
    table.classList.add("stacked");
  }
  // A form the service refused: what was typed goes back in its fields, and the refusal
  // beside the field it is about (the server says it at the top of the page either way).
  const failure = document.getElementById("failure");
  if (failure) restore(failure);
  // A file chosen (a photo taken) sends its form at once; the form's own button, for a
  // browser without the script, is then not needed.
  for (const input of document.querySelectorAll("input[type=file][data-submit]")) {
    input.addEventListener("change", () => { if (input.files.length) input.form.requestSubmit(); });
    for (const button of input.form.querySelectorAll("[data-script-hides]")) button.hidden = true;
  }
  // Offer links: a click selects the whole link, to copy it.
  for (const input of document.querySelectorAll("input[data-select]")) {
    input.addEventListener("focus", () => input.select());
  }
});

// A credential offer handed over from a centre's page: the PIN comes in the address's
// fragment (never sent to a server, gone from the address once read) and fills the fields.
(() => {
  const pin = new URLSearchParams(location.hash.slice(1)).get("tx_code");
  const fields = document.querySelectorAll("input[name='tx_code']");
  if (pin && fields.length) {
    for (const field of fields) field.value = pin;
    history.replaceState(null, "", location.pathname + location.search);
  }
})();

// Puts back what was typed in the refused form (`data-action`), and the refusal beside its
// field (`data-field`, the API's name: a form field of that name, or with a suffix such as
// `:int` or `[]`), which gets the focus.
function restore(failure) {
  const form = [...document.querySelectorAll("form[action]")]
    .find((f) => f.getAttribute("action") === failure.dataset.action);
  if (!form) return;
  let values = [];
  try { values = JSON.parse(failure.dataset.values || "[]"); } catch (_) { /* none */ }
  // The questions and options added in the quiz editor before it was sent come back.
  for (const editor of form.querySelectorAll("[data-quiz-editor]")) {
    for (const [name] of values) {
      const at = /^editor\.(\d+)\.(?:option|right)\.(\d+)$/.exec(name) || /^editor\.(\d+)\./.exec(name);
      if (!at) continue;
      const question = editorQuestion(editor, Number(at[1]));
      if (at[2] !== undefined) editorOption(question, Number(at[1]), Number(at[2]));
    }
  }
  const filled = new Set();
  for (const [name, value] of values) {
    const fields = [...form.elements].filter((e) => e.name === name);
    const boxes = fields.filter((e) => e.type === "checkbox" || e.type === "radio");
    if (boxes.length) {
      for (const box of boxes) if (box.value === value) box.checked = true;
      continue;
    }
    const field = fields.find((e) => !filled.has(e) && e.type !== "hidden" && e.type !== "file"
      && e.type !== "password");
    if (field) { field.value = value; filled.add(field); }
  }
  const name = failure.dataset.field;
  const field = name && [...form.elements].find((e) => e.name === name
    || e.name.startsWith(name + ":") || e.name === name + "[]" || e.name.startsWith(name + "."));
  const message = document.createElement("p");
  message.className = "field-error";
  message.id = "failure-field";
  message.textContent = failure.querySelector(".why")?.textContent || "";
  for (let open = form.parentElement; open; open = open.parentElement) {
    if (open.tagName === "DETAILS") open.open = true;
  }
  if (field) {
    (field.closest("label") || field).after(message);
    field.setAttribute("aria-invalid", "true");
    field.setAttribute("aria-describedby", "failure-field");
    field.focus();
  } else {
    form.prepend(message);
  }
}

// The quiz editor (`templates/quiz_editor.html`): « Ajouter une question » and « Ajouter une
// réponse » copy the last blank row under the next number, so the fields keep the names the
// server reads (`editor.N.…`, `editor.N.option.M`).
function editorQuestion(editor, n) {
  const found = editor.querySelector(`fieldset.question[data-question="${n}"]`);
  if (found) return found;
  const questions = editor.querySelectorAll("fieldset.question");
  const last = questions[questions.length - 1];
  const copy = last.cloneNode(true);
  const from = last.dataset.question;
  copy.dataset.question = String(n);
  for (const field of copy.querySelectorAll("[name]")) {
    field.name = field.name.replace(`editor.${from}.`, `editor.${n}.`);
    if (field.type === "checkbox") field.checked = false;
    else field.value = field.name.endsWith(".points") ? "1" : "";
  }
  const number = copy.querySelector("[data-number]");
  if (number) number.textContent = String(questions.length + 1);
  last.after(copy);
  return copy;
}

function editorOption(question, n, m) {
  if (question.querySelector(`[name="editor.${n}.option.${m}"]`)) return;
  const items = question.querySelectorAll("ol.options li");
  const last = items[items.length - 1];
  const copy = last.cloneNode(true);
  for (const field of copy.querySelectorAll("[name]")) {
    field.name = field.name.replace(/\.(option|right)\.\d+$/, `.$1.${m}`);
    if (field.type === "checkbox") field.checked = false; else field.value = "";
  }
  last.after(copy);
}

for (const editor of document.querySelectorAll("[data-quiz-editor]")) {
  for (const button of editor.querySelectorAll("[data-add-question], [data-add-option]")) {
    button.hidden = false;
  }
  editor.addEventListener("click", (event) => {
    const next = (names, pattern) => 1 + Math.max(-1, ...names.map((name) => {
      const at = pattern.exec(name);
      return at ? Number(at[1]) : -1;
    }));
    if (event.target.closest("[data-add-question]")) {
      const names = [...editor.querySelectorAll("[name]")].map((f) => f.name);
      const question = editorQuestion(editor, next(names, /^editor\.(\d+)\./));
      question.querySelector("textarea").focus();
    }
    const add = event.target.closest("[data-add-option]");
    if (add) {
      const question = add.closest("fieldset.question");
      const n = Number(question.dataset.question);
      const names = [...question.querySelectorAll("[name]")].map((f) => f.name);
      const m = next(names, /\.option\.(\d+)$/);
      editorOption(question, n, m);
      question.querySelector(`[name="editor.${n}.option.${m}"]`).focus();
    }
  });
}
