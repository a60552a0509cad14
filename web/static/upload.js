// The upload page: several files at once, an upload bar each, then live progress per rendition.
// Files go up with tus (tus-js-client, vendored) to /api/uploads/, so a dropped connection
// resumes from the server's offset by itself, and a file picked again after a reload can
// resume where it stopped. Finished uploads are remembered in this browser, so a reload
// shows where each one is.
"use strict";

(() => {
  const { el, seconds, renderRenditions, renderActions, describe, follow } = Transcoder;
  const STORE = "transcoder.uploads";
  const ENDPOINT = "/api/uploads/";
  // Long enough to ride out a dropped connection or a restarting server (about 7 minutes in
  // all); the count starts again whenever bytes got through.
  const RETRY_DELAYS = [0, 1000, 3000, 5000, 10000, 20000, 30000, 60000, 60000, 60000, 60000, 60000];
  const form = document.getElementById("upload-form");
  const input = document.getElementById("file");
  const drop = document.getElementById("drop");
  const list = document.getElementById("uploads");
  const notice = document.getElementById("notice");
  const unfinished = document.getElementById("unfinished");
  // Unfinished uploads are kept per user: another person signing in on this browser is
  // never offered (nor sent to) someone else's upload URL.
  const user = form.dataset.user || "anonymous";
  const TUS_PREFIX = `tus::transcoder-${user}-`;

  const remembered = () => { try { return JSON.parse(localStorage.getItem(STORE)) || []; } catch (_) { return []; } };
  const remember = (entry) => localStorage.setItem(STORE, JSON.stringify([entry, ...remembered()].slice(0, 20)));

  // What tus-js-client keeps to find an upload again: this user, the file's name, type, size
  // and date, and the endpoint (its own browser fingerprint, with the user in front).
  const fingerprint = (file) =>
    Promise.resolve(["transcoder", user, file.name, file.type, file.size, file.lastModified, ENDPOINT].join("-"));

  const megabytes = (n) => `${(n / 1e6).toFixed(1)} MB`;

  // Speed over the last few seconds (not since the start: a resumed upload's jump and a
  // slow first second would skew it), and the time left at that speed.
  function meter() {
    let samples = [];
    return (sent, total) => {
      const now = performance.now();
      if (samples.length && sent < samples[samples.length - 1][1]) samples = [];
      samples.push([now, sent]);
      while (samples.length > 2 && now - samples[0][0] > 5000) samples.shift();
      const [t0, b0] = samples[0];
      const speed = now - t0 > 500 ? ((sent - b0) * 1000) / (now - t0) : NaN;
      const percent = total ? Math.floor((100 * sent) / total) : 0;
      let text = `${percent} % of ${megabytes(total)} sent`;
      if (speed > 0 && sent < total) text += ` · ${megabytes(speed)}/s · ${seconds(Math.max(1, (total - sent) / speed))} left`;
      return text;
    };
  }

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

  // The server's JSON error message of a refused request, else a sentence of our own.
  function refusal(err) {
    const res = err && err.originalResponse;
    if (!res) return "Upload failed: the server could not be reached.";
    let body = {};
    try { body = JSON.parse(res.getBody()); } catch (_) { /* not JSON */ }
    return (body.error && body.error.message) || `Upload failed (HTTP ${res.getStatus()}).`;
  }

  // Retried: no answer at all, 5xx, 409 (offsets differ: HEAD and go on) and 423 (the
  // server still holds the dropped request's lock). Not the other 4xx: those are refusals.
  const retriable = (err) => {
    const status = err.originalResponse ? err.originalResponse.getStatus() : 0;
    return status === 0 || status >= 500 || status === 409 || status === 423;
  };

  function forget(file) {
    return fingerprint(file).then((print) => {
      for (let i = localStorage.length - 1; i >= 0; i--) {
        const key = localStorage.key(i);
        if (key && key.startsWith(`tus::${print}::`)) localStorage.removeItem(key);
      }
      showUnfinished();
    });
  }

  function send(file) {
    const box = card(file.name);
    const bar = box.querySelector(".upload progress");
    const sent = box.querySelector(".sent");
    const show = meter();
    let videoId = null;
    const upload = new tus.Upload(file, {
      endpoint: ENDPOINT,
      retryDelays: RETRY_DELAYS,
      removeFingerprintOnSuccess: true,
      fingerprint,
      metadata: { filename: file.name, filetype: file.type || "application/octet-stream" },
      headers: { "X-CSRF-Token": Transcoder.csrf() },
      onAfterResponse: (req, res) => {
        const id = res.getHeader("X-Video-Id");
        if (id) videoId = id;
      },
      onShouldRetry: (err) => {
        if (!retriable(err)) return false;
        box.dataset.retrying = "1";
        sent.textContent = "Connection lost: trying again…";
        return true;
      },
      onProgress: (bytes, total) => {
        delete box.dataset.retrying;
        bar.value = total ? (100 * bytes) / total : 0;
        sent.className = "sent";
        sent.textContent = show(bytes, total);
      },
      onSuccess: () => {
        // The last PATCH named the video; a resume that found every byte already there
        // answered with HEAD, which does not: the upload's own record does.
        const known = videoId
          ? Promise.resolve(videoId)
          : fetch(upload.url, { headers: { "Tus-Resumable": "1.0.0" } }).then((r) => r.json()).then((b) => b.video_id);
        known.then((id) => {
          if (!id) throw new Error("no video");
          const links = { self: `/api/videos/${id}` };
          remember({ id, name: file.name, links });
          showUnfinished();
          track(box, { id, seq: -1, links });
        }).catch(() => {
          sent.className = "sent failed";
          sent.textContent = "The upload arrived, but the server did not say which video it made: see the Library.";
        });
      },
      onError: (err) => {
        if (retriable(err)) {
          // Retries ran out: wait for the person (or the network) to say go.
          paused(box, sent, () => upload.start());
          return;
        }
        bar.hidden = true;
        sent.className = "sent failed";
        sent.textContent = refusal(err);
        forget(file); // a refused upload cannot be resumed
      },
    });
    upload.findPreviousUploads().then((previous) => {
      if (previous.length) offer(box, sent, upload, previous);
      else upload.start();
    }, () => upload.start());
  }

  function paused(box, sent, resume) {
    sent.className = "sent failed";
    sent.textContent = "Upload paused: the server could not be reached. ";
    const again = el("button", { type: "button", class: "resume" }, "Resume upload");
    const go = () => { window.removeEventListener("online", go); again.remove(); resume(); };
    again.addEventListener("click", go);
    window.addEventListener("online", go);
    sent.append(again);
  }

  // The same file was being sent before (a reload, a closed tab): offer to go on from the
  // server's offset, or to start again.
  function offer(box, sent, upload, previous) {
    const last = previous.sort((a, b) => Date.parse(b.creationTime) - Date.parse(a.creationTime))[0];
    const said = el("span", { class: "offer" }, "An upload of this file stopped part-way.");
    fetch(last.uploadUrl, { method: "HEAD", headers: { "Tus-Resumable": "1.0.0" } }).then((r) => {
      const offset = Number(r.headers.get("Upload-Offset"));
      if (r.ok && last.size) said.textContent = `An upload of this file stopped at ${Math.floor((100 * offset) / last.size)} %.`;
    }).catch(() => { /* the offer stands without the figure */ });
    const resume = el("button", { type: "button", class: "resume" }, "Resume upload");
    const fresh = el("button", { type: "button", class: "restart" }, "Start over");
    resume.addEventListener("click", () => {
      sent.replaceChildren("Resuming…");
      upload.resumeFromPreviousUpload(last);
      upload.start();
    });
    fresh.addEventListener("click", () => {
      sent.replaceChildren("Uploading…");
      for (const p of previous) {
        tus.Upload.terminate(p.uploadUrl, { headers: { "X-CSRF-Token": Transcoder.csrf() }, retryDelays: null })
          .catch(() => { /* gone already */ });
        localStorage.removeItem(p.urlStorageKey);
      }
      showUnfinished();
      upload.start();
    });
    sent.replaceChildren(said, " ", resume, " ", fresh);
  }

  // After a reload: the uploads that stopped part-way, to pick again.
  function unfinishedEntries() {
    const entries = [];
    for (let i = 0; i < localStorage.length; i++) {
      const key = localStorage.key(i);
      if (!key || !key.startsWith(TUS_PREFIX)) continue;
      try { entries.push({ ...JSON.parse(localStorage.getItem(key)), key }); } catch (_) { /* ignore */ }
    }
    return entries;
  }

  // Those the server no longer has (expired, deleted) are forgotten at once, not offered.
  function pruneUnfinished() {
    for (const e of unfinishedEntries()) {
      fetch(e.uploadUrl, { method: "HEAD", headers: { "Tus-Resumable": "1.0.0" } }).then((r) => {
        if (r.status === 404 || r.status === 410) {
          localStorage.removeItem(e.key);
          showUnfinished();
        }
      }).catch(() => { /* unreachable now: keep it */ });
    }
  }

  function showUnfinished() {
    const entries = unfinishedEntries();
    unfinished.replaceChildren();
    unfinished.hidden = !entries.length;
    if (!entries.length) return;
    unfinished.append(el("p", {}, "Unfinished uploads: choose the same file again to resume it."));
    const items = el("ul");
    for (const e of entries) {
      const name = (e.metadata && e.metadata.filename) || "a file";
      items.append(el("li", {}, `${name} (${megabytes(e.size || 0)})`));
    }
    unfinished.append(items);
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
  showUnfinished();
  pruneUnfinished();
})();
