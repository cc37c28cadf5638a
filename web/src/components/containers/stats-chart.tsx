import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { themedAxes } from "./chart-theme";
import { SERIES_COLOURS } from "./series-colours";

/** The samples so far: seconds since the epoch, then CPU % and memory % at each. */
export interface StatsSeries {
  times: number[];
  cpu: number[];
  memory: number[];
}

const HEIGHT = 220;

function options(width: number): uPlot.Options {
  return {
    width,
    height: HEIGHT,
    scales: { y: { range: (_chart, _min, max) => [0, Math.max(10, Math.ceil(max / 10) * 10)] } },
    axes: themedAxes(" %"),
    series: [
      {},
      {
        label: "CPU",
        stroke: SERIES_COLOURS.cpu,
        width: 2,
        value: (_chart, v) => (v == null ? "—" : `${v.toFixed(1)} %`),
      },
      {
        label: "Memory",
        stroke: SERIES_COLOURS.memory,
        width: 2,
        value: (_chart, v) => (v == null ? "—" : `${v.toFixed(1)} %`),
      },
    ],
  };
}

/** CPU and memory of one container over time, as a uPlot line chart that fills its box's width. */
export function StatsChart({ series }: { series: StatsSeries }) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot>();
  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const plot = new uPlot(options(element.clientWidth), [[], [], []], element);
    chart.current = plot;
    // The canvas has a fixed pixel size; follow the box when the window (or phone) turns.
    const resize = new ResizeObserver(() => plot.setSize({ width: element.clientWidth, height: HEIGHT }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, []);
  useEffect(() => {
    chart.current?.setData([series.times, series.cpu, series.memory]);
  }, [series]);
  return (
    <div
      class="chart"
      ref={box}
      role="img"
      aria-label="CPU and memory over time"
      data-sample-count={series.times.length}
    />
  );
}
