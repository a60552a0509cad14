// Shared by the pages: draw a video's per-rendition progress, and follow it live.
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
  function renderRenditions(box, video) {
    for (const r of video.renditions) {
      let row = box.querySelector(`[data-rendition="${r.name}"]`);
      if (!row) {
        row = el("div", { class: "rendition", "data-rendition": r.name });
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

  // One live connection per page, whatever the number of videos it follows: the
  // WebSocket where the browser has it, else one event stream for every video
  // (reopened when the set changes), else polling each video every second.
  const live = (() => {
    const followers = new Map(); // video id -> Set of {update, fallback}
    let mode = window.WebSocket ? "ws" : window.EventSource ? "sse" : "poll";
    let socket = null;
    let socketOpen = false;
    let source = null;
    let reopen = null;
    let retryDelay = 1000;

    const deliver = (v) => {
      for (const f of [...(followers.get(v.id) || [])]) f.update(v);
    };
    const degrade = () => {
      mode = mode === "ws" && window.EventSource ? "sse" : "poll";
      if (socket) { socket.onclose = null; socket.close(); socket = null; }
      if (source) { source.close(); source = null; }
      for (const set of followers.values()) for (const f of set) f.fallback();
      connect();
    };

    function openSocket() {
      const scheme = location.protocol === "https:" ? "wss" : "ws";
      socket = new WebSocket(`${scheme}://${location.host}/api/ws`);
      socketOpen = false;
      socket.onopen = () => {
        socketOpen = true;
        retryDelay = 1000;
        if (followers.size) socket.send(JSON.stringify({ subscribe: [...followers.keys()] }));
      };
      socket.onmessage = (e) => {
        const msg = JSON.parse(e.data);
        if (msg.id) deliver(msg);
        else if (msg.error && msg.error.code === "not_found") for (const id of msg.error.videos || []) gone(id);
      };
      socket.onclose = () => {
        socket = null;
        if (!socketOpen) { degrade(); return; } // never opened: a proxy without WebSockets
        socketOpen = false;
        setTimeout(connect, retryDelay);
        retryDelay = Math.min(retryDelay * 2, 15000);
      };
    }

    function openSource() {
      if (source) source.close();
      source = null;
      if (!followers.size) return;
      const query = [...followers.keys()].map((id) => `video=${id}`).join("&");
      const es = new EventSource(`/api/events?${query}`);
      let opened = false;
      es.addEventListener("video", (e) => { opened = true; deliver(JSON.parse(e.data)); });
      es.addEventListener("end", () => { es.close(); if (source === es) source = null; });
      es.onerror = () => {
        // Before any event, or once the browser gives up: poll. Otherwise the browser
        // reconnects by itself, sending the last event's id, and gets what it missed.
        if (!opened || es.readyState === EventSource.CLOSED) { es.close(); if (source === es) degrade(); }
      };
      source = es;
    }

    function poll(id) {
      const set = followers.get(id);
      if (!set) return;
      fetch(`/api/videos/${id}`, { cache: "no-store" })
        .then((r) => {
          if (r.status === 404) { gone(id); return null; }
          return r.ok ? r.json() : Promise.reject(r.status);
        })
        .then((v) => { if (v) deliver(v); if (followers.has(id)) setTimeout(() => poll(id), 1000); })
        .catch(() => setTimeout(() => poll(id), 2000));
    }

    function gone(id) {
      for (const f of [...(followers.get(id) || [])]) f.gone();
    }

    function connect() {
      if (mode === "ws") { if (!socket) openSocket(); }
      else if (mode === "sse") openSource();
      else for (const id of followers.keys()) poll(id);
    }

    function add(id, follower) {
      const isNew = !followers.has(id);
      if (isNew) followers.set(id, new Set());
      followers.get(id).add(follower);
      if (!isNew) return;
      if (mode === "ws") {
        if (socketOpen) socket.send(JSON.stringify({ subscribe: [id] }));
        else if (!socket) openSocket();
      } else if (mode === "sse") {
        clearTimeout(reopen); // several follows at once open one stream
        reopen = setTimeout(openSource, 50);
      } else {
        poll(id);
      }
    }

    function remove(id, follower) {
      const set = followers.get(id);
      if (!set) return;
      set.delete(follower);
      if (set.size) return;
      followers.delete(id);
      if (mode === "ws" && socketOpen) socket.send(JSON.stringify({ unsubscribe: [id] }));
    }

    return { add, remove, mode: () => mode };
  })();

  // Call onUpdate with every new snapshot of `video` until it ends, over the page's
  // one live connection; onFallback is called once if that connection is polling.
  function follow(video, onUpdate, onFallback) {
    let lastSeq = typeof video.seq === "number" ? video.seq : -1;
    let fellBack = false;
    const follower = {
      update(v) {
        if (v.seq <= lastSeq) return;
        lastSeq = v.seq;
        onUpdate(v);
        if (TERMINAL.has(v.state)) live.remove(video.id, follower);
      },
      fallback() {
        if (live.mode() === "poll" && !fellBack && onFallback) { fellBack = true; onFallback(); }
      },
      gone() {
        live.remove(video.id, follower);
        onUpdate({ ...video, state: "failed", seq: Infinity, renditions: [],
          error: { code: "not_found", message: "This video is no longer stored here." } });
      },
    };
    live.add(video.id, follower);
    follower.fallback();
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
        call("POST", `${video.links.self}/cancel`).catch(() => { cancel.disabled = false; });
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

  return { el, seconds, renderRenditions, renderActions, describe, follow, csrf, TERMINAL };
})();
