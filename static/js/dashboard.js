// Draws the dashboards' charts with ECharts (static/vendor, never a CDN). The CSP forbids
// inline scripts, so the page puts the data in <script type="application/json"
// id="dashboard-data">: {locale, labels: {na}, charts: {key: {kind, percent, x, series,
// yName}}}; every element with data-chart="key" gets that chart. A rate is a percentage,
// a missing value is null and drawn as a gap (never as 0%).
(function () {
  "use strict";
  var holder = document.getElementById("dashboard-data");
  if (!holder || !window.echarts) { return; }
  var data = JSON.parse(holder.textContent);
  var na = (data.labels && data.labels.na) || "n/a";

  function formatValue(percent) {
    return function (value) {
      if (value === null || value === undefined || value === "-") { return na; }
      return percent ? value + "%" : String(value);
    };
  }

  // The stations map: longitude and latitude on plain value axes (no tile service), each
  // station in the colour of its accuracy against the target; a click opens its community.
  function pad(side) {
    return function (v) {
      var margin = Math.max((v.max - v.min) * 0.08, 0.0005);
      return side < 0 ? v.min - margin : v.max + margin;
    };
  }

  function mapOption(spec) {
    return {
      animation: false,
      tooltip: {
        trigger: "item",
        formatter: function (p) {
          var acc = p.data.value[2];
          return p.data.name + "<br>" + p.data.community + "<br>" + spec.labels.accuracy +
            " " + (acc === null || acc === undefined ? na : acc + "%");
        }
      },
      grid: { left: 8, right: 8, top: 8, bottom: 8, containLabel: false },
      // A margin round the stations, so none sits on the edge.
      xAxis: { type: "value", show: false, min: pad(-1), max: pad(1) },
      yAxis: { type: "value", show: false, min: pad(-1), max: pad(1) },
      series: [{
        type: "scatter", symbolSize: 12,
        data: spec.points.map(function (pt) {
          return { name: pt.name, community: pt.community, url: pt.url, value: pt.value,
                   itemStyle: { color: pt.color, borderColor: "#fff", borderWidth: 1 } };
        })
      }]
    };
  }

  // How many rows the legend wraps to under a chart `width` px wide (ECharts does not make
  // room for a wrapping legend itself): a CJK character is about 12 px, others 7 px, and an
  // item adds its 25 px symbol and a 10 px gap.
  function legendRows(names, width) {
    var rows = 1, used = 0;
    names.forEach(function (name) {
      var w = 35;
      for (var i = 0; i < name.length; i++) { w += name.charCodeAt(i) > 0x2e80 ? 12 : 7; }
      if (used && used + w > width - 16) { rows += 1; used = 0; }
      used += w;
    });
    return rows;
  }

  function optionOf(spec, width) {
    if (spec.kind === "map") { return mapOption(spec); }
    // A small multiple: one figure (its finished periods, and the period under way dashed).
    var names = spec.series.filter(function (s) { return !s.dashed; })
      .map(function (s) { return String(s.name); });
    var many = names.length > 1;
    var hasTarget = spec.target !== undefined && spec.target !== null;
    // The legend goes under the chart, wrapped whole (a scrolling legend on top covered the
    // axis name and cut "设施损坏" to "设施损" on a phone); the top keeps room for the axis
    // name and for the target's label over a 100 % line.
    var legendHeight = many ? legendRows(names, width) * 22 : 0;
    return {
      animation: false,
      tooltip: { trigger: "axis", valueFormatter: formatValue(spec.percent) },
      legend: many ? { type: "plain", bottom: 0, left: "center" } : { show: false },
      grid: { left: 8, right: 16, top: (spec.yName ? 28 : 16) + (hasTarget ? 14 : 0),
              bottom: 8 + legendHeight, containLabel: true },
      // Few categories (waste kinds, weekdays, stations): name every one of them.
      xAxis: {
        type: "category", data: spec.x,
        axisLabel: { hideOverlap: true, interval: spec.x.length <= 12 ? 0 : "auto" }
      },
      yAxis: {
        type: "value", name: spec.yName || "", min: 0, max: spec.percent ? 100 : null,
        minInterval: spec.percent ? null : 1,
        axisLabel: { formatter: spec.percent ? "{value}%" : "{value}" }
      },
      series: spec.series.map(function (s, k) {
        var out = { name: s.name, type: spec.kind, data: s.data, connectNulls: false };
        if (s.stack) { out.stack = s.stack; }
        if (s.color) { out.itemStyle = { color: s.color }; }
        if (spec.kind === "line") { out.showSymbol = spec.x.length <= 31; }
        if (s.dashed) {
          // The period still under way: same colour as the finished ones, dashed, hollow.
          out.lineStyle = { type: "dashed" };
          out.itemStyle = { color: COLOUR, borderType: "dashed" };
          out.symbol = "emptyCircle";
          out.showSymbol = true;
        } else if (spec.target !== undefined) {
          out.itemStyle = { color: COLOUR };
        }
        if (k === 0 && spec.target !== undefined && spec.target !== null) {
          out.markLine = {
            silent: true, symbol: "none",
            lineStyle: { type: "dotted", color: "#6b7280" },
            // At the line's start: at its end it sat on the newest points.
            label: { formatter: spec.targetLabel, position: "insideStartTop" },
            data: [{ yAxis: spec.target }]
          };
        }
        return out;
      })
    };
  }

  var COLOUR = "#1f8a4c";
  var charts = [];
  document.querySelectorAll("[data-chart]").forEach(function (el) {
    var spec = data.charts && data.charts[el.getAttribute("data-chart")];
    if (!spec) { return; }
    var chart = window.echarts.init(el, null, {
      renderer: "canvas", locale: data.locale === "en" ? "EN" : "ZH"
    });
    chart.on("finished", function () { el.setAttribute("data-chart-ready", "1"); });
    if (spec.kind === "map") {
      chart.on("click", function (p) { if (p.data && p.data.url) { window.location = p.data.url; } });
    }
    chart.setOption(optionOf(spec, el.clientWidth));
    charts.push({ chart: chart, spec: spec, el: el });
  });
  window.addEventListener("resize", function () {
    charts.forEach(function (c) {
      c.chart.resize();
      // The legend may wrap to another number of rows at the new width.
      if (c.spec.kind !== "map") { c.chart.setOption(optionOf(c.spec, c.el.clientWidth)); }
    });
  });
})();
