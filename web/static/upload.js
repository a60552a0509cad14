// The upload page: several files at once, an upload bar each, then live progress per rendition.
// Uploads are remembered in this browser, so a reload shows where each one is.
"use strict";

(() => {
  const { el, renderRenditions, renderActions, describe, follow } = Transcoder;
  const STORE = "transcoder.uploads";
  const form = document.getElementById("upload-form");
  const input = document.getElementById("file");
  const drop = document.getElementById("drop");
  const list = document.getElementById("uploads");
  const notice = document.getElementById("notice");

  const remembered = () => { try { return JSON.parse(localStorage.getItem(STORE)) || []; } catch (_) { return []; } };
  const remember = (entry) => localStorage.setItem(STORE, JSON.stringify([entry, ...remembered()].slice(0, 20)));

  function card(name) {
    const box = el("article", { class: "video" });
    box.append(el("h2", {}, name));
    const upload = el("p", { class: "upload" });
    upload.append(el("progress", { max: "100", value: "0", "aria-label": `${name} upload` }));
    upload.append(el("span", { class: "sent" }, "Uploading…"));
    box.append(upload, el("p", { class: "state", role: "status" }), el("div", { class: "renditions" }));
    list.prepend(box);
    return box;
  }

  function track(box, video) {
    box.dataset.id = video.id;
    box.querySelector(".upload").hidden = true;
    const state = box.querySelector(".state");
    follow(
      video,
      (v) => {
        state.textContent = describe(v);
        state.className = `state ${v.state}`;
        renderRenditions(box.querySelector(".renditions"), v);
        renderActions(box, v, (retried) => track(box, retried));
        if (v.playable && !box.querySelector(".watch")) {
          box.querySelector("h2").after(el("a", { class: "watch", href: v.watch_url }, "Watch"));
        }
      },
      () => { notice.textContent = "Live updates are unavailable here, so progress is checked every second."; },
    );
  }

  function send(file) {
    const box = card(file.name);
    const bar = box.querySelector(".upload progress");
    const sent = box.querySelector(".sent");
    const data = new FormData();
    data.append("file", file);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/videos");
    xhr.setRequestHeader("X-CSRF-Token", Transcoder.csrf());
    xhr.upload.onprogress = (e) => {
      if (!e.lengthComputable) return;
      bar.value = (100 * e.loaded) / e.total;
      sent.textContent = `${Math.floor(bar.value)} % of ${(e.total / 1e6).toFixed(1)} MB sent`;
    };
    xhr.onload = () => {
      let body = {};
      try { body = JSON.parse(xhr.responseText); } catch (_) { /* not JSON */ }
      if (xhr.status === 201) {
        remember({ id: body.id, name: file.name, links: body.links });
        track(box, { ...body, seq: -1 });
      } else {
        bar.hidden = true;
        sent.className = "sent failed";
        sent.textContent = (body.error && body.error.message) || `Upload failed (HTTP ${xhr.status}).`;
      }
    };
    xhr.onerror = () => { sent.className = "sent failed"; sent.textContent = "Upload failed: the server could not be reached."; };
    xhr.send(data);
  }

  function sendAll(files) {
    for (const file of files) send(file);
  }

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (!input.files.length) { notice.textContent = "Choose one or more video files first."; return; }
    sendAll([...input.files]);
    form.reset();
  });
  input.addEventListener("change", () => { notice.textContent = `${input.files.length} file(s) chosen.`; });
  // The button comes disabled: clicked before this script ran, the form would go as a plain
  // GET (the file's name in the address, nothing uploaded). It works once the page can send.
  form.querySelector("button[type=submit]").disabled = false;
  for (const type of ["dragenter", "dragover"]) {
    drop.addEventListener(type, (e) => { e.preventDefault(); drop.classList.add("over"); });
  }
  for (const type of ["dragleave", "drop"]) {
    drop.addEventListener(type, () => drop.classList.remove("over"));
  }
  drop.addEventListener("drop", (e) => { e.preventDefault(); sendAll([...e.dataTransfer.files]); });

  // After a reload: show every remembered upload at its current state.
  for (const entry of remembered().reverse()) {
    const box = card(entry.name);
    track(box, { id: entry.id, seq: -1, links: entry.links });
  }
})();
