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

  function optionOf(spec) {
    if (spec.kind === "map") { return mapOption(spec); }
    // A small multiple: one figure (its finished periods, and the period under way dashed).
    var many = spec.series.filter(function (s) { return !s.dashed; }).length > 1;
    return {
      animation: false,
      tooltip: { trigger: "axis", valueFormatter: formatValue(spec.percent) },
      legend: many ? { type: "scroll", top: 0 } : { show: false },
      grid: { left: 8, right: 16, top: many ? 36 : 16, bottom: 8, containLabel: true },
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
            label: { formatter: spec.targetLabel, position: "insideEndTop" },
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
    chart.setOption(optionOf(spec));
    charts.push(chart);
  });
  window.addEventListener("resize", function () {
    charts.forEach(function (chart) { chart.resize(); });
  });
})();
