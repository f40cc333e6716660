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

  function optionOf(spec) {
    var many = spec.series.length > 1;
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
      series: spec.series.map(function (s) {
        var out = { name: s.name, type: spec.kind, data: s.data, connectNulls: false };
        if (s.stack) { out.stack = s.stack; }
        if (s.color) { out.itemStyle = { color: s.color }; }
        if (spec.kind === "line") { out.showSymbol = spec.x.length <= 31; }
        return out;
      })
    };
  }

  var charts = [];
  document.querySelectorAll("[data-chart]").forEach(function (el) {
    var spec = data.charts && data.charts[el.getAttribute("data-chart")];
    if (!spec) { return; }
    var chart = window.echarts.init(el, null, {
      renderer: "canvas", locale: data.locale === "en" ? "EN" : "ZH"
    });
    chart.on("finished", function () { el.setAttribute("data-chart-ready", "1"); });
    chart.setOption(optionOf(spec));
    charts.push(chart);
  });
  window.addEventListener("resize", function () {
    charts.forEach(function (chart) { chart.resize(); });
  });
})();
