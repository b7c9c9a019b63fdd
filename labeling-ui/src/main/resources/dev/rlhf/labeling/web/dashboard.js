// The training dashboard: one small uPlot chart per metric group, fed live by the server-sent events of
// /api/admin/dashboard (metrics.jsonl of the running experiment and its reward-model versions).
import uPlot from '/vendor/uplot/uPlot.esm.js';
import { el, fmt } from './common.js';

const GROUPS = [
  { id: 'reward', title: 'Reward', series: [['reward/rm_mean', 'reward model'], ['reward/gold_mean', 'gold']] },
  { id: 'kl', title: 'KL to reference and coefficient', series: [['kl/to_reference', 'KL'], ['kl/coefficient', 'coefficient']] },
  { id: 'entropy', title: 'Policy entropy', series: [['ppo/entropy', 'entropy']] },
  { id: 'losses', title: 'PPO losses', series: [['ppo/policy_loss', 'policy'], ['ppo/value_loss', 'value']] },
  { id: 'throughput', title: 'Tokens per second', series: [['perf/tokens_per_s', 'tokens/s']] },
  { id: 'iteration', title: 'Iteration time (s)', series: [['time/iteration_s', 'seconds']] },
];
const RM_GROUP = { id: 'rm', title: 'Reward-model accuracy per version', x: 'version',
  series: [['held_out_accuracy', 'held out'], ['accuracy_against_gold', 'against gold']] };

/** A figure for the caption: fewer decimals as numbers grow. */
function short(v) {
  if (typeof v !== 'number' || Number.isNaN(v)) return '–';
  const a = Math.abs(v);
  return fmt(v, a >= 1000 ? 0 : a >= 10 ? 1 : 3);
}

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

/** One chart: a figure with a caption, the latest values as text, and the uPlot canvas. */
class Chart {
  constructor(container, group) {
    this.group = group;
    this.figure = el('figure', null, { class: 'chart', id: `chart-${group.id}` });
    const caption = el('figcaption', group.title);
    this.latest = el('p', 'no data yet', { class: 'latest' });
    caption.append(this.latest);
    this.plotBox = el('div', null, { class: 'plot', role: 'img', 'aria-label': `${group.title} chart` });
    this.figure.append(caption, this.plotBox);
    container.append(this.figure);
    this.data = [[], ...group.series.map(() => [])];
    this.plot = null;
  }

  options(width) {
    const colors = [cssVar('--chart-1'), cssVar('--chart-2')];
    const axis = { stroke: cssVar('--muted'), grid: { stroke: cssVar('--chart-grid'), width: 1 }, ticks: { stroke: cssVar('--chart-grid') } };
    return {
      width,
      height: 170,
      scales: { x: { time: false } },
      legend: { show: true, live: false },
      cursor: { drag: { x: false, y: false } },
      axes: [{ ...axis, label: this.group.x || 'iteration', labelSize: 18, size: 32 }, { ...axis, size: 56 }],
      series: [{ label: this.group.x || 'iteration' }, ...this.group.series.map(([, label], i) => ({
        label, stroke: colors[i % colors.length], width: 2, spanGaps: true, points: { show: false },
      }))],
    };
  }

  set(rows) {
    const x = this.group.x || 'iteration';
    this.data = [rows.map((r) => r[x]), ...this.group.series.map(([key]) => rows.map((r) => (typeof r[key] === 'number' ? r[key] : null)))];
    const last = rows[rows.length - 1];
    this.latest.textContent = last
      ? `${x} ${last[x]}: ` + this.group.series.map(([key, label]) => `${label} ${short(last[key])}`).join(', ')
      : 'no data yet';
    this.draw();
  }

  draw() {
    const width = Math.max(200, this.plotBox.clientWidth || 320);
    if (!this.plot) {
      this.plot = new uPlot(this.options(width), this.data, this.plotBox);
    } else {
      this.plot.setData(this.data);
    }
  }

  resize() {
    if (this.plot) this.plot.setSize({ width: Math.max(200, this.plotBox.clientWidth), height: 170 });
  }
}

/** Opens the event stream and draws; returns the EventSource. */
export function startDashboard(container, status) {
  const charts = GROUPS.map((g) => new Chart(container, g));
  const rm = new Chart(container, RM_GROUP);
  let rows = [];
  let pending = false;
  const redraw = () => {
    if (pending) return;
    pending = true;
    window.requestAnimationFrame(() => {
      pending = false;
      for (const c of charts) c.set(rows);
      const last = rows[rows.length - 1];
      if (last) status.textContent = `${status.dataset.run}: iteration ${last.iteration}`;
      window.dashboardIterations = rows.map((r) => r.iteration);
    });
  };
  for (const c of [...charts, rm]) c.set([]);

  const source = new EventSource('/api/admin/dashboard');
  source.addEventListener('run', (e) => {
    const run = JSON.parse(e.data);
    status.dataset.run = run.run ? `Run ${run.name}` : '';
    status.textContent = run.run ? `Run ${run.name}: waiting for the first iteration` : 'No experiment is running: there is no run to show.';
    rows = [];
    redraw();
  });
  source.addEventListener('reset', () => {
    rows = [];
    redraw();
  });
  source.addEventListener('metrics', (e) => {
    const row = JSON.parse(e.data);
    if (typeof row.iteration !== 'number') return;
    // a resumed run may repeat iterations: keep the newest value of each
    if (rows.length && rows[rows.length - 1].iteration >= row.iteration) rows = rows.filter((r) => r.iteration < row.iteration);
    rows.push(row);
    redraw();
  });
  source.addEventListener('reward_models', (e) => {
    rm.set(JSON.parse(e.data));
  });
  source.addEventListener('error', () => {
    if (source.readyState === EventSource.CONNECTING) status.textContent = 'Dashboard connection lost; reconnecting…';
  });
  new ResizeObserver(() => { for (const c of [...charts, rm]) c.resize(); }).observe(container);
  return source;
}
