// The pgmetrics dashboard: reads <mount>/data and draws it as inline SVG. No dependencies;
// every value from the server goes into the page as text (textContent, attributes), never as HTML.
(function () {
  "use strict";

  const SVG = "http://www.w3.org/2000/svg";
  const COLORS = ["#2563eb", "#e8590c", "#12b886", "#ae3ec9", "#f59f00", "#0ca678", "#e64980"];
  const mount = document.body.dataset.mount || "";
  const page = location.pathname.slice(mount.length).replace(/\/$/, "");
  const view = page === "/operations" || page === "/operation" ? "operations" : "routes";
  const keyPage = page === "/route" || page === "/operation";
  const noun = view === "routes" ? "requests" : "executions";
  const params = new URLSearchParams(location.search);
  const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  const state = {
    range: params.get("range") || (params.get("start") ? "custom" : "24h"),
    start: params.get("start") || "",
    end: params.get("end") || "",
    tz: params.get("tz") || browserZone,
    sort: params.get("sort") || "total",
    dir: params.get("dir") || "desc",
    quantile: "p95_ms",
  };
  let data = null;

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, String(value));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // Numbers as a person reads them.
  const intFormat = new Intl.NumberFormat("en-US");
  function fmtInt(v) { return v === null || v === undefined ? "–" : intFormat.format(v); }
  function fmtRate(v) { return v === null || v === undefined ? "–" : (v * 100).toFixed(2) + " %"; }
  function fmtMs(v) {
    if (v === null || v === undefined) return "–";
    if (v >= 1000) return (v / 1000).toFixed(v >= 10000 ? 1 : 2) + " s";
    if (v >= 100) return v.toFixed(0) + " ms";
    if (v >= 10) return v.toFixed(1) + " ms";
    return v.toFixed(2) + " ms";
  }
  function fmtAxis(v, kind) {
    if (kind === "rate") return (v * 100).toFixed(v < 0.1 && v > 0 ? 1 : 0) + "%";
    if (kind === "ms") return Number.isInteger(v) && v < 1000 ? v + " ms" : fmtMs(v);
    if (v >= 1e6) return (v / 1e6).toFixed(1).replace(".0", "") + "M";
    if (v >= 1e3) return (v / 1e3).toFixed(1).replace(".0", "") + "k";
    return String(Math.round(v * 100) / 100);
  }
  function timeFormat(bucket, spanMs) {
    const base = { timeZone: state.tz };
    if (bucket === "hour") {
      return spanMs > 86400000 * 1.5
        ? new Intl.DateTimeFormat("en-GB", { ...base, day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" })
        : new Intl.DateTimeFormat("en-GB", { ...base, hour: "2-digit", minute: "2-digit" });
    }
    if (bucket === "month") return new Intl.DateTimeFormat("en-GB", { ...base, month: "short", year: "numeric" });
    return new Intl.DateTimeFormat("en-GB", { ...base, day: "numeric", month: "short" });
  }
  function fullTime(iso) {
    return new Intl.DateTimeFormat("en-GB", {
      timeZone: state.tz, year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
    }).format(new Date(iso));
  }
  // A wall time in the dashboard's zone, as <input type="datetime-local"> shows it.
  function localInput(iso) {
    const text = new Intl.DateTimeFormat("sv-SE", {
      timeZone: state.tz, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false,
    }).format(new Date(iso));
    return text.replace(" ", "T").slice(0, 16);
  }

  function niceStep(max, count) {
    const raw = max / count;
    const power = Math.pow(10, Math.floor(Math.log10(raw)));
    const f = raw / power;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * power;
  }

  // A line chart over time: series [{name, color, values}] aligned with times (ms).
  function lineChart(figure, times, series, kind, bucket) {
    const width = Math.max(figure.clientWidth - 32, 320);
    const height = 240;
    const m = { l: 56, r: 14, t: 10, b: 26 };
    const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "data-series": series.length });
    figure.appendChild(root);
    const legend = el("div", { class: "legend" });
    figure.appendChild(legend);
    let max = 0;
    for (const s of series) for (const v of s.values) if (v !== null && v > max) max = v;
    if (!times.length || !series.length) {
      root.appendChild(svg("text", { x: width / 2, y: height / 2, "text-anchor": "middle", class: "empty" }, "No data in this range"));
      return;
    }
    if (max === 0) max = kind === "rate" ? 0.01 : 1;
    const step = niceStep(max, 4);
    const top = Math.ceil(max / step) * step;
    const t0 = times[0];
    const t1 = times[times.length - 1];
    const x = (t) => (t1 === t0 ? m.l + (width - m.l - m.r) / 2 : m.l + ((t - t0) / (t1 - t0)) * (width - m.l - m.r));
    const y = (v) => height - m.b - (v / top) * (height - m.t - m.b);
    const grid = svg("g", { class: "grid" });
    const axis = svg("g", { class: "axis" });
    for (let v = 0; v <= top + step / 2; v += step) {
      grid.appendChild(svg("line", { x1: m.l, x2: width - m.r, y1: y(v), y2: y(v), class: v === 0 ? "zero" : "" }));
      axis.appendChild(svg("text", { x: m.l - 8, y: y(v) + 4, "text-anchor": "end" }, fmtAxis(v, kind)));
    }
    const format = timeFormat(bucket, t1 - t0);
    const ticks = Math.min(times.length, Math.max(2, Math.floor((width - m.l - m.r) / 90)));
    const used = new Set();
    for (let i = 0; i < ticks; i++) {
      const index = ticks === 1 ? 0 : Math.round((i * (times.length - 1)) / (ticks - 1));
      if (used.has(index)) continue;
      used.add(index);
      const anchor = index === 0 && times.length > 1 ? "start" : index === times.length - 1 && times.length > 1 ? "end" : "middle";
      axis.appendChild(svg("text", { x: x(times[index]), y: height - 6, "text-anchor": anchor }, format.format(new Date(times[index]))));
    }
    root.appendChild(grid);
    root.appendChild(axis);
    series.forEach((s, n) => {
      const color = s.color || COLORS[n % COLORS.length];
      let d = "";
      let pen = false;
      s.values.forEach((v, i) => {
        if (v === null) { pen = false; return; }
        d += (pen ? "L" : "M") + x(times[i]).toFixed(1) + " " + y(v).toFixed(1);
        pen = true;
      });
      const path = svg("path", { d: d, stroke: color, class: "series", "data-series": s.name });
      // A dashed line stays visible where it runs on top of another (p99 on p95 with few events).
      if (s.dashed) path.setAttribute("stroke-dasharray", "6 4");
      root.appendChild(path);
      // Points of their own where a line has too few to be seen.
      s.values.forEach((v, i) => {
        if (v === null) return;
        const alone = (i === 0 || s.values[i - 1] === null) && (i === s.values.length - 1 || s.values[i + 1] === null);
        if (alone) root.appendChild(svg("circle", { cx: x(times[i]), cy: y(v), r: 3, fill: color }));
      });
      const item = el("span", { title: s.name });
      const swatch = el("i");
      swatch.style.background = color;
      item.appendChild(swatch);
      item.appendChild(document.createTextNode(s.name));
      legend.appendChild(item);
    });
    // The values under the pointer.
    const cursor = svg("line", { class: "cursor", y1: m.t, y2: height - m.b, visibility: "hidden" });
    root.appendChild(cursor);
    const tip = el("div", { class: "tip", hidden: "" });
    figure.appendChild(tip);
    root.addEventListener("mousemove", (event) => {
      const box = root.getBoundingClientRect();
      const px = ((event.clientX - box.left) / box.width) * width;
      let best = 0;
      for (let i = 1; i < times.length; i++) if (Math.abs(x(times[i]) - px) < Math.abs(x(times[best]) - px)) best = i;
      cursor.setAttribute("x1", x(times[best]));
      cursor.setAttribute("x2", x(times[best]));
      cursor.setAttribute("visibility", "visible");
      tip.replaceChildren(el("b", {}, fullTime(times[best])));
      series.forEach((s, n) => {
        const line = el("div");
        const swatch = el("i");
        swatch.style.background = s.color || COLORS[n % COLORS.length];
        line.appendChild(swatch);
        const v = s.values[best];
        line.appendChild(document.createTextNode(s.name + ": " + (kind === "rate" ? fmtRate(v) : kind === "ms" ? fmtMs(v) : fmtInt(v))));
        tip.appendChild(line);
      });
      tip.hidden = false;
      const left = (x(times[best]) / width) * box.width + 24;
      tip.style.left = Math.min(left, box.width - tip.offsetWidth + 16) + "px";
      tip.style.top = "44px";
    });
    root.addEventListener("mouseleave", () => { cursor.setAttribute("visibility", "hidden"); tip.hidden = true; });
  }

  // The duration distribution: the 1 % buckets regrouped into about 40 bins on a log scale.
  function histogramChart(figure, buckets) {
    const width = Math.max(figure.clientWidth - 32, 320);
    const height = 240;
    const m = { l: 56, r: 14, t: 10, b: 26 };
    const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "data-series": 1 });
    figure.appendChild(root);
    const positive = buckets.filter((b) => b[1] > 0);
    const zeros = buckets.filter((b) => b[1] === 0).reduce((a, b) => a + b[2], 0);
    if (!positive.length && !zeros) {
      root.appendChild(svg("text", { x: width / 2, y: height / 2, "text-anchor": "middle", class: "empty" }, "No data in this range"));
      return;
    }
    const bins = [];
    if (zeros) bins.push({ lo: 0, hi: 0, count: zeros });
    if (positive.length) {
      const a = Math.log(positive[0][0]);
      const b = Math.log(positive[positive.length - 1][1]);
      const n = Math.max(1, Math.min(40, positive.length));
      const stepLog = (b - a) / n || 1;
      const start = bins.length;
      for (let i = 0; i < n; i++) bins.push({ lo: Math.exp(a + i * stepLog), hi: Math.exp(a + (i + 1) * stepLog), count: 0 });
      for (const [lower, upper, count] of positive) {
        const mid = (Math.log(lower) + Math.log(upper)) / 2;
        const i = Math.min(n - 1, Math.max(0, Math.floor((mid - a) / stepLog)));
        bins[start + i].count += count;
      }
    }
    let max = 0;
    for (const bin of bins) max = Math.max(max, bin.count);
    const step = niceStep(max, 4);
    const top = Math.ceil(max / step) * step;
    const y = (v) => height - m.b - (v / top) * (height - m.t - m.b);
    const slot = (width - m.l - m.r) / bins.length;
    const grid = svg("g", { class: "grid" });
    const axis = svg("g", { class: "axis" });
    for (let v = 0; v <= top + step / 2; v += step) {
      grid.appendChild(svg("line", { x1: m.l, x2: width - m.r, y1: y(v), y2: y(v), class: v === 0 ? "zero" : "" }));
      axis.appendChild(svg("text", { x: m.l - 8, y: y(v) + 4, "text-anchor": "end" }, fmtAxis(v, "count")));
    }
    root.appendChild(grid);
    root.appendChild(axis);
    const group = svg("g", { class: "series", "data-series": "count" });
    root.appendChild(group);
    const labels = Math.max(2, Math.floor((width - m.l - m.r) / 80));
    const every = Math.max(1, Math.ceil(bins.length / labels));
    bins.forEach((bin, i) => {
      const h = height - m.b - y(bin.count);
      const rect = svg("rect", { class: "bar-rect", x: m.l + i * slot + 1, y: y(bin.count), width: Math.max(slot - 2, 1), height: Math.max(h, 0) });
      rect.appendChild(svg("title", {}, (bin.hi === 0 ? "0 ms" : fmtMs(bin.lo) + " – " + fmtMs(bin.hi)) + ": " + fmtInt(bin.count)));
      group.appendChild(rect);
      if (i % every === 0) {
        axis.appendChild(svg("text", { x: m.l + i * slot + slot / 2, y: height - 6, "text-anchor": "middle" }, bin.hi === 0 ? "0" : fmtMs(bin.lo)));
      }
    });
    const legend = el("div", { class: "legend" });
    const item = el("span");
    const swatch = el("i");
    swatch.style.background = "#60a5fa";
    item.appendChild(swatch);
    item.appendChild(document.createTextNode(noun + " by duration (log scale)"));
    legend.appendChild(item);
    figure.appendChild(legend);
  }

  function keyLabel(row) { return row.method ? row.method + " " + row.name : row.name; }
  function keyHref(row) {
    const q = new URLSearchParams(rangeParams());
    if (view === "routes") { q.set("route", row.name); q.set("method", row.method); } else q.set("operation", row.name);
    return mount + (view === "routes" ? "/route" : "/operation") + "?" + q.toString();
  }

  function rangeParams() {
    const q = { tz: state.tz, range: state.range };
    if (state.range === "custom") { q.start = state.start; q.end = state.end; }
    return q;
  }
  function pageParams() {
    const q = new URLSearchParams(rangeParams());
    if (keyPage) for (const name of ["route", "method", "operation"]) if (params.get(name) !== null) q.set(name, params.get(name));
    return q;
  }

  function change(current, previous, kind, upIsBad) {
    const span = el("span", { class: "change flat" });
    if (current === null || previous === null || current === undefined || previous === undefined) { span.textContent = "–"; return span; }
    let text;
    let delta;
    if (kind === "rate") { delta = (current - previous) * 100; text = (delta >= 0 ? "+" : "") + delta.toFixed(2) + " pt"; }
    else if (previous === 0) { delta = current; text = current === 0 ? "0 %" : "new"; }
    else { delta = ((current - previous) / previous) * 100; text = (delta >= 0 ? "+" : "") + delta.toFixed(1) + " %"; }
    if (Math.abs(delta) > 0.05 && upIsBad !== null) span.className = "change " + (delta > 0 ? (upIsBad ? "up-bad" : "up-good") : (upIsBad ? "down-good" : "down-bad"));
    span.textContent = text;
    return span;
  }

  function renderCards() {
    const cards = document.getElementById("cards");
    cards.replaceChildren();
    const cur = data.totals.current;
    const prev = data.totals.previous;
    const defs = [
      ["total", noun.charAt(0).toUpperCase() + noun.slice(1), fmtInt, "count", null],
      ["error_rate", "Error rate", fmtRate, "rate", true],
      ["p50_ms", "p50", fmtMs, "ms", true],
      ["p95_ms", "p95", fmtMs, "ms", true],
      ["p99_ms", "p99", fmtMs, "ms", true],
    ];
    for (const [field, label, format, kind, upIsBad] of defs) {
      const card = el("div", { class: "card", "data-metric": field });
      card.appendChild(el("div", { class: "label" }, label));
      card.appendChild(el("div", { class: "value", "data-value": cur[field] === null ? "" : String(cur[field]) }, format(cur[field])));
      const before = el("div", { class: "before" });
      before.appendChild(change(cur[field], prev[field], kind, upIsBad));
      before.appendChild(document.createTextNode(" vs " + format(prev[field]) + " before"));
      if (field === "error_rate") before.appendChild(document.createTextNode(" · " + fmtInt(cur.failed) + " failed"));
      card.appendChild(before);
      cards.appendChild(card);
    }
  }

  function figure(id, title) {
    const node = el("figure", { class: "chart", "data-chart": id });
    const heading = el("h2", {}, title);
    node.appendChild(heading);
    document.getElementById("charts").appendChild(node);
    return node;
  }

  function renderCharts() {
    const charts = document.getElementById("charts");
    charts.replaceChildren();
    const bucket = data.range.bucket;
    // Every bucket of the range; one without rows counted nothing.
    const times = data.buckets.map((b) => Date.parse(b));
    for (const r of data.series) { const t = Date.parse(r.bucket_start); if (!times.includes(t)) times.push(t); }
    times.sort((a, b) => a - b);
    const index = new Map(times.map((t, i) => [t, i]));
    const all = times.map((t) => ({ total: 0, failed: 0, t: t }));
    for (const r of data.series) if (r.name === null) { const a = all[index.get(Date.parse(r.bucket_start))]; a.total = r.total; a.failed = r.failed; }
    const per = { hour: "hour", day: "day", week: "week", month: "month" }[bucket];
    lineChart(figure("rate", noun.charAt(0).toUpperCase() + noun.slice(1) + " per " + per), times, [
      { name: noun, values: all.map((r) => r.total), color: "#2563eb" },
      { name: "errors", values: all.map((r) => r.failed), color: "#c0362c" },
    ], "count", bucket);
    lineChart(figure("errors", "Error rate"), times, [
      { name: "error rate", values: all.map((r) => (r.total ? r.failed / r.total : null)), color: "#c0362c" },
    ], "rate", bucket);
    if (keyPage) {
      const own = data.series.filter((r) => r.name !== null);
      const values = (field) => { const v = times.map(() => null); for (const r of own) v[index.get(Date.parse(r.bucket_start))] = r[field]; return v; };
      lineChart(figure("latency", "Duration: p50, p95, p99"), times, [
        { name: "p50", values: values("p50_ms"), color: "#12b886" },
        { name: "p95", values: values("p95_ms"), color: "#f59f00" },
        { name: "p99", values: values("p99_ms"), color: "#e8590c", dashed: true },
      ], "ms", bucket);
    } else {
      const node = figure("latency", "");
      const heading = node.querySelector("h2");
      heading.textContent = "Duration of the busiest " + view;
      const toggle = el("span", { class: "toggle" });
      for (const [field, label] of [["p50_ms", "p50"], ["p95_ms", "p95"], ["p99_ms", "p99"]]) {
        const button = el("button", { type: "button", "data-quantile": field, class: field === state.quantile ? "active" : "" }, label);
        button.addEventListener("click", () => { state.quantile = field; renderCharts(); });
        toggle.appendChild(button);
      }
      heading.appendChild(toggle);
      const series = data.top.map((key) => {
        const v = times.map(() => null);
        for (const r of data.series) if (r.name === key.name && r.method === key.method) v[index.get(Date.parse(r.bucket_start))] = r[state.quantile];
        return { name: keyLabel(key), values: v };
      });
      lineChart(node, times, series, "ms", bucket);
    }
    histogramChart(figure("histogram", "Duration distribution"), data.histogram);
  }

  const COLUMNS = [
    ["name", view === "routes" ? "Route" : "Operation", null, false],
    ["method", "Method", null, false],
    ["total", noun.charAt(0).toUpperCase() + noun.slice(1), fmtInt, true],
    ["failed", "Errors", fmtInt, true],
    ["error_rate", "Error rate", fmtRate, true],
    ["average_ms", "Average", fmtMs, true],
    ["p50_ms", "p50", fmtMs, true],
    ["p95_ms", "p95", fmtMs, true],
    ["p99_ms", "p99", fmtMs, true],
    ["max_ms", "Max", fmtMs, true],
  ].filter((c) => view === "routes" || c[0] !== "method");

  function renderTable() {
    const table = document.getElementById("keys");
    const head = el("tr");
    for (const [field, label, , sortable] of COLUMNS) {
      const th = el("th", { "data-sort": field, class: (sortable ? "sortable" : "") + (field === "name" || field === "method" ? " left" : "") }, label);
      if (field === state.sort) th.classList.add("sorted", state.dir);
      if (sortable) {
        th.addEventListener("click", () => {
          state.dir = state.sort === field && state.dir === "desc" ? "asc" : "desc";
          state.sort = field;
          renderTable();
        });
      }
      head.appendChild(th);
    }
    table.tHead.replaceChildren(head);
    const sign = state.dir === "asc" ? 1 : -1;
    const rows = data.keys.slice().sort((a, b) => {
      const x = a[state.sort] === null ? -Infinity : a[state.sort];
      const y = b[state.sort] === null ? -Infinity : b[state.sort];
      if (x !== y) return x < y ? -sign : sign;
      return keyLabel(a) < keyLabel(b) ? -1 : 1;
    });
    const body = table.tBodies[0];
    body.replaceChildren();
    if (!rows.length) {
      const td = el("td", { colspan: COLUMNS.length, class: "left" }, "Nothing recorded in this range.");
      const tr = el("tr");
      tr.appendChild(td);
      body.appendChild(tr);
    }
    for (const row of rows) {
      const tr = el("tr", { "data-key": keyLabel(row) });
      for (const [field, , format] of COLUMNS) {
        const td = el("td", { "data-field": field, "data-value": row[field] === null ? "" : String(row[field]) });
        if (field === "name") {
          td.classList.add("left");
          td.appendChild(el("a", { href: keyHref(row), title: row.name }, row.name));
        } else if (field === "method") {
          td.classList.add("left");
          td.appendChild(el("span", { class: "method" }, row.method));
        } else {
          td.textContent = format(row[field]);
          if (field === "error_rate" && row.error_rate > 0.05) td.classList.add("rate-bad");
        }
        tr.appendChild(td);
      }
      body.appendChild(tr);
    }
  }

  function renderHeading() {
    const crumbs = document.getElementById("crumbs");
    crumbs.replaceChildren();
    const title = document.getElementById("title");
    if (keyPage) {
      const back = el("a", { href: mount + (view === "routes" ? "" : "/operations") + "?" + new URLSearchParams(rangeParams()).toString() },
        view === "routes" ? "Routes" : "Operations");
      crumbs.appendChild(back);
      crumbs.appendChild(document.createTextNode(" /"));
      const key = data.key;
      title.textContent = view === "routes" ? (key.method ? key.method + " " : "") + (key.route || "") : key.operation || "";
      document.getElementById("table-title").textContent = "Over the range";
    } else {
      title.textContent = view === "routes" ? "Routes" : "Operations";
      document.getElementById("table-title").textContent = (view === "routes" ? "Routes" : "Operations") + " (" + data.keys.length + ")";
    }
    document.title = title.textContent + " · pgmetrics";
    const r = data.range;
    const subtitle = document.getElementById("subtitle");
    subtitle.dataset.start = r.start;
    subtitle.dataset.end = r.end;
    subtitle.textContent =
      fullTime(r.start) + " – " + fullTime(r.end) + " (" + state.tz + "), by " + r.bucket +
      "; compared with " + fullTime(r.previous_start) + " – " + fullTime(r.start);
  }

  function renderControls() {
    for (const button of document.querySelectorAll(".ranges button")) {
      button.classList.toggle("active", button.dataset.range === state.range);
    }
    document.getElementById("custom").hidden = state.range !== "custom";
    document.getElementById("nav-routes").classList.toggle("active", view === "routes");
    document.getElementById("nav-operations").classList.toggle("active", view === "operations");
    document.getElementById("nav-routes").href = mount + "?" + new URLSearchParams(rangeParams()).toString();
    document.getElementById("nav-operations").href = mount + "/operations?" + new URLSearchParams(rangeParams()).toString();
  }

  function showError(text) {
    const node = document.getElementById("error");
    node.textContent = text;
    node.hidden = !text;
  }

  async function load() {
    renderControls();
    const q = pageParams();
    history.replaceState(null, "", location.pathname + "?" + q.toString());
    q.set("view", view);
    document.body.setAttribute("data-state", "loading");
    let response;
    try {
      response = await fetch(mount + "/data?" + q.toString(), { credentials: "same-origin", headers: { Accept: "application/json" } });
    } catch (error) {
      showError("The server could not be reached.");
      document.body.setAttribute("data-state", "error");
      return;
    }
    if (response.status === 401) { location.assign(mount); return; }
    const body = await response.json();
    if (!response.ok) {
      showError(body.error || "The server answered " + response.status + ".");
      document.body.setAttribute("data-state", "error");
      return;
    }
    showError("");
    data = body;
    if (state.range !== "custom") { state.start = localInput(data.range.start); state.end = localInput(data.range.end); }
    document.getElementById("start").value = state.start;
    document.getElementById("end").value = state.end;
    renderHeading();
    renderCards();
    renderCharts();
    renderTable();
    document.body.setAttribute("data-state", "ready");
  }

  function setupControls() {
    const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
    const select = document.getElementById("tz");
    for (const zone of ["UTC", ...new Set([browserZone, state.tz, ...zones])]) {
      if (zone === "UTC" && select.options.length) continue;
      select.appendChild(el("option", { value: zone }, zone));
    }
    select.value = state.tz;
    select.addEventListener("change", () => { state.tz = select.value; load(); });
    for (const button of document.querySelectorAll(".ranges button")) {
      button.addEventListener("click", () => {
        state.range = button.dataset.range;
        if (state.range === "custom") { renderControls(); return; }
        load();
      });
    }
    document.getElementById("apply").addEventListener("click", () => {
      state.start = document.getElementById("start").value;
      state.end = document.getElementById("end").value;
      if (!state.start || !state.end) { showError("Choose a start and an end."); return; }
      state.range = "custom";
      load();
    });
    let resize = null;
    window.addEventListener("resize", () => { clearTimeout(resize); resize = setTimeout(() => { if (data) renderCharts(); }, 150); });
  }

  setupControls();
  load();
})();
