"use strict";
// The page of dlnmf serve: every action is a call to the /v1 API
// (described at /v1/openapi.json), with the token when the server has one.

const $ = (id) => document.getElementById(id);
let token = localStorage.getItem("dlnmf-token") || "";

function say(msg, error) {
  $("status").textContent = msg;
  $("status").className = error ? "error" : "";
}

async function api(method, path, body, type) {
  const headers = {};
  if (token) headers.Authorization = "Bearer " + token;
  if (type) headers["Content-Type"] = type;
  const r = await fetch(path, { method, headers, body });
  if (r.status === 401) $("token-section").hidden = false;
  if (!r.ok) {
    let msg = "HTTP " + r.status;
    try { msg = (await r.json()).error; } catch (e) { /* not JSON */ }
    throw new Error(msg);
  }
  return r;
}

async function apiJSON(method, path, body, type) {
  const r = await api(method, path, body, type);
  return r.status === 204 ? null : r.json();
}

// blobURL fetches a file with the token and returns a URL players can use.
async function blobURL(path) {
  const r = await api("GET", path);
  return URL.createObjectURL(await r.blob());
}

// guard runs an action, saying what went wrong rather than failing silently.
function guard(fn) {
  return async (ev) => {
    if (ev) ev.preventDefault();
    try { await fn(ev); } catch (e) { say(e.message, true); }
  };
}

function cell(row, content) {
  const td = document.createElement("td");
  if (content instanceof Node) td.append(content); else td.textContent = content;
  row.append(td);
  return td;
}

function button(text, label, fn) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "small";
  b.textContent = text;
  b.setAttribute("aria-label", label);
  b.addEventListener("click", guard(fn));
  return b;
}

async function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

// pollJob waits for a job to end, reporting its progress.
async function pollJob(id, progress) {
  for (;;) {
    const j = await apiJSON("GET", "/v1/jobs/" + id);
    if (progress) progress(j);
    if (j.state === "done") return j;
    if (j.state === "failed") throw new Error(j.error);
    await sleep(250);
  }
}

// ---- speakers ----

async function refreshSpeakers() {
  const { speakers } = await apiJSON("GET", "/v1/speakers");
  const body = $("speakers").tBodies[0];
  body.replaceChildren();
  const boxes = $("train-speakers");
  // A speaker is in the model unless the user unticked it.
  const unticked = new Set([...boxes.querySelectorAll("input:not(:checked)")].map((b) => b.value));
  boxes.replaceChildren();
  for (const s of speakers) {
    const row = body.insertRow();
    row.dataset.speaker = s.name;
    cell(row, s.name);
    cell(row, String(s.files));
    cell(row, s.seconds.toFixed(1)).className = "seconds";
    cell(row, button("Delete", "Delete speaker " + s.name, async () => {
      await api("DELETE", "/v1/speakers/" + encodeURIComponent(s.name));
      await refreshSpeakers();
    }));
    const label = document.createElement("label");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.value = s.name;
    box.checked = !unticked.has(s.name);
    label.append(box, " " + s.name + " (" + s.seconds.toFixed(1) + " s)");
    boxes.append(label);
  }
}

$("enrol-form").addEventListener("submit", guard(async () => {
  const name = $("enrol-name").value.trim();
  const files = $("enrol-files").files;
  if (!name || files.length === 0) throw new Error("give a speaker name and at least one recording");
  const form = new FormData();
  for (const f of files) form.append("audio", f, f.name);
  say("Enrolling " + files.length + " recording(s) of " + name + "…");
  const info = await apiJSON("POST", "/v1/speakers/" + encodeURIComponent(name), form);
  say(info.name + " has " + info.seconds.toFixed(1) + " s of speech in " + info.files + " file(s).");
  $("enrol-files").value = "";
  await refreshSpeakers();
}));

// ---- microphone ----

// openMicrophone starts capturing; onBlock receives Float32Array blocks.
async function openMicrophone(onBlock) {
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false, channelCount: 1 },
  });
  const ctx = new AudioContext();
  await ctx.audioWorklet.addModule("/static/capture.js");
  const src = ctx.createMediaStreamSource(stream);
  const node = new AudioWorkletNode(ctx, "capture");
  node.port.onmessage = (e) => onBlock(e.data);
  src.connect(node);
  return {
    ctx,
    async close() {
      stream.getTracks().forEach((t) => t.stop());
      src.disconnect();
      node.port.onmessage = null;
      await ctx.close();
    },
  };
}

function concat(blocks) {
  const n = blocks.reduce((s, b) => s + b.length, 0);
  const out = new Float32Array(n);
  let i = 0;
  for (const b of blocks) { out.set(b, i); i += b.length; }
  return out;
}

// wavBlob encodes mono samples as a WAV file: 32-bit float, or 16-bit PCM
// when pcm16 is set.
function wavBlob(x, rate, pcm16) {
  const bytes = pcm16 ? 2 : 4;
  const buf = new ArrayBuffer(44 + x.length * bytes);
  const v = new DataView(buf);
  const str = (o, s) => { for (let i = 0; i < s.length; i++) v.setUint8(o + i, s.charCodeAt(i)); };
  str(0, "RIFF"); v.setUint32(4, 36 + x.length * bytes, true); str(8, "WAVE");
  str(12, "fmt "); v.setUint32(16, 16, true); v.setUint16(20, pcm16 ? 1 : 3, true); v.setUint16(22, 1, true);
  v.setUint32(24, rate, true); v.setUint32(28, rate * bytes, true); v.setUint16(32, bytes, true); v.setUint16(34, bytes * 8, true);
  str(36, "data"); v.setUint32(40, x.length * bytes, true);
  for (let i = 0; i < x.length; i++) {
    if (pcm16) v.setInt16(44 + 2 * i, Math.max(-32768, Math.min(32767, Math.round(x[i] * 32768))), true);
    else v.setFloat32(44 + 4 * i, x[i], true);
  }
  return new Blob([buf], { type: "audio/wav" });
}

let recording = null;
$("enrol-record").addEventListener("click", guard(async () => {
  const btn = $("enrol-record");
  if (!recording) {
    const name = $("enrol-name").value.trim();
    if (!name) throw new Error("give the speaker's name first");
    const blocks = [];
    recording = { name, blocks, mic: await openMicrophone((b) => blocks.push(b)) };
    btn.textContent = "Stop and enrol";
    btn.setAttribute("aria-pressed", "true");
    say("Recording " + name + ": speak, then press Stop.");
    return;
  }
  const { name, blocks, mic } = recording;
  recording = null;
  btn.textContent = "Record from microphone";
  btn.setAttribute("aria-pressed", "false");
  const rate = mic.ctx.sampleRate;
  await mic.close();
  const info = await apiJSON("POST", "/v1/speakers/" + encodeURIComponent(name), wavBlob(concat(blocks), rate, true), "audio/wav");
  say(info.name + " has " + info.seconds.toFixed(1) + " s of speech in " + info.files + " file(s).");
  await refreshSpeakers();
}));

// ---- models and training ----

async function refreshModels() {
  const { models } = await apiJSON("GET", "/v1/models");
  const body = $("models").tBodies[0];
  body.replaceChildren();
  for (const m of models) {
    const row = body.insertRow();
    row.dataset.model = m.name;
    cell(row, m.name);
    cell(row, m.speakers.join(", "));
    cell(row, m.method);
    const actions = cell(row, button("Download", "Download model " + m.name, async () => {
      const a = document.createElement("a");
      a.href = await blobURL("/v1/models/" + encodeURIComponent(m.name));
      a.download = m.name + ".npz";
      a.click();
    }));
    actions.append(" ", button("Delete", "Delete model " + m.name, async () => {
      await api("DELETE", "/v1/models/" + encodeURIComponent(m.name));
      await refreshModels();
    }));
  }
  for (const sel of document.querySelectorAll(".model-select")) {
    const keep = sel.value;
    sel.replaceChildren(...models.map((m) => new Option(m.name + " (" + m.speakers.join(", ") + ")", m.name)));
    if (models.some((m) => m.name === keep)) sel.value = keep;
  }
}

$("train-form").addEventListener("submit", guard(async () => {
  const speakers = [...$("train-speakers").querySelectorAll("input:checked")].map((b) => b.value);
  const req = { model: $("train-model").value.trim(), speakers, method: $("train-method").value };
  const sizes = $("train-sizes").value.trim();
  if (sizes) req.sizes = sizes.split(",").map((s) => parseInt(s, 10));
  if ($("train-iters").value) req.iters = parseInt($("train-iters").value, 10);
  const bar = $("train-progress");
  bar.hidden = false;
  bar.value = 0;
  $("train-start").disabled = true;
  try {
    const job = await apiJSON("POST", "/v1/train", JSON.stringify(req), "application/json");
    say("Training " + req.model + "…");
    await pollJob(job.id, (j) => { bar.value = j.progress; $("train-stage").textContent = j.stage || j.state; });
    $("train-stage").textContent = "done";
    say("Model " + req.model + " is trained.");
    await refreshModels();
    $("separate-model").value = req.model;
    $("live-model").value = req.model;
  } finally {
    $("train-start").disabled = false;
  }
}));

// ---- separation ----

function figure(title, audioURL, imageURL) {
  const fig = document.createElement("figure");
  fig.dataset.source = title;
  const cap = document.createElement("figcaption");
  cap.textContent = title;
  const audio = document.createElement("audio");
  audio.controls = true;
  audio.src = audioURL;
  audio.setAttribute("aria-label", title);
  fig.append(cap, audio);
  if (imageURL) {
    const img = document.createElement("img");
    img.src = imageURL;
    img.alt = "spectrogram of " + title;
    fig.append(img);
  }
  return fig;
}

function audioType(file) {
  return file.type || (file.name.toLowerCase().endsWith(".flac") ? "audio/flac" : "audio/wav");
}

$("separate-form").addEventListener("submit", guard(async () => {
  const file = $("separate-file").files[0];
  const model = $("separate-model").value;
  if (!file || !model) throw new Error("choose a model and a recording");
  const out = $("separate-results");
  out.replaceChildren();
  $("scores").hidden = true;
  $("separate-progress").hidden = false;
  $("separate-start").disabled = true;
  try {
    say("Separating " + file.name + "…");
    let job = await apiJSON("POST", "/v1/separate?model=" + encodeURIComponent(model), file, audioType(file));
    if (job.state !== "done") job = await pollJob(job.id);
    const base = "/v1/jobs/" + job.id;
    out.append(figure("mixture", await blobURL(base + "/input"), await blobURL(base + "/input/spectrogram.png")));
    const estimates = [];
    for (const o of job.outputs) {
      const r = await api("GET", o.url);
      const blob = await r.blob();
      estimates.push({ name: o.source, file: o.file, blob });
      out.append(figure(o.source, URL.createObjectURL(blob), await blobURL(o.spectrogram)));
    }
    const zip = document.createElement("a");
    zip.textContent = "All voices (zip)";
    zip.href = await blobURL(base + "/outputs.zip");
    zip.download = job.id + ".zip";
    out.append(zip);
    say("Separated " + job.seconds.toFixed(1) + " s into " + job.outputs.length + " voices.");
    const refs = $("separate-refs").files;
    if (refs.length > 0) await showScores(refs, estimates);
  } finally {
    $("separate-progress").hidden = true;
    $("separate-start").disabled = false;
  }
}));

async function showScores(refs, estimates) {
  const form = new FormData();
  for (const r of refs) form.append("reference", r, r.name);
  for (const e of estimates) form.append("estimate", e.blob, e.file);
  const sc = await apiJSON("POST", "/v1/score", form);
  const body = $("scores").tBodies[0];
  body.replaceChildren();
  for (let i = 0; i < refs.length; i++) {
    const row = body.insertRow();
    row.dataset.voice = estimates[sc.perm[i]].name;
    cell(row, estimates[sc.perm[i]].name + " (" + refs[i].name + ")");
    for (const v of [sc.sdr[i], sc.sir[i], sc.sar[i]]) cell(row, v.toFixed(1));
  }
  $("scores").hidden = false;
}

// ---- live ----

let live = null;

$("live-start").addEventListener("click", guard(async () => {
  const model = $("live-model").value;
  if (!model) throw new Error("train or upload a model first");
  $("live-results").replaceChildren();
  const sent = [];
  let pending = [];
  let ws = null;
  let hello = null;
  const mic = await openMicrophone((b) => {
    pending.push(b);
    if (!hello || pending.reduce((s, p) => s + p.length, 0) < 2048) return;
    const x = concat(pending);
    pending = [];
    sent.push(x);
    ws.send(x.buffer);
  });
  const rate = mic.ctx.sampleRate;
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  let url = proto + "//" + location.host + "/v1/live?model=" + encodeURIComponent(model) + "&rate=" + rate;
  if (token) url += "&token=" + encodeURIComponent(token);
  ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  const voices = [];
  live = { mic, ws, sent, voices, rate };
  ws.onmessage = (e) => {
    if (typeof e.data === "string") {
      hello = JSON.parse(e.data);
      live.hello = hello;
      hello.sources.forEach(() => voices.push([]));
      $("live-info").textContent = "Live: " + hello.sources.join(", ") + " at " + hello.rate + " Hz, " +
        hello.latency_ms.toFixed(0) + " ms behind the microphone (and the network).";
      return;
    }
    const idx = new Uint8Array(e.data, 0, 1)[0];
    voices[idx].push(new Float32Array(e.data.slice(1)));
  };
  ws.onclose = (e) => {
    if (e.code !== 1000) say("live stream closed: " + (e.reason || "code " + e.code), true);
    showLive();
  };
  $("live-start").disabled = true;
  $("live-stop").disabled = false;
  $("live-stop").focus();
  say("Listening…");
}));

$("live-stop").addEventListener("click", guard(async () => {
  if (!live) return;
  $("live-stop").disabled = true;
  await live.mic.close();
  if (live.ws.readyState === WebSocket.OPEN) live.ws.send("end");
  else showLive();
}));

function showLive() {
  if (!live) return;
  const { sent, voices, rate, hello } = live;
  live = null;
  const out = $("live-results");
  out.replaceChildren(figure("mixture", URL.createObjectURL(wavBlob(concat(sent), rate, false))));
  if (hello) {
    hello.sources.forEach((name, i) => {
      out.append(figure(name, URL.createObjectURL(wavBlob(concat(voices[i]), hello.rate, false))));
    });
  }
  $("live-start").disabled = false;
  say("Live stream ended.");
}

// ---- start ----

$("token-save").addEventListener("click", guard(async () => {
  token = $("token").value.trim();
  localStorage.setItem("dlnmf-token", token);
  $("token-section").hidden = true;
  await Promise.all([refreshSpeakers(), refreshModels()]);
  say("");
}));

guard(async () => { await Promise.all([refreshSpeakers(), refreshModels()]); })();
