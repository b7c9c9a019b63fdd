// The annotator page: sign in, then judge one pair after another, keyboard first.
import { api, ApiError, announce, setCsrf, show, startOfLocalDay, wireSignIn, wireSignOut } from './common.js';

const KEYS = { 1: 'a', 2: 'b', 3: 'tie', 4: 'both_bad', s: 'skip', S: 'skip' };
const CHOICE_WORDS = { a: 'A is better', b: 'B is better', tie: 'tie', both_bad: 'both bad', skip: 'skipped' };
const RETRY_DELAYS_MS = [500, 1500, 4000];

let session = null;
let task = null;          // the task on screen: {id, prompt, a, b}
let lastJudgment = null;  // {judgmentId, taskId}: what u undoes
let busy = false;
let pollTimer = null;
let undoWindowMs = 0;     // the store's undo window (from progress); 0 until known
let undoTimer = null;

const $ = (id) => document.getElementById(id);

/** The judgment id of a task, made once and kept across retries and reloads, so a task is judged at most once. */
function judgmentIdFor(taskId) {
  const key = `judgment:${session.annotator}:${taskId}`;
  let id = sessionStorage.getItem(key);
  if (!id) {
    id = crypto.randomUUID();
    sessionStorage.setItem(key, id);
  }
  return id;
}

function forgetJudgmentId(taskId) {
  sessionStorage.removeItem(`judgment:${session.annotator}:${taskId}`);
}

function signedIn(s) {
  session = s;
  setCsrf(s.csrfToken);
  show('sign-in-view', false);
  show('work-view', true);
  const who = $('who');
  who.textContent = `Signed in as ${s.annotator || 'operator'}`;
  who.hidden = false;
  $('sign-out').hidden = false;
  $('mono-toggle').hidden = false;
  loadGuidelines();
  refreshProgress();
  loadTask();
}

function signedOut(message) {
  session = null;
  task = null;
  window.clearTimeout(pollTimer);
  show('work-view', false);
  show('sign-in-view', true);
  $('who').hidden = true;
  $('sign-out').hidden = true;
  if (message) $('sign-in-error').textContent = message;
  $('token').focus();
}

async function loadGuidelines() {
  try {
    const g = await api('GET', '/api/guidelines');
    // server-rendered from the operator's Markdown: every text escaped, only http(s) links (GuidelinesRenderer)
    const doc = new DOMParser().parseFromString(g.html, 'text/html');
    $('guidelines-body').replaceChildren(...doc.body.childNodes);
    $('guidelines').hidden = g.html.trim() === '';
  } catch (e) {
    handleError(e, 'guidelines');
  }
}

async function refreshProgress() {
  try {
    const p = await api('GET', `/api/progress?since=${encodeURIComponent(startOfLocalDay())}`);
    $('progress').textContent = `Done today: ${p.doneSince} · in all: ${p.doneTotal} · left in the queue: ${p.tasksLeft}`;
    undoWindowMs = p.undoWindowMs;
  } catch (e) {
    handleError(e, 'progress');
  }
}

async function loadTask() {
  window.clearTimeout(pollTimer);
  if (!session) return;
  try {
    const r = await api('GET', '/api/task');
    if (!r.task) {
      task = null;
      show('task-view', false);
      show('empty-view', true);
      pollTimer = window.setTimeout(() => { loadTask(); refreshProgress(); }, session.pollIntervalMs);
      return;
    }
    const isNew = !task || task.id !== r.task.id;
    task = r.task;
    show('empty-view', false);
    show('task-view', true);
    $('prompt').textContent = task.prompt;
    $('response-a').textContent = task.a;
    $('response-b').textContent = task.b;
    if (isNew) {
      $('judgment-form').reset();
      for (const id of ['prompt', 'response-a', 'response-b']) $(id).scrollTop = 0;
    }
  } catch (e) {
    handleError(e, 'task');
    pollTimer = window.setTimeout(loadTask, session ? session.pollIntervalMs : 5000);
  }
}

function selectedChoice() {
  const c = document.querySelector('input[name="choice"]:checked');
  return c ? c.value : null;
}

function selectChoice(value) {
  const input = $(`choice-${value}`);
  if (input && !$('task-view').hidden) {
    input.checked = true;
    announce(`Selected: ${CHOICE_WORDS[value]}. Press Enter to submit.`);
  }
}

async function submit() {
  if (busy || !task) return;
  const choice = selectedChoice();
  if (!choice) {
    announce('Pick A, B, tie, both bad or skip first (keys 1 to 4, or s).', 'error');
    return;
  }
  const strength = document.querySelector('input[name="strength"]:checked');
  const rationale = $('rationale').value.trim();
  const limit = session.maxRationaleBytes;
  if (new TextEncoder().encode(rationale).length > limit) {
    announce(`The rationale is too long: at most ${limit} bytes.`, 'error');
    $('rationale').focus();
    return;
  }
  const body = {
    judgmentId: judgmentIdFor(task.id),
    taskId: task.id,
    choice,
    strength: strength && choice !== 'skip' ? Number(strength.value) : null,
    rationale: rationale || null,
  };
  busy = true;
  $('submit').disabled = true;
  try {
    await sendWithRetry(body);
    forgetJudgmentId(body.taskId);
    lastJudgment = { judgmentId: body.judgmentId, taskId: body.taskId };
    $('undo').disabled = false;
    window.clearTimeout(undoTimer);
    if (undoWindowMs > 0) {
      // past the store's undo window the judgment stands; the button says so by going grey
      undoTimer = window.setTimeout(() => { lastJudgment = null; $('undo').disabled = true; }, undoWindowMs);
    }
    announce(`Submitted: ${CHOICE_WORDS[choice]}. Next task.`, 'ok');
    task = null;
    await loadTask();
    refreshProgress();
  } catch (e) {
    handleError(e, 'submit');
  } finally {
    busy = false;
    $('submit').disabled = false;
  }
}

/** Sends a judgment, retrying network failures and 503s with the same judgment id (the store is idempotent on it). */
async function sendWithRetry(body) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await api('POST', '/api/judgments', body);
    } catch (e) {
      const retriable = !(e instanceof ApiError) || e.status === 503 || e.status === 429;
      if (!retriable || attempt >= RETRY_DELAYS_MS.length) throw e;
      announce('Connection problem; sending again…', 'error');
      await new Promise((resolve) => window.setTimeout(resolve, e.retryAfter ? e.retryAfter * 1000 : RETRY_DELAYS_MS[attempt]));
    }
  }
}

async function undo() {
  if (busy) return;
  if (!lastJudgment) {
    announce('Nothing to undo.');
    return;
  }
  busy = true;
  try {
    await api('DELETE', `/api/judgments/${encodeURIComponent(lastJudgment.judgmentId)}`);
    lastJudgment = null;
    $('undo').disabled = true;
    announce('Undone: the last task is back.', 'ok');
    task = null;
    await loadTask();
    refreshProgress();
  } catch (e) {
    handleError(e, 'undo');
  } finally {
    busy = false;
  }
}

function handleError(e, what) {
  if (e instanceof ApiError) {
    if (e.status === 401) {
      signedOut('Your session ended; sign in again.');
      return;
    }
    if (what === 'undo' && e.status === 409) {
      lastJudgment = null;
      $('undo').disabled = true;
    }
    announce(e.message, 'error');
    if (what === 'submit' && (e.status === 409 || e.status === 404) && task) {
      // the task is no longer this annotator's to judge (judged already, or its lease lapsed and others took it)
      forgetJudgmentId(task.id);
      task = null;
      window.setTimeout(loadTask, 1500);
    }
  } else {
    announce(`The server cannot be reached (${what}); your work is kept, try again.`, 'error');
  }
}

function isTyping(target) {
  return target instanceof HTMLTextAreaElement
    || (target instanceof HTMLInputElement && !['radio', 'checkbox'].includes(target.type));
}

document.addEventListener('keydown', (event) => {
  if (!session || $('work-view').hidden) return;
  const target = event.target;
  if (isTyping(target)) {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey) && target.id === 'rationale') {
      event.preventDefault();
      submit();
    }
    return;
  }
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.key === 'Enter') {
    // Enter on a button, link or summary does what that control does
    if (target instanceof HTMLButtonElement || target instanceof HTMLAnchorElement || target.tagName === 'SUMMARY') return;
    event.preventDefault();
    submit();
  } else if (Object.prototype.hasOwnProperty.call(KEYS, event.key)) {
    event.preventDefault();
    selectChoice(KEYS[event.key]);
  } else if (event.key === 'u' || event.key === 'U') {
    event.preventDefault();
    undo();
  }
});

$('judgment-form').addEventListener('submit', (event) => {
  event.preventDefault();
  submit();
});
$('undo').addEventListener('click', undo);
const mono = $('mono');
mono.checked = localStorage.getItem('mono') === '1';
document.body.classList.toggle('mono', mono.checked);
mono.addEventListener('change', () => {
  document.body.classList.toggle('mono', mono.checked);
  localStorage.setItem('mono', mono.checked ? '1' : '0');
});

wireSignIn(signedIn);
wireSignOut();

api('GET', '/api/session').then((s) => (s.signedIn ? signedIn(s) : signedOut())).catch(() => signedOut());
