// Upload a file, then follow its progress with EventSource (polling if that fails).
"use strict";

const form = document.getElementById("upload-form");
const statusLine = document.getElementById("status");
const list = document.getElementById("videos");

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const file = document.getElementById("file").files[0];
  if (!file) return;
  const data = new FormData();
  data.append("file", file);
  const xhr = new XMLHttpRequest();
  xhr.open("POST", "/api/videos");
  xhr.upload.onprogress = (e) => {
    if (e.lengthComputable) statusLine.textContent = `Uploading ${file.name}: ${Math.round((100 * e.loaded) / e.total)} %`;
  };
  xhr.onload = () => {
    let body = {};
    try { body = JSON.parse(xhr.responseText); } catch (_) { /* not JSON */ }
    if (xhr.status === 201) {
      statusLine.textContent = `${file.name} uploaded.`;
      follow(body.id, file.name);
    } else {
      statusLine.textContent = (body.error && body.error.message) || `Upload failed (HTTP ${xhr.status}).`;
      statusLine.className = "failed";
    }
  };
  xhr.onerror = () => { statusLine.textContent = "Upload failed: the server could not be reached."; };
  xhr.send(data);
});

function card(id, name) {
  const el = document.createElement("article");
  el.className = "video";
  el.id = `video-${id}`;
  el.innerHTML = "<h2></h2><p class=\"state\"></p><div class=\"rungs\"></div>";
  el.querySelector("h2").textContent = name;
  list.prepend(el);
  return el;
}

function render(el, video) {
  const state = el.querySelector(".state");
  state.textContent = video.error ? `${video.state}: ${video.error.message}` : `${video.state} ${video.progress} %`;
  state.className = `state ${video.state}`;
  const rungs = el.querySelector(".rungs");
  for (const r of video.renditions) {
    let row = rungs.querySelector(`[data-rung="${r.name}"]`);
    if (!row) {
      row = document.createElement("div");
      row.className = "rung";
      row.dataset.rung = r.name;
      row.innerHTML = "<span class=\"name\"></span><progress max=\"100\" value=\"0\"></progress><span class=\"info\"></span>";
      row.querySelector(".name").textContent = r.name;
      row.querySelector("progress").setAttribute("aria-label", `${r.name} progress`);
      rungs.appendChild(row);
    }
    row.querySelector("progress").value = r.progress;
    const info = row.querySelector(".info");
    info.textContent = "";
    if (r.url) {
      const a = document.createElement("a");
      a.href = r.url;
      a.textContent = `Download ${r.width}x${r.height} MP4`;
      info.appendChild(a);
    } else if (r.state === "failed") {
      info.textContent = r.error ? r.error.message : "failed";
      info.className = "info failed";
    } else {
      const eta = r.eta_seconds == null ? "" : ` · ${Math.ceil(r.eta_seconds)} s left`;
      info.textContent = `${r.progress} %${r.fps ? ` · ${r.fps} fps` : ""}${eta}`;
    }
  }
}

function follow(id, name) {
  const el = card(id, name);
  const done = (v) => v.state === "ready" || v.state === "failed";
  const source = new EventSource(`/api/videos/${id}/events`);
  source.addEventListener("video", (e) => {
    const video = JSON.parse(e.data);
    render(el, video);
    if (done(video)) source.close();
  });
  source.addEventListener("end", () => source.close());
  source.onerror = () => {
    if (source.readyState === EventSource.CLOSED) poll(id, el, done);
  };
}

function poll(id, el, done) {
  fetch(`/api/videos/${id}`).then((r) => r.json()).then((video) => {
    render(el, video);
    if (!done(video)) setTimeout(() => poll(id, el, done), 1000);
  }).catch(() => setTimeout(() => poll(id, el, done), 2000));
}
