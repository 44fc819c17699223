// layer: daemon (composition)
// job: the live status page: one self-contained HTML document (no external assets) that follows /events (server-sent events: on each balancer event and every second) and shows instances, VIPs, services with their real servers, bans and recent events.

/**
 * Served at `/`; its script renders each status pushed on /events with textContent only (nothing
 * from the status is parsed as HTML). Rows carry `data-changed-at`: when this page first showed
 * their current state or health (ms since the epoch, the browser's clock; absent until a change).
 */
export const STATUS_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>lvskit status</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
  h1 { font-size: 1.3em; margin: 0 0 .2em; }
  h2 { font-size: 1.1em; margin: 1.4em 0 .4em; }
  table { border-collapse: collapse; margin-bottom: .6em; }
  th, td { text-align: left; padding: .2em .8em .2em 0; border-bottom: 1px solid #ddd; vertical-align: top; }
  th { font-weight: 600; color: #555; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
  .MASTER, .UP { color: #075; font-weight: 600; }
  .BACKUP { color: #036; font-weight: 600; }
  .FAULT, .DOWN, .error { color: #b00; font-weight: 600; }
  .INIT, .muted { color: #777; }
  #meta { color: #555; }
  #conn.stale { color: #b00; }
</style>
</head>
<body>
<h1>lvskit</h1>
<div id="meta">loading…</div>
<div id="conn"></div>
<h2>VRRP instances</h2>
<table id="instances"><thead><tr><th>Instance</th><th>State</th><th>Priority</th><th>VRID</th><th>Interface</th><th>Master seen</th><th>VIPs</th></tr></thead><tbody></tbody></table>
<h2>Services</h2>
<div id="services"></div>
<h2>Bans</h2>
<div id="bans"></div>
<h2>Recent events</h2>
<table id="events"><thead><tr><th>Time</th><th>Source</th><th>Event</th></tr></thead><tbody></tbody></table>
<script>
"use strict";
function el(tag, text, cls) {
  var e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}
function row(cells, attrs) {
  var tr = document.createElement("tr");
  for (var k in attrs || {}) tr.setAttribute(k, attrs[k]);
  cells.forEach(function (c) { tr.appendChild(c); });
  return tr;
}
function cell(text, cls, field) {
  var td = el("td", text, cls);
  if (field) td.setAttribute("data-field", field);
  return td;
}
function duration(ms) {
  var s = Math.max(0, Math.floor(ms / 1000));
  var d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
  return (d ? d + "d " : "") + (d || h ? h + "h " : "") + (d || h || m ? m + "m " : "") + (s % 60) + "s";
}
function hostPort(r) { return (r.address.indexOf(":") >= 0 ? "[" + r.address + "]" : r.address) + ":" + r.port; }
function bytes(n) {
  var units = ["B", "KiB", "MiB", "GiB", "TiB"], i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : String(n)) + " " + units[i];
}
/** What each row showed last, and when that began (for data-changed-at). */
var shown = {}, changedAt = {};
function changed(key, value, attrs) {
  if (key in shown && shown[key] !== value) changedAt[key] = Date.now();
  shown[key] = value;
  if (changedAt[key]) attrs["data-changed-at"] = String(changedAt[key]);
  return attrs;
}
function fill(tbody, rows) {
  tbody.replaceChildren.apply(tbody, rows);
}
function render(doc) {
  var s = doc.status;
  document.getElementById("meta").textContent = "pid " + s.pid + " · " + s.config + " · up " +
    (s.startedAtMs ? duration(doc.nowMs - s.startedAtMs) : "(starting)") + " · " + s.reloads + " reload(s)" +
    (s.reloadFailures ? ", " + s.reloadFailures + " refused" : "");
  fill(document.querySelector("#instances tbody"), s.instances.map(function (i) {
    var seen = i.master ? i.master.address + " (priority " + i.master.priority + ")" : i.state === "MASTER" ? "(this balancer)" : "–";
    return row([cell(i.name, "", "name"), cell(i.state, i.state, "state"), cell(i.priority, "num", "priority"), cell(i.vrid, "num"),
      cell(i.interface), cell(seen, "", "master"), cell(i.vips.join(" "), "", "vips")], changed("instance " + i.name, i.state, { "data-instance": i.name }));
  }));
  var services = document.getElementById("services");
  if (s.services.length === 0) fill(services, [el("p", "none configured", "muted")]);
  else fill(services, s.services.map(function (svc) {
    var box = el("div");
    box.setAttribute("data-service", svc.name);
    box.appendChild(el("h3", svc.name + (svc.scheduler ? " " + svc.scheduler : "") + (svc.present ? "" : " — NOT IN THE KERNEL") +
      (svc.quorumUp === false ? " — quorum LOST" : "") +
      (svc.traffic ? " · " + svc.traffic.connections + " connections, " + svc.traffic.connectionsPerSec + "/s, " + bytes(svc.traffic.bytesIn) + " in" : "")));
    var t = el("table");
    t.appendChild(row(["Real server", "Health", "Weight", "Active", "Inactive", "Conns", "Conn/s", "In", "Why"].map(function (h) { return el("th", h); })));
    svc.realServers.forEach(function (r) {
      var health = r.up === undefined ? "–" : r.up ? "UP" : "DOWN";
      var why = r.downReason ? r.downReason.checker.split(" ")[0] + (r.downReason.failure ? ": " + r.downReason.failure.message : "") : "";
      var tr = r.traffic;
      t.appendChild(row([cell(hostPort(r)), cell(health, health, "health"), cell(r.kernelWeight === undefined ? "(absent)" : r.kernelWeight, "num", "weight"),
        cell(r.activeConns === undefined ? "–" : r.activeConns, "num", "active"), cell(r.inactiveConns === undefined ? "–" : r.inactiveConns, "num", "inactive"),
        cell(tr ? tr.connections : "–", "num", "connections"), cell(tr ? tr.connectionsPerSec : "–", "num", "cps"), cell(tr ? bytes(tr.bytesIn) : "–", "num", "bytes-in"),
        cell(why, "", "why")], changed(svc.name + " " + hostPort(r), health, { "data-real-server": hostPort(r) })));
    });
    box.appendChild(t);
    return box;
  }));
  var bans = document.getElementById("bans");
  if (!s.autoban) fill(bans, [el("p", "autoban off", "muted")]);
  else {
    var a = s.autoban, t = el("table");
    t.appendChild(row(["Address", "ESTABLISHED", "Until"].map(function (h) { return el("th", h); })));
    a.bans.forEach(function (b) {
      t.appendChild(row([cell(b.address), cell(b.count, "num"), cell(b.untilMs === undefined ? "no end" : new Date(b.untilMs).toISOString())]));
    });
    fill(bans, [el("p", "set " + a.set + " · source " + a.source + " · threshold " + a.threshold + " · " + a.bans.length + " ban(s)" +
      (a.trackedConnections !== undefined ? " · " + a.trackedConnections + " connections tracked" : "")), t]);
  }
  fill(document.querySelector("#events tbody"), doc.events.slice().reverse().map(function (e) {
    return row([cell(new Date(e.atMs).toLocaleTimeString()), cell(e.source), cell(e.message, e.level === "error" || e.level === "warn" ? "error" : "")]);
  }));
}
var updates = 0;
function follow() {
  var conn = document.getElementById("conn");
  var source = new EventSource("events");
  source.addEventListener("status", function (m) {
    var doc = JSON.parse(m.data);
    render(doc);
    updates++;
    document.body.setAttribute("data-updates", String(updates));
    conn.className = "";
    conn.textContent = "live · updated " + new Date(doc.nowMs).toLocaleTimeString();
  });
  source.addEventListener("status-error", function (m) {
    conn.className = "stale";
    conn.textContent = "not updated: " + JSON.parse(m.data).message;
  });
  source.onerror = function () {
    conn.className = "stale";
    conn.textContent = "not updated: the daemon does not answer (reconnecting)";
  };
}
follow();
</script>
</body>
</html>
`;
