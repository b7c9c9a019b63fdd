// The admin page: annotators, queue, agreement, disagreements with adjudication, exports, and the dashboard.
import { api, ApiError, announce, el, fmt, setCsrf, show, wireSignIn, wireSignOut } from './common.js';
import { startDashboard } from './dashboard.js';

const $ = (id) => document.getElementById(id);
const VERDICTS = [['a', 'First better'], ['b', 'Second better'], ['tie', 'Tie'], ['both_bad', 'Both bad']];
const CHOICE_WORDS = { a: 'first', b: 'second', tie: 'tie', both_bad: 'both bad', skip: 'skip' };
let refreshTimer = null;

function signedIn(s) {
  if (!s.admin) {
    signedOut('That token has no admin rights.');
    return;
  }
  setCsrf(s.csrfToken);
  show('sign-in-view', false);
  show('admin-view', true);
  $('who').textContent = `Signed in as ${s.annotator || 'operator'}`;
  $('who').hidden = false;
  $('sign-out').hidden = false;
  refresh();
  refreshTimer = window.setInterval(refresh, 15000);
  startDashboard($('charts'), $('run-status'), $('rm-notice'));
}

function signedOut(message) {
  window.clearInterval(refreshTimer);
  show('admin-view', false);
  show('sign-in-view', true);
  $('who').hidden = true;
  $('sign-out').hidden = true;
  if (message) $('sign-in-error').textContent = message;
}

function handleError(e) {
  if (e instanceof ApiError && e.status === 401) {
    signedOut('Your session ended; sign in again.');
  } else {
    announce(e instanceof ApiError ? e.message : 'The server cannot be reached.', 'error');
  }
}

async function refresh() {
  await Promise.all([loadOverview(), loadAgreement(), loadDisagreements()]);
}

function figure(term, value) {
  const div = el('div', null, { class: 'figure' });
  div.append(el('dt', term), el('dd', value));
  return div;
}

function cell(text, cls) {
  return el('td', text, cls ? { class: cls } : {});
}

async function loadOverview() {
  try {
    const o = await api('GET', '/api/admin/overview');
    const rows = o.annotators.map((a) => {
      const tr = el('tr');
      const role = a.revoked ? 'revoked' : a.admin ? 'admin' : 'annotator';
      tr.append(el('th', a.name, { scope: 'row' }), cell(role), cell(a.judgments, 'num'), cell(a.skips, 'num'),
        cell(a.judgmentsLastHour, 'num'), cell(fmt(a.medianSecondsBetween, 1), 'num'),
        cell(a.lastJudgedAt ? new Date(a.lastJudgedAt).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'short' }) : '–'));
      const action = el('td');
      if (!a.revoked) {
        const b = el('button', 'Revoke', { type: 'button', class: 'danger', 'aria-label': `Revoke ${a.name}` });
        b.addEventListener('click', () => revoke(a.name, b));
        action.append(b);
      }
      tr.append(action);
      return tr;
    });
    $('annotators').tBodies[0].replaceChildren(...rows);
    const q = o.queue;
    $('queue').replaceChildren(figure('Tasks', q.tasks), figure('Open tasks', q.openTasks),
      figure('Active leases', q.activeLeases), figure('Judgments', q.judgments),
      figure('Adjudicated', q.adjudicatedTasks));
  } catch (e) {
    handleError(e);
  }
}

/** Revokes after a second click on the same button (within 5 s), which confirms. */
async function revoke(name, button) {
  if (button.dataset.armed !== '1') {
    button.dataset.armed = '1';
    button.textContent = `Confirm revoking ${name}`;
    announce(`Press again to revoke ${name}; their judgments stay.`);
    window.setTimeout(() => {
      button.dataset.armed = '';
      button.textContent = 'Revoke';
    }, 5000);
    return;
  }
  try {
    await api('DELETE', `/api/admin/annotators/${encodeURIComponent(name)}`);
    announce(`Revoked ${name}.`, 'ok');
    loadOverview();
  } catch (e) {
    handleError(e);
  }
}

async function loadAgreement() {
  try {
    const a = await api('GET', '/api/admin/agreement');
    $('agreement').replaceChildren(figure("Krippendorff's alpha", fmt(a.krippendorffAlpha)),
      figure('Percent agreement', a.percentAgreement === null ? '–' : `${fmt(a.percentAgreement * 100, 1)} %`),
      figure('Items', a.items), figure('Judgments', a.judgments));
    $('kappa').tBodies[0].replaceChildren(...a.pairwise.map((p) => {
      const tr = el('tr');
      tr.append(cell(p.annotatorA), cell(p.annotatorB), cell(fmt(p.kappa), 'num'), cell(p.sharedItems, 'num'));
      return tr;
    }));
    $('no-kappa').hidden = a.pairwise.length > 0;
    $('majority').tBodies[0].replaceChildren(...a.annotators.map((p) => {
      const tr = el('tr');
      tr.append(cell(p.annotator), cell(`${fmt(p.agreementWithMajority * 100, 1)} %`, 'num'), cell(p.items, 'num'));
      return tr;
    }));
  } catch (e) {
    handleError(e);
  }
}

function snippet(label, text) {
  const d = el('details');
  d.append(el('summary', label), el('div', text, { class: 'snippet' }));
  return d;
}

async function loadDisagreements() {
  try {
    const openOnly = $('open-only').checked;
    const r = await api('GET', `/api/admin/disagreements?limit=100&unadjudicatedOnly=${openOnly}`);
    const rows = r.disagreements.map((d) => {
      const tr = el('tr');
      const texts = el('td');
      texts.append(el('div', d.prompt, { class: 'snippet' }), snippet('First response', d.a), snippet('Second response', d.b));
      const judgments = el('td');
      const list = el('ul');
      for (const j of d.judgments) {
        list.append(el('li', `${j.annotator}: ${CHOICE_WORDS[j.choice] || j.choice}`
          + (j.strength ? ` (${j.strength})` : '') + (j.rationale ? `: ${j.rationale}` : '')));
      }
      judgments.append(list);
      if (d.adjudication) {
        judgments.append(el('p', `Adjudicated by ${d.adjudication.adjudicator}: ${CHOICE_WORDS[d.adjudication.choice]}`));
      }
      const actions = el('td');
      const group = el('div', null, { class: 'verdicts', role: 'group', 'aria-label': `Adjudicate task ${d.taskId}` });
      for (const [choice, label] of VERDICTS) {
        const b = el('button', label, { type: 'button' });
        b.addEventListener('click', () => adjudicate(d.taskId, choice));
        group.append(b);
      }
      actions.append(group);
      tr.append(el('th', d.taskId, { scope: 'row' }), texts, judgments, actions);
      return tr;
    });
    $('disagreements').tBodies[0].replaceChildren(...rows);
    $('no-disagreements').hidden = rows.length > 0;
  } catch (e) {
    handleError(e);
  }
}

async function adjudicate(taskId, choice) {
  try {
    await api('POST', '/api/admin/adjudications', { taskId, choice });
    announce(`Adjudicated ${taskId}: ${CHOICE_WORDS[choice]}.`, 'ok');
    refresh();
  } catch (e) {
    handleError(e);
  }
}

$('add-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const name = $('new-name').value.trim();
  try {
    const r = await api('POST', '/api/admin/annotators', { name, admin: $('new-admin').checked });
    $('new-token-name').textContent = r.name;
    $('new-token-value').textContent = r.token;
    $('new-token').hidden = false;
    $('new-name').value = '';
    $('new-admin').checked = false;
    announce(`Added ${r.name}. Copy the token now: it is not shown again.`, 'ok');
    loadOverview();
  } catch (e) {
    handleError(e);
  }
});

$('copy-token').addEventListener('click', async () => {
  try {
    await navigator.clipboard.writeText($('new-token-value').textContent);
    announce('Token copied.', 'ok');
  } catch (e) {
    window.getSelection().selectAllChildren($('new-token-value'));
    announce('Copying is not allowed here; the token is selected, press Ctrl+C.');
  }
});

$('open-only').addEventListener('change', loadDisagreements);

wireSignIn(signedIn);
wireSignOut();
api('GET', '/api/session').then((s) => (s.signedIn ? signedIn(s) : signedOut())).catch(() => signedOut());
