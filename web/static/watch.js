// The watch page: adaptive playback with hls.js (or the browser's own HLS), a quality
// menu, storyboard previews over the seek bar, downloads, and progress while encoding.
"use strict";

(() => {
  const { el, renderRenditions, renderActions, describe, follow } = Transcoder;
  const player = document.getElementById("player");
  const media = document.getElementById("video");
  const quality = document.getElementById("quality");
  const playing = document.getElementById("playing-level");
  const seek = document.getElementById("seek");
  const preview = document.getElementById("preview");
  const state = document.getElementById("watch-state");
  const downloads = document.getElementById("downloads");
  const progress = document.getElementById("progress");
  let video = JSON.parse(player.dataset.video);
  let hls = null;
  let cues = [];

  function start(v) {
    if (hls || media.getAttribute("src") || !v.hls_url) return;
    if (window.Hls && Hls.isSupported()) {
      // From the start: while later parts are still encoding the playlist grows (an EVENT
      // playlist), which hls.js would otherwise join near its end, as if it were live.
      hls = new Hls({ startPosition: 0 });
      window.transcoderPlayer = hls; // for tests and the curious
      hls.on(Hls.Events.MANIFEST_PARSED, () => fillQualities());
      hls.on(Hls.Events.LEVEL_SWITCHED, (_, data) => {
        const level = hls.levels[data.level];
        playing.textContent = level ? `Playing ${level.name || `${level.height}p`}` : "";
        player.dataset.level = level ? level.name || "" : "";
      });
      hls.loadSource(v.hls_url);
      hls.attachMedia(media);
    } else if (media.canPlayType("application/vnd.apple.mpegurl")) {
      media.src = v.hls_url; // Safari plays HLS itself and picks the quality
      quality.disabled = true;
    } else {
      state.textContent = "This browser cannot play HLS; use a download below.";
    }
  }

  function fillQualities() {
    const chosen = quality.value;
    quality.replaceChildren(el("option", { value: "-1" }, "Auto"));
    hls.levels.forEach((level, i) => {
      quality.append(el("option", { value: String(i) }, level.name || `${level.height}p`));
    });
    quality.value = [...quality.options].some((o) => o.value === chosen) ? chosen : "-1";
  }

  quality.addEventListener("change", () => {
    if (!hls) return;
    const level = Number(quality.value);
    hls.currentLevel = level; // -1 returns to automatic switching
  });

  function render(v) {
    video = v;
    state.textContent = v.state === "ready" ? "" : describe(v);
    state.className = `notice ${v.state}`;
    if (v.poster_url && !media.getAttribute("poster")) media.setAttribute("poster", v.poster_url);
    if (v.storyboard_vtt_url && !cues.length) loadStoryboard(v.storyboard_vtt_url);
    downloads.replaceChildren();
    for (const r of v.renditions.filter((r) => r.url)) {
      const item = el("li");
      item.append(el("a", { href: `${r.url}?download=1` }, `${r.name} · ${r.width}×${r.height} MP4`));
      downloads.append(item);
    }
    if (v.state === "ready") progress.replaceChildren();
    else renderRenditions(progress, v);
    renderActions(progress, v, (retried) => follow(retried, render));
    start(v);
    // Rungs finished since the player loaded: reload the list while nothing has played yet.
    const ready = v.renditions.filter((r) => r.state === "ready").length;
    if (hls && hls.levels.length && hls.levels.length < ready && media.paused && media.currentTime === 0) {
      hls.loadSource(v.hls_url);
    }
  }

  // Storyboard: WebVTT cues whose text is "storyboard.jpg#xywh=x,y,w,h".
  function loadStoryboard(url) {
    fetch(url).then((r) => (r.ok ? r.text() : "")).then((text) => {
      const base = new URL(url, location.href);
      const blocks = text.split(/\n\n+/);
      cues = blocks.map((block) => {
        const lines = block.trim().split("\n");
        const times = lines.find((l) => l.includes("-->"));
        const target = lines[lines.indexOf(times) + 1];
        if (!times || !target) return null;
        const [start, end] = times.split("-->").map(clock);
        const [file, frag] = target.split("#xywh=");
        const [x, y, w, h] = frag.split(",").map(Number);
        return { start, end, src: new URL(file, base).href, x, y, w, h };
      }).filter(Boolean);
    });
  }

  function clock(text) {
    const [h, m, s] = text.trim().split(":");
    return Number(h) * 3600 + Number(m) * 60 + Number(s);
  }

  function showPreview(time) {
    const cue = cues.find((c) => time >= c.start && time < c.end) || cues[cues.length - 1];
    if (!cue) return;
    const frame = preview.querySelector(".frame");
    frame.style.width = `${cue.w}px`;
    frame.style.height = `${cue.h}px`;
    frame.style.backgroundImage = `url("${cue.src}")`;
    frame.style.backgroundPosition = `-${cue.x}px -${cue.y}px`;
    preview.querySelector(".time").textContent = Transcoder.seconds(time);
    const fraction = time / Math.max(video.source.duration, 0.001);
    preview.style.left = `calc(${(fraction * 100).toFixed(2)}% - ${cue.w / 2}px)`;
    preview.hidden = false;
  }

  seek.addEventListener("mousemove", (e) => {
    const box = seek.getBoundingClientRect();
    showPreview(Math.min(Math.max((e.clientX - box.left) / box.width, 0), 1) * video.source.duration);
  });
  seek.addEventListener("mouseleave", () => { preview.hidden = true; });
  seek.addEventListener("input", () => { showPreview(Number(seek.value)); media.currentTime = Number(seek.value); });
  seek.addEventListener("change", () => { preview.hidden = true; });
  seek.addEventListener("blur", () => { preview.hidden = true; });
  media.addEventListener("timeupdate", () => {
    if (document.activeElement !== seek) seek.value = String(media.currentTime);
  });

  // Deleting removes the video, its renditions and every file for good: ask first.
  const remove = document.getElementById("delete");
  remove.addEventListener("click", () => {
    if (!window.confirm(`Delete ${video.filename || "this video"}? Its renditions and files are removed for good.`)) return;
    remove.disabled = true;
    fetch(video.links.self, { method: "DELETE", headers: { "X-CSRF-Token": Transcoder.csrf() } })
      .then((r) => { if (r.status === 204 || r.status === 404) location.assign("/videos"); else return Promise.reject(r.status); })
      .catch(() => { remove.disabled = false; state.textContent = "The video could not be deleted; try again."; });
  });

  render(video);
  if (!Transcoder.TERMINAL.has(video.state)) {
    follow(video, render, () => { state.textContent = `${describe(video)} (checking every second)`; });
  }
})();
