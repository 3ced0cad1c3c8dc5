// Small time-series charts (uPlot) for the traffic cards. A chart is created once and fed new data every second.

import htm from 'htm';
import { h } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

const html = htm.bind(h);

const COLOURS = ['#0969da', '#9a6700', '#cf222e'];

/**
 * One chart: `data` is [times, ...series]; `series` names each line. The element carries the last value of the
 * first series in `data-last`, which is what a person reads off the chart and what the browser test checks.
 */
export function Chart({ title, data, series, unit }) {
  const box = useRef(null);
  const plot = useRef(null);
  useEffect(() => {
    plot.current = new uPlot(
      {
        width: 280,
        height: 90,
        legend: { show: false },
        cursor: { show: false },
        // The last minute, whatever the number of points; y from zero.
        scales: {
          x: { time: true, range: (_u, _min, max) => [max - 60, max] },
          y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
        },
        axes: [
          { size: 24, font: '10px system-ui', values: (_u, ticks) => ticks.map(clock) },
          { size: 50, font: '10px system-ui' },
        ],
        series: [{}, ...series.map((label, i) => ({ label, stroke: COLOURS[i], width: 1.5, spanGaps: false }))],
      },
      data,
      box.current,
    );
    return () => plot.current.destroy();
  }, []);
  useEffect(() => {
    plot.current?.setData(data);
  });
  const first = data[1];
  const last = first.length > 0 ? first[first.length - 1] : null;
  return html`<figure class="chart" data-last=${last ?? ''} data-points=${first.length}>
    <figcaption class="chart-title">${title}${unit ? ` (${unit})` : ''}</figcaption>
    <div ref=${box} role="img" aria-label=${`${title}: ${last ?? 'no data'}${unit ? ` ${unit}` : ''} now`}></div>
  </figure>`;
}

function clock(t) {
  const d = new Date(t * 1000);
  return `${String(d.getMinutes()).padStart(2, '0')}:${String(d.getSeconds()).padStart(2, '0')}`;
}
