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

  // The legend's layout, set on every legend so the measure below is ECharts' own: items of
  // a 25 px symbol, 5 px, then the name in 12 px sans-serif, 10 px apart, wrapped inside the
  // chart's width less 5 px padding each side; a row is an item's 14 px and the 10 px gap
  // (the padding stands for the last row's gap).
  var LEGEND = { itemWidth: 25, itemHeight: 14, itemGap: 10, padding: 5,
                 textStyle: { fontSize: 12, fontFamily: "sans-serif" } };
  var LEGEND_ROW = LEGEND.itemHeight + LEGEND.itemGap;
  var measure = document.createElement("canvas").getContext("2d");

  // How many rows the legend wraps to under a chart `width` px wide (ECharts does not make
  // room for a wrapping legend itself), placing the items as ECharts does.
  function legendRows(names, width) {
    var room = width - 2 * LEGEND.padding, rows = 1, x = 0;
    measure.font = LEGEND.textStyle.fontSize + "px " + LEGEND.textStyle.fontFamily;
    names.forEach(function (name) {
      var w = LEGEND.itemWidth + 5 + Math.ceil(measure.measureText(name).width);
      if (x > 0 && x + w > room) { rows += 1; x = 0; }
      x += w + LEGEND.itemGap;
    });
    return rows;
  }

  function legendNames(spec) {
    if (spec.kind === "map") { return []; }
    return spec.series.filter(function (s) { return !s.dashed; })
      .map(function (s) { return String(s.name); });
  }

  // A chart with a legend grows by the legend's rows (its CSS height is the plot's), so on a
  // phone a legend of many names never squeezes the bars: the legend reads whole, the plot
  // keeps its height.
  function fitHeight(el, spec) {
    var names = legendNames(spec);
    el.style.height = "";
    if (names.length < 2) { return; }
    el.style.height = (el.clientHeight + legendRows(names, el.clientWidth) * LEGEND_ROW) + "px";
  }

  function optionOf(spec, width) {
    if (spec.kind === "map") { return mapOption(spec); }
    // A small multiple: one figure (its finished periods, and the period under way dashed).
    var names = legendNames(spec);
    var many = names.length > 1;
    var hasTarget = spec.target !== undefined && spec.target !== null;
    // The legend goes under the chart, wrapped whole (a scrolling legend on top covered the
    // axis name and cut "设施损坏" to "设施损" on a phone); the top keeps room for the axis
    // name and for the target's label over a 100 % line.
    var legendHeight = many ? legendRows(names, width) * LEGEND_ROW : 0;
    return {
      animation: false,
      tooltip: { trigger: "axis", valueFormatter: formatValue(spec.percent) },
      legend: many ? Object.assign({ type: "plain", bottom: 0, left: "center" }, LEGEND)
        : { show: false },
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
    fitHeight(el, spec);
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
      // The legend may wrap to another number of rows at the new width.
      fitHeight(c.el, c.spec);
      c.chart.resize();
      if (c.spec.kind !== "map") { c.chart.setOption(optionOf(c.spec, c.el.clientWidth)); }
    });
  });
})();
