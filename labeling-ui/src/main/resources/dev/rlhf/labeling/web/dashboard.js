// The training dashboard: one small uPlot chart per metric group, fed live by the server-sent events of
// /api/admin/dashboard (metrics.jsonl of the running experiment and its reward-model versions). When people judge
// (rlhf.annotators.mode human or mixed) a Judgments chart and a line on the reward model in use join them.
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

const TOTAL = 'preferences/judgments_total';
const PENDING = 'preferences/judgments_pending';
const VERSION = 'reward/rm_version';
/** Only in human and mixed modes: the store's judgments so far and those since the last reward-model training. */
const JUDGMENTS_GROUP = { id: 'judgments', title: 'Judgments', counts: true, onlyWith: TOTAL,
  series: [[TOTAL, 'in the store'], [PENDING, 'since the last training']] };
/** Iterations and versions are whole numbers, and so are counts: ticks never fall between them. */
const WHOLE_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6];

function hasCounts(row) {
  return typeof row[TOTAL] === 'number' && typeof row[PENDING] === 'number';
}

function plural(n, word) {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * The line about the reward model in use, from the iterations' metrics alone (rows in iteration order), or null
 * when they carry no judgment counts (simulated annotators). Each iteration reports the version it used, the store's
 * newest judgment sequence (total) and the judgments after the newest one handed to a training (pending), so
 * total - pending is the sequence the last training started from: when it grows, a training began at that boundary.
 */
export function rewardModelNotice(rows) {
  const judged = rows.filter(hasCounts);
  if (!judged.length) return null;
  const last = judged[judged.length - 1];
  const pending = last[PENDING];
  if (typeof last[VERSION] !== 'number') {
    const count = pending === 0 ? 'No new judgments' : plural(pending, 'new judgment');
    return { state: pending === 0 ? 'unchanged' : 'pending', text: `${count} since the last reward-model training.` };
  }
  const version = last[VERSION];
  let since = last.iteration;
  for (let i = rows.indexOf(last); i >= 0 && rows[i][VERSION] === version; i--) since = rows[i].iteration;
  let startedAt = null;
  let through = null;
  for (let i = 1; i < judged.length; i++) {
    const before = judged[i - 1][TOTAL] - judged[i - 1][PENDING];
    const after = judged[i][TOTAL] - judged[i][PENDING];
    if (after > before) {
      startedAt = judged[i].iteration;
      through = after;
    }
  }
  const inUse = `Reward model v${version} in use since iteration ${since}`;
  if (startedAt !== null && startedAt >= since) {
    return { state: 'training', text: `${inUse}; the next version started training at iteration ${startedAt} on the `
      + `judgments through #${through}` + (pending > 0 ? `, and ${plural(pending, 'judgment')} arrived after it.` : '.') };
  }
  if (pending === 0) {
    return { state: 'unchanged', text: `${inUse}, unchanged: no new judgments since the last reward-model training.` };
  }
  return { state: 'pending', text: `${inUse}; ${plural(pending, 'new judgment')} since the last reward-model training.` };
}

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
    const xAxis = { ...axis, label: this.group.x || 'iteration', labelSize: 18, size: 32, incrs: WHOLE_STEPS };
    const series = [{ label: this.group.x || 'iteration' }, ...this.group.series.map(([, label], i) => ({
      label, stroke: colors[i % colors.length], width: 2, spanGaps: true, points: { show: false },
    }))];
    const options = {
      width,
      height: 170,
      legend: { show: true, live: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: false } },
      axes: [xAxis, { ...axis, size: 56 }],
      series,
    };
    if (this.group.counts) {
      // the store's total (hundreds of the panel's judgments) would flatten the few since the last training:
      // each gets its own axis in its series' colour, the second one from zero on the right
      series[2].scale = 'since';
      options.scales.since = { range: (u, min, max) => [0, Math.max(1, max)] };
      options.axes = [xAxis, { ...axis, size: 56, incrs: WHOLE_STEPS, stroke: colors[0] },
        { ...axis, scale: 'since', side: 1, size: 44, incrs: WHOLE_STEPS, stroke: colors[1], grid: { show: false } }];
    }
    return options;
  }

  set(rows) {
    const x = this.group.x || 'iteration';
    this.data = [rows.map((r) => r[x]), ...this.group.series.map(([key]) => rows.map((r) => (typeof r[key] === 'number' ? r[key] : null)))];
    const last = rows[rows.length - 1];
    this.latest.textContent = last
      ? `${x} ${last[x]}: ` + this.group.series.map(([key, label]) => `${label} ${this.group.counts ? fmt(last[key], 0) : short(last[key])}`).join(', ')
      : 'no data yet';
    if (this.group.onlyWith) {
      const shown = rows.some((r) => typeof r[this.group.onlyWith] === 'number');
      this.figure.hidden = !shown;
      if (!shown) return;
    }
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
export function startDashboard(container, status, notice) {
  const charts = GROUPS.map((g) => new Chart(container, g));
  // second, beside the reward it feeds; hidden while the metrics carry no judgment counts
  charts.splice(1, 0, new Chart(container, JUDGMENTS_GROUP));
  container.insertBefore(charts[1].figure, charts[2].figure);
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
      const line = rewardModelNotice(rows);
      notice.hidden = !line;
      notice.textContent = line ? line.text : '';
      notice.dataset.state = line ? line.state : '';
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
