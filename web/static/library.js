// The library: keep the videos still encoding up to date in place, over the page's one
// live connection (a reload would take the page away from someone about to click).
"use strict";

(() => {
  const { el, follow, TERMINAL } = Transcoder;
  for (const item of document.querySelectorAll(".item")) {
    if (TERMINAL.has(item.dataset.state)) continue;
    const id = item.dataset.id;
    follow({ id, links: { self: `/api/videos/${id}` } }, (v) => {
      item.dataset.state = v.state;
      const state = item.querySelector(".state");
      state.textContent = v.state;
      state.className = `state ${v.state}`;
      const bar = item.querySelector("progress");
      if (bar) bar.value = v.progress;
      if (!TERMINAL.has(v.state)) return;
      if (bar) bar.remove();
      if (v.state === "failed" && v.error) item.append(el("p", { class: "error" }, v.error.message));
      const blank = item.querySelector(".noposter");
      if (v.poster_url && blank) {
        blank.replaceWith(el("img", { src: v.poster_url, alt: "", width: "160", height: "90" }));
      }
    });
  }
})();
