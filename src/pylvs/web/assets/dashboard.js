// The pylvs dashboard: polls /api/v1/state and redraws.  No framework, no build step, no
// CDN; every text goes in through textContent (nothing the daemon reports is parsed as HTML),
// and the page's Content-Security-Policy allows only these files.  An admin gets a Drain /
// Restore button per real server: a JSON POST to /api/v1/actions, which a cross-site page
// cannot send without a preflight the server never grants.
"use strict";

const POLL_MS = 1000;
const SPARK_POINTS = 60; // one minute of connection rates per real server
const history = new Map(); // "service|server" -> recent connections/s
let busy = false;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v;
    else if (k.startsWith("data-")) node.setAttribute(k, v);
    else node[k] = v;
  }
  for (const c of children) node.append(c instanceof Node ? c : String(c));
  return node;
}

function time(at) {
  const d = new Date(at * 1000);
  return el("time", { dateTime: d.toISOString() }, d.toLocaleTimeString());
}

function spark(values) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("class", "spark");
  svg.setAttribute("viewBox", `0 0 ${SPARK_POINTS} 20`);
  svg.setAttribute("preserveAspectRatio", "none");
  const max = Math.max(1, ...values);
  const points = values.map((v, i) => `${i + SPARK_POINTS - values.length},${19 - (v / max) * 18}`);
  const line = document.createElementNS(ns, "polyline");
  line.setAttribute("points", points.join(" "));
  svg.append(line);
  const title = document.createElementNS(ns, "title");
  title.textContent = `${values.at(-1) ?? 0} connections/s`;
  svg.append(title);
  return svg;
}

function serverState(s) {
  if (s.health && !s.health.alive) return ["down", "DOWN"];
  if (!s.in_table) return ["down", "OUT"];
  if (s.weight === 0) return ["drain", "DRAINED"];
  return ["up", "UP"];
}

async function act(body, button) {
  button.disabled = true;
  try {
    const r = await fetch("/api/v1/actions", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      credentials: "same-origin",
    });
    if (!r.ok) {
      const answer = await r.json().catch(() => ({ error: r.statusText }));
      alert(`${body.action} refused: ${answer.error}`);
    }
  } finally {
    refresh();
  }
}

function actionButton(service, s, admin) {
  if (!admin || !s.in_table) return "";
  if (s.weight === 0) {
    const weight = s.health ? Math.max(1, s.health.weight) : 1;
    const b = el("button", { type: "button", "data-action": "restore" }, "Restore");
    b.addEventListener("click", () =>
      act({ action: "weight", service: service.id, server: s.id, weight }, b));
    return b;
  }
  const b = el("button", { type: "button", "data-action": "drain" }, "Drain");
  b.addEventListener("click", () => act({ action: "drain", service: service.id, server: s.id }, b));
  return b;
}

function serviceCard(service, admin) {
  const rows = service.servers.map((s) => {
    const key = `${service.id}|${s.id}`;
    const rates = history.get(key) || [];
    rates.push(s.rates.cps);
    while (rates.length > SPARK_POINTS) rates.shift();
    history.set(key, rates);
    const [cls, label] = serverState(s);
    const reason = s.health && s.health.checks.length ? s.health.checks.map((c) => c.reason).join("; ") : "";
    return el("tr", { class: cls, "data-server": s.id },
      el("td", {}, s.id),
      el("td", {}, el("span", { class: `state ${cls}`, title: reason }, label)),
      el("td", { class: "num", "data-field": "weight" }, s.weight ?? "–"),
      el("td", { class: "num" }, s.active),
      el("td", { class: "num wide" }, s.inactive),
      el("td", { class: "wide" }, spark(rates)),
      el("td", {}, actionButton(service, s, admin)));
  });
  const head = el("tr", {}, ...["real server", "health", "weight", "active", "inactive", "conn/s", ""]
    .map((t, i) => el("th", { class: i === 4 || i === 5 ? "wide" : "" }, t)));
  const title = el("h3", {}, service.id.replace(/^([A-Z]+):/, "$1 "), " ",
    el("span", { class: "sub" }, `${service.scheduler}${service.listening ? "" : " · not listening"}`));
  return el("div", { class: "service", "data-service": service.id }, title,
    el("table", {}, el("thead", {}, head), el("tbody", {}, ...rows)));
}

function vrrpTable(instances) {
  if (!instances.length) return el("p", { class: "empty" }, "no instances");
  const head = el("tr", {}, ...["instance", "state", "priority", "master", "since"].map((t) => el("th", {}, t)));
  const rows = instances.map((i) => {
    const cls = i.state === "MASTER" ? "up" : i.state === "FAULT" ? "down" : "drain";
    return el("tr", { "data-instance": i.name },
      el("td", {}, `${i.name} (vrid ${i.vrid}, ${i.interface})`),
      el("td", {}, el("span", { class: `state ${cls}` }, i.state)),
      el("td", { class: "num" }, `${i.effective_priority}/${i.priority}`),
      el("td", {}, i.master ?? "–"),
      el("td", {}, i.since ? time(i.since) : "–"));
  });
  return el("table", {}, el("thead", {}, head), el("tbody", {}, ...rows));
}

function draw(state) {
  const admin = state.user.admin;
  const services = document.getElementById("services");
  services.replaceChildren(...(state.services.length
    ? state.services.map((s) => serviceCard(s, admin)) : [el("p", { class: "empty" }, "none")]));
  document.getElementById("vrrp").replaceChildren(vrrpTable(state.instances));
  document.getElementById("events").replaceChildren(...state.events.slice().reverse().map((e) =>
    el("li", { "data-kind": e.kind }, time(e.at), el("span", { class: "kind" }, e.kind), e.summary)));
  document.getElementById("plane").textContent = state.plane ? `data plane: ${state.plane}` : "";
  document.getElementById("who").textContent = state.user.name
    ? `${state.user.name}${admin ? " (admin)" : ""}` : "read-only";
}

async function refresh() {
  if (busy) return;
  busy = true;
  const status = document.getElementById("status");
  try {
    const r = await fetch("/api/v1/state", { credentials: "same-origin", cache: "no-store" });
    if (!r.ok) throw new Error(r.statusText);
    draw(await r.json());
    status.textContent = `updated ${new Date().toLocaleTimeString()}`;
    status.classList.remove("stale");
  } catch (e) {
    status.textContent = `not updating: ${e.message}`;
    status.classList.add("stale");
  } finally {
    busy = false;
  }
}

refresh();
setInterval(refresh, POLL_MS);
