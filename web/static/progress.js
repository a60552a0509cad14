// Shared by the pages: draw a video's per-rung progress, and follow it live.
"use strict";

const Transcoder = (() => {
  const TERMINAL = new Set(["ready", "failed", "canceled"]);

  function el(tag, attrs = {}, text = "") {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text) node.textContent = text;
    return node;
  }

  function seconds(s) {
    if (s == null) return "";
    s = Math.max(0, Math.round(s));
    return s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s} s`;
  }

  // Fill `box` with one row per rendition: a bar, percent, fps and ETA, or the download link.
  function renderRungs(box, video) {
    for (const r of video.renditions) {
      let row = box.querySelector(`[data-rung="${r.name}"]`);
      if (!row) {
        row = el("div", { class: "rung", "data-rung": r.name });
        row.append(el("span", { class: "name" }, r.name));
        row.append(el("progress", { max: "100", value: "0", "aria-label": `${r.name} progress` }));
        row.append(el("span", { class: "info" }));
        box.append(row);
      }
      row.dataset.state = r.state;
      row.querySelector("progress").value = r.progress;
      const info = row.querySelector(".info");
      info.replaceChildren();
      info.className = "info";
      if (r.state === "ready") {
        info.append(el("span", {}, "100 % · "));
        info.append(el("a", { href: `${r.url}?download=1` }, `MP4 ${r.width}×${r.height}`));
      } else if (r.state === "failed") {
        info.className = "info failed";
        info.textContent = r.error ? r.error.message : "failed";
      } else if (r.state === "running") {
        const parts = [`${Math.floor(r.progress)} %`];
        if (r.fps) parts.push(`${Math.round(r.fps)} fps`);
        if (r.eta_seconds != null) parts.push(`${seconds(r.eta_seconds)} left`);
        info.textContent = parts.join(" · ");
      } else {
        info.textContent = "waiting";
      }
    }
  }

  function describe(video) {
    if (video.state === "canceled") return "Canceled";
    if (video.state === "failed") return `Failed: ${video.error ? video.error.message : "unknown reason"}`;
    if (video.state === "ready") return "Ready";
    if (video.state === "queued") return "Waiting for a worker";
    return `Processing · ${Math.floor(video.progress)} %`;
  }

  // Call onUpdate with every new snapshot until the video ends. Uses the event
  // stream; if that cannot be opened, polls instead and calls onFallback once.
  function follow(video, onUpdate, onFallback) {
    let lastSeq = -1;
    let done = false;
    let polling = false;
    const update = (v) => {
      if (v.seq <= lastSeq) return;
      lastSeq = v.seq;
      onUpdate(v);
      if (TERMINAL.has(v.state)) done = true;
    };
    const poll = () => {
      if (done) return;
      fetch(video.links.self, { cache: "no-store" })
        .then((r) => {
          if (r.status === 404) { done = true; onUpdate({ ...video, state: "failed", seq: Infinity, renditions: [],
            error: { code: "not_found", message: "This video is no longer stored here." } }); }
          return r.ok ? r.json() : Promise.reject(r.status);
        })
        .then((v) => { update(v); if (!done) setTimeout(poll, 1000); })
        .catch(() => setTimeout(poll, 2000));
    };
    const startPolling = () => {
      if (polling || done) return;
      polling = true;
      if (onFallback) onFallback();
      poll();
    };
    if (!window.EventSource) { startPolling(); return; }
    let opened = false;
    const source = new EventSource(video.links.events);
    source.addEventListener("video", (e) => {
      opened = true;
      update(JSON.parse(e.data));
      if (done) source.close();
    });
    source.addEventListener("end", () => { done = true; source.close(); });
    source.onerror = () => {
      // Before any event, or once the browser gives up: poll. Otherwise the
      // browser reconnects by itself and gets the current snapshot first.
      if (!opened || source.readyState === EventSource.CLOSED) {
        source.close();
        startPolling();
      }
    };
  }

  // The page's CSRF token: required on uploads when the server uses API keys.
  const csrf = () => (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  // A Cancel button while the video runs, a Retry button once it failed.
  function renderActions(box, video, onRetried) {
    let bar = box.querySelector(".actions");
    if (!bar) {
      bar = el("p", { class: "actions" });
      box.append(bar);
    }
    bar.replaceChildren();
    const call = (method, path) => fetch(path, { method, headers: { "X-CSRF-Token": csrf() } })
      .then((r) => r.json().then((body) => (r.ok ? body : Promise.reject(body))));
    if (!TERMINAL.has(video.state)) {
      const cancel = el("button", { type: "button", class: "cancel" }, "Cancel");
      cancel.addEventListener("click", () => {
        cancel.disabled = true;
        call("DELETE", video.links.self).catch(() => { cancel.disabled = false; });
      });
      bar.append(cancel);
    } else if (video.state === "failed") {
      const retry = el("button", { type: "button", class: "retry" }, "Retry failed renditions");
      retry.addEventListener("click", () => {
        retry.disabled = true;
        call("POST", `${video.links.self}/retry`).then(onRetried).catch(() => { retry.disabled = false; });
      });
      bar.append(retry);
    }
  }

  return { el, seconds, renderRungs, renderActions, describe, follow, csrf, TERMINAL };
})();
