// onethread charts: small SVG charts for the operators' dashboard, no dependencies.
//
//   OnethreadCharts.bars(el, [{label, value}], {title, format, max})     horizontal bars
//   OnethreadCharts.columns(el, [{label, value}], {title, format})       vertical columns
//   OnethreadCharts.line(el, [{label, value}], {title, format, max})     a line over time
//
// Each call replaces el's content with one <svg role="img"> titled `title`; every mark carries
// data-label and data-value, and a <title> so a pointer shows the exact figure. A null value is
// "nothing to count": no bar, a gap in the line, and "–" as its text. Colours come from the
// page's CSS classes (.chart-mark, .chart-axis, .chart-text), never inline styles, so the charts
// work under a strict Content-Security-Policy.
(function () {
  "use strict";
  const NS = "http://www.w3.org/2000/svg";
  const WIDTH = 560;

  function node(name, attrs, ...kids) {
    const el = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs || {})) if (v != null) el.setAttribute(k, String(v));
    for (const kid of kids) if (kid != null) el.append(kid);
    return el;
  }
  const text = (x, y, content, attrs) => node("text", { x, y, class: "chart-text", ...attrs }, String(content));
  const tip = content => node("title", {}, content);
  const plain = v => (v == null ? "–" : String(v));

  function svg(el, height, title) {
    const chart = node("svg", {
      viewBox: `0 0 ${WIDTH} ${height}`, width: "100%", role: "img", "aria-label": title,
      class: "chart", preserveAspectRatio: "xMinYMin meet",
    }, tip(title));
    el.replaceChildren(chart);
    return chart;
  }

  function empty(el, title) {
    const chart = svg(el, 40, title);
    chart.append(text(0, 24, "Nothing to show for this period.", { class: "chart-text chart-empty" }));
    return chart;
  }

  const limit = (items, max) => Math.max(max ?? 0, ...items.map(i => i.value ?? 0)) || 1;

  function bars(el, items, opts = {}) {
    const { title = "", format = plain } = opts;
    if (!items.length) return empty(el, title);
    const row = 26, labelW = 170, valueW = 70, barW = WIDTH - labelW - valueW;
    const top = limit(items, opts.max);
    const chart = svg(el, items.length * row + 4, title);
    items.forEach((item, i) => {
      const y = i * row;
      const w = item.value == null ? 0 : Math.max(item.value > 0 ? 2 : 0, (item.value / top) * barW);
      const label = item.label.length > 24 ? item.label.slice(0, 23) + "…" : item.label;
      chart.append(node("g", { class: "chart-row", "data-label": item.label, "data-value": item.value ?? "" },
        tip(`${item.label}: ${format(item.value)}`),
        text(labelW - 8, y + 17, label, { "text-anchor": "end" }),
        node("rect", { x: labelW, y: y + 5, width: w.toFixed(1), height: row - 10, rx: 3, class: "chart-mark" }),
        text(labelW + w + 6, y + 17, format(item.value), { class: "chart-text chart-value" })));
    });
    return chart;
  }

  function columns(el, items, opts = {}) {
    const { title = "", format = plain } = opts;
    if (!items.length) return empty(el, title);
    const height = 200, base = 160, slot = WIDTH / items.length, top = limit(items, opts.max);
    const chart = svg(el, height, title);
    chart.append(node("line", { x1: 0, x2: WIDTH, y1: base, y2: base, class: "chart-axis" }));
    items.forEach((item, i) => {
      const h = item.value == null ? 0 : (item.value / top) * (base - 24);
      const x = i * slot + slot * 0.15, w = slot * 0.7;
      chart.append(node("g", { class: "chart-row", "data-label": item.label, "data-value": item.value ?? "" },
        tip(`${item.label}: ${format(item.value)}`),
        node("rect", { x: x.toFixed(1), y: (base - h).toFixed(1), width: w.toFixed(1), height: h.toFixed(1), rx: 3, class: "chart-mark" }),
        text(x + w / 2, base - h - 6, format(item.value), { "text-anchor": "middle", class: "chart-text chart-value" }),
        text(x + w / 2, base + 18, item.label, { "text-anchor": "middle" })));
    });
    return chart;
  }

  function line(el, points, opts = {}) {
    const { title = "", format = plain } = opts;
    if (!points.length) return empty(el, title);
    const height = 220, left = 56, right = 28, top = 14, base = 180;
    const max = limit(points, opts.max);
    const step = points.length > 1 ? (WIDTH - left - right) / (points.length - 1) : 0;
    const xOf = i => left + (points.length > 1 ? i * step : (WIDTH - left - right) / 2);
    const yOf = v => base - (v / max) * (base - top);
    const chart = svg(el, height, title);
    for (const f of [0, 0.5, 1]) {
      const y = yOf(max * f);
      chart.append(node("line", { x1: left, x2: WIDTH - right, y1: y, y2: y, class: "chart-axis" }),
        text(left - 6, y + 4, format(max * f), { "text-anchor": "end" }));
    }
    // Consecutive known values form one stroke; a null breaks the line.
    let run = [];
    const flush = () => {
      if (run.length > 1) chart.append(node("polyline", { points: run.join(" "), class: "chart-line", fill: "none" }));
      run = [];
    };
    const every = Math.ceil(points.length / 8);
    points.forEach((p, i) => {
      if (p.value == null) { flush(); } else { run.push(`${xOf(i).toFixed(1)},${yOf(p.value).toFixed(1)}`); }
      if (i % every === 0) chart.append(text(xOf(i), base + 20, p.label, { "text-anchor": "middle" }));
    });
    flush();
    points.forEach((p, i) => {
      if (p.value == null) return;
      chart.append(node("circle", { cx: xOf(i).toFixed(1), cy: yOf(p.value).toFixed(1), r: 4, class: "chart-mark chart-point", "data-label": p.label, "data-value": p.value },
        tip(`${p.label}: ${format(p.value)}`)));
    });
    return chart;
  }

  window.OnethreadCharts = Object.freeze({ bars, columns, line });
})();
