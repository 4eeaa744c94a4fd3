// The demo's chat page: one column per person, each a chat with the bot. It polls
// /api/state for what changed and posts what a person does; the server does the rest.
"use strict";

const columns = new Map(); // person id -> { el, chat, person, replyTo }
let seq = 0;
let bot = "";
const ROLES = { owner: "clinic owner", staff: "staff", patient: "patient" };
const SAMPLE_NAMES = ["Anna Berg", "Ben Keller", "Clara Weiss", "David Roth", "Eva Lang", "Felix Braun"];

async function api(path, body) {
  const r = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const answer = await r.json().catch(() => ({}));
  if (!r.ok) {
    note(answer.error || "That did not work.");
    throw new Error(answer.error || r.status);
  }
  return answer;
}

function note(text) {
  const el = document.getElementById("note");
  el.textContent = text || "";
  clearTimeout(note.timer);
  if (text) note.timer = setTimeout(() => (el.textContent = ""), 5000);
}

function column(person) {
  let col = columns.get(person.id);
  if (col) return col;
  const el = document.getElementById("column").content.firstElementChild.cloneNode(true);
  el.dataset.person = person.id;
  el.dataset.role = person.role;
  el.querySelector(".name").textContent = person.name;
  el.querySelector(".role").textContent =
    ROLES[person.role] + (person.lang ? " · " + person.lang : "") + " · #" + person.id;
  col = { el, chat: el.querySelector(".chat"), person, replyTo: null };
  const form = el.querySelector("form.say");
  const input = el.querySelector("input.text");
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    await api("/api/send", { person: person.id, text, reply_to: col.replyTo });
    input.value = "";
    setReply(col, null);
  });
  el.querySelector("input[type=file]").addEventListener("change", (e) => {
    const file = e.target.files[0];
    e.target.value = "";
    if (!file) return;
    const reader = new FileReader();
    reader.onload = async () => {
      const data = String(reader.result).replace(/^data:[^,]*,/, "");
      const caption = input.value.trim() || null;
      // Pictures go as photos, anything else (a course file) as a document.
      if (file.type.startsWith("image/")) {
        await api("/api/photo", { person: person.id, data, caption, reply_to: col.replyTo });
      } else {
        await api("/api/document", { person: person.id, file_name: file.name, data, caption });
      }
      input.value = "";
      setReply(col, null);
    };
    reader.readAsDataURL(file);
  });
  el.querySelector(".cancel-reply").addEventListener("click", () => setReply(col, null));
  document.getElementById("columns").appendChild(el);
  columns.set(person.id, col);
  return col;
}

function setReply(col, msg) {
  col.replyTo = msg ? msg.id : null;
  const bar = col.el.querySelector(".replying");
  bar.hidden = !msg;
  if (msg) {
    bar.querySelector("span").textContent = "Replying to: " + textOf(msg.html).slice(0, 60);
    col.el.querySelector("input.text").focus();
  }
}

function textOf(html) {
  const d = document.createElement("div");
  d.innerHTML = html;
  return d.textContent || "📷 photo";
}

function renderMessage(m) {
  const col = columns.get(m.chat);
  if (!col) return;
  const nearBottom = col.chat.scrollHeight - col.chat.scrollTop - col.chat.clientHeight < 80;
  const wrap = document.createElement("div");
  wrap.className = "item";
  wrap.id = "m-" + m.id;
  wrap.style.display = "contents";
  const bubble = document.createElement("div");
  bubble.className = "msg" + (m.from_bot ? "" : " mine");
  bubble.dataset.id = m.id;
  if (m.reply_to) {
    const q = document.createElement("span");
    q.className = "quote";
    q.textContent = m.reply_to[1];
    bubble.appendChild(q);
  }
  if (m.photo) {
    const img = document.createElement("img");
    img.src = m.photo;
    img.alt = "photo";
    img.onload = () => { if (nearBottom) col.chat.scrollTop = col.chat.scrollHeight; };
    bubble.appendChild(img);
  } else if (m.photo_missing) {
    const p = document.createElement("span");
    p.className = "nophoto";
    p.textContent = "📷 photo";
    bubble.appendChild(p);
  }
  if (m.document) {
    const a = document.createElement("a");
    a.className = "file";
    a.href = m.document[0];
    a.download = m.document[1];
    a.textContent = "📄 " + m.document[1];
    bubble.appendChild(a);
  }
  const body = document.createElement("span");
  body.className = "body";
  body.innerHTML = m.html; // built by the server from text and entities, escaped
  bubble.appendChild(body);
  const meta = document.createElement("span");
  meta.className = "meta";
  meta.textContent = m.edited ? "edited" : "";
  bubble.appendChild(meta);
  const reply = document.createElement("button");
  reply.type = "button";
  reply.className = "reply-btn";
  reply.textContent = "↩ reply";
  reply.title = "Reply to this message";
  reply.addEventListener("click", () => setReply(col, m));
  bubble.appendChild(reply);
  wrap.appendChild(bubble);
  if (m.buttons.length) {
    const kb = document.createElement("div");
    kb.className = "keyboard";
    for (const row of m.buttons) {
      const r = document.createElement("div");
      r.className = "row";
      for (const b of row) {
        let btn;
        if (b.url) {
          btn = document.createElement("a");
          btn.href = b.url;
          btn.target = "_blank";
          btn.rel = "noopener noreferrer";
        } else {
          btn = document.createElement("button");
          btn.type = "button";
          btn.className = "kb";
          btn.dataset.data = b.data || "";
          btn.addEventListener("click", () =>
            api("/api/press", { person: col.person.id, message_id: m.id, data: b.data }).catch(() => {}));
        }
        btn.textContent = b.text;
        r.appendChild(btn);
      }
      kb.appendChild(r);
    }
    wrap.appendChild(kb);
  }
  const old = document.getElementById("m-" + m.id);
  if (old) old.replaceWith(wrap);
  else col.chat.appendChild(wrap);
  if (nearBottom && !old) col.chat.scrollTop = col.chat.scrollHeight;
}

function showClock(clock) {
  document.getElementById("clock-local").textContent = clock.local;
  document.getElementById("clock-zone").textContent = "(" + clock.zone + ")";
  const speed = document.getElementById("speed");
  if (document.activeElement !== speed) speed.value = String(clock.speed);
}

async function poll() {
  for (;;) {
    try {
      const r = await fetch("/api/state?since=" + seq);
      const s = await r.json();
      bot = s.bot;
      for (const p of s.people) column(p);
      for (const m of s.messages) renderMessage(m);
      seq = Math.max(seq, s.seq);
      showClock(s.clock);
      document.body.dataset.seq = seq;
    } catch (e) {
      await new Promise((done) => setTimeout(done, 1000));
    }
  }
}

async function addPatient(name) {
  const lang = document.getElementById("patient-lang").value;
  const p = await api("/api/people", { name, lang });
  column(p);
  const used = new Set([...columns.values()].map((c) => c.person.name));
  document.getElementById("patient-name").value =
    SAMPLE_NAMES.find((n) => !used.has(n)) || "";
  return p;
}

document.getElementById("add-patient").addEventListener("submit", (e) => {
  e.preventDefault();
  const name = document.getElementById("patient-name").value.trim();
  if (name) addPatient(name).catch(() => {});
});

document.getElementById("speed").addEventListener("change", async (e) => {
  const r = await api("/api/clock", { speed: Number(e.target.value) });
  showClock(r.clock);
});

document.getElementById("jump").addEventListener("click", async () => {
  const r = await api("/api/clock", { jump: true });
  showClock(r.clock);
  note(r.note);
});

// A t.me link to this bot opens the chat as a person of the page, the way tapping it
// in Telegram would: "/start <payload>" from whoever is chosen.
const menu = document.getElementById("link-menu");
function hideMenu() { menu.hidden = true; menu.replaceChildren(); }
function openLinkMenu(payload, x, y) {
  menu.replaceChildren();
  const head = document.createElement("div");
  head.className = "head";
  head.textContent = "Open this link in Telegram as…";
  menu.appendChild(head);
  const send = (id) => api("/api/send", { person: id, text: "/start " + payload }).catch(() => {});
  const name = document.getElementById("patient-name").value.trim();
  if (name) {
    const b = document.createElement("button");
    b.type = "button";
    b.dataset.new = "1";
    b.textContent = "➕ a new patient, " + name;
    b.addEventListener("click", async () => {
      hideMenu();
      const p = await addPatient(name);
      send(p.id);
    });
    menu.appendChild(b);
  }
  for (const col of columns.values()) {
    const b = document.createElement("button");
    b.type = "button";
    b.dataset.person = col.person.id;
    b.textContent = col.person.name + " (" + ROLES[col.person.role] + ")";
    b.addEventListener("click", () => { hideMenu(); send(col.person.id); });
    menu.appendChild(b);
  }
  menu.hidden = false;
  menu.style.left = Math.min(x, window.innerWidth - 240) + "px";
  menu.style.top = Math.min(y, window.innerHeight - menu.offsetHeight - 10) + "px";
}

document.addEventListener("click", (e) => {
  const spoiler = e.target.closest(".spoiler");
  if (spoiler) spoiler.classList.add("shown");
  if (!menu.hidden && !menu.contains(e.target)) hideMenu();
  const a = e.target.closest("a[href]");
  if (!a) return;
  const m = a.href.match(/^https:\/\/t\.me\/([A-Za-z0-9_]+)\?start=([A-Za-z0-9_-]+)$/);
  if (m && m[1] === bot) {
    e.preventDefault();
    e.stopPropagation();
    a.classList.add("tme");
    openLinkMenu(m[2], e.clientX, e.clientY);
  }
}, true);

poll();
