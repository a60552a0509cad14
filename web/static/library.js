// The library: keep the progress of videos still encoding up to date.
"use strict";

(() => {
  const { follow } = Transcoder;
  for (const item of document.querySelectorAll(".item")) {
    if (Transcoder.TERMINAL.has(item.dataset.state)) continue;
    const id = item.dataset.id;
    follow({ id, links: { self: `/api/videos/${id}`, events: `/api/videos/${id}/events` } }, (v) => {
      item.dataset.state = v.state;
      const bar = item.querySelector("progress");
      if (bar) bar.value = v.progress;
      const state = item.querySelector(".state");
      state.textContent = v.state;
      state.className = `state ${v.state}`;
      if (Transcoder.TERMINAL.has(v.state)) location.reload();
    });
  }
})();
