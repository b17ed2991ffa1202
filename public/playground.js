// The advprobe playground: plain browser JavaScript against the service's own API, no
// framework and no external hosts. Events are read with fetch (not EventSource) so that an
// API key can travel in a header.
'use strict';

const $ = (id) => document.getElementById(id);
const state = {
  file: null,
  classified: false, // the chosen image was classified, so an attack can start
  choice: 0, // counts image choices, so a late answer for an earlier image is ignored
  previewUrl: null, // the preview's object URL until it is revoked
  running: false,
  jobId: null,
  history: [],
  norm: 'linf',
  eps: { linf: '2', l2: '1' }, // the ε typed for each norm, kept while the other is shown
};

/** ε in each norm's own units: what the field shows, and what the API is sent. */
const NORMS = {
  linf: {
    label: 'ε (/255)',
    hint: 'The most any one pixel value may change, in grey levels out of 255.',
    max: '255',
    step: '0.5',
    send: (v) => `${v}/255`,
  },
  l2: {
    label: 'ε (L2, pixel units)',
    // 1 spread evenly over the 150,528 values is 1/√150528 ≈ 0.0026 ≈ 0.66/255 each.
    hint: 'The length of δ over all 224×224×3 values, pixels in [0, 1]: 1 ≈ 0.66/255 on every value.',
    max: '387.9', // √(224·224·3), the largest L2 distance inside the image box
    step: 'any',
    send: (v) => v,
  },
};

function authHeaders() {
  const key = $('apikey').value.trim();
  return key ? { 'X-API-Key': key } : {};
}

function setStatus(text, kind) {
  const status = $('status');
  status.textContent = text;
  status.className = kind || '';
}

/** One message per source (labels, image, attack) in the role=alert region; null clears it. */
const errors = new Map();
function setError(source, text) {
  if (text) errors.set(source, text);
  else errors.delete(source);
  $('errors').replaceChildren(
    ...[...errors.values()].map((t) => {
      const p = document.createElement('p');
      p.textContent = t;
      return p;
    }),
  );
}

/** Start needs a classified image and no attack running; Cancel needs a job to cancel. */
function updateControls() {
  $('start').disabled = state.running || !state.classified;
  $('cancel').disabled = !state.jobId;
}

async function apiError(res) {
  try {
    const body = await res.json();
    return body.error ? `${body.error.message} (${body.error.code})` : `HTTP ${res.status}`;
  } catch {
    return `HTTP ${res.status}`;
  }
}

/**
 * fetch with the API key, throwing a readable Error both when the service cannot be reached
 * (fetch's own TypeError) and when it answers other than `expected` (any 2xx by default).
 * The HTTP error carries its status; the network one has none.
 */
async function call(url, options = {}, expected) {
  let res;
  try {
    res = await fetch(url, { ...options, headers: { ...authHeaders(), ...options.headers } });
  } catch (err) {
    throw new Error(`could not reach the service (${err.message}); is it running?`);
  }
  if (expected ? res.status !== expected : !res.ok) throw Object.assign(new Error(await apiError(res)), { status: res.status });
  return res;
}

/** Fills an <ol> with predictions: label, a meter, the probability. */
function renderTop5(list, predictions) {
  list.replaceChildren(
    ...predictions.map((p) => {
      const li = document.createElement('li');
      const meter = document.createElement('meter');
      meter.min = 0;
      meter.max = 1;
      meter.value = p.probability;
      meter.setAttribute('aria-hidden', 'true');
      li.append(`${p.label.replace(/_/g, ' ')} (${p.classIndex})`, meter, formatProbability(p.probability));
      return li;
    }),
  );
}

function formatProbability(p) {
  return p >= 0.001 ? `${(p * 100).toFixed(1)}%` : p.toExponential(1);
}

/** The 1000 labels feed the target field's suggestions; without them it still takes a name or an index. */
async function loadLabels() {
  try {
    const res = await call('/v1/models/resnet50/labels');
    const { labels } = await res.json();
    $('labels').replaceChildren(
      ...labels.map(({ classIndex, label }) => {
        const option = document.createElement('option');
        option.value = label;
        option.label = `${classIndex} ${label.replace(/_/g, ' ')}`;
        return option;
      }),
    );
    setError('labels', null);
  } catch (err) {
    const key = err.status === 401 || err.status === 403 ? ' Enter the API key to load them.' : '';
    setError('labels', `Could not load the class labels for the target search: ${err.message}.${key} You can still type a class name or an index 0–999.`);
  }
}

/** Shows `file` in the preview (null: hides it). Its object URL is revoked once the image is decoded, or when replaced. */
function showPreview(file) {
  const preview = $('preview');
  if (state.previewUrl) URL.revokeObjectURL(state.previewUrl);
  state.previewUrl = null;
  if (!file) {
    preview.removeAttribute('src');
    preview.hidden = true;
    return;
  }
  const url = URL.createObjectURL(file);
  state.previewUrl = url;
  const release = () => {
    if (state.previewUrl !== url) return; // already revoked when replaced
    URL.revokeObjectURL(url);
    state.previewUrl = null;
  };
  preview.onload = release; // the decoded image stays on screen without its URL
  preview.onerror = () => {
    release();
    preview.hidden = true; // e.g. TIFF: the service reads it, the browser cannot show it
  };
  preview.src = url;
  preview.hidden = false;
}

async function chooseFile(file) {
  if (!file) return;
  const choice = ++state.choice;
  state.file = file;
  state.classified = false;
  updateControls();
  showPreview(file);
  $('result').hidden = true;
  setError('image', null);
  setStatus('Classifying…');
  const form = new FormData();
  form.append('image', file, file.name || 'image');
  try {
    const res = await call('/v1/classify', { method: 'POST', body: form });
    const body = await res.json();
    if (choice !== state.choice) return;
    renderTop5($('clean-top5'), body.predictions);
    state.classified = true;
    setStatus(`The model says “${body.predictions[0].label.replace(/_/g, ' ')}”. Set up an attack and start it.`);
  } catch (err) {
    if (choice !== state.choice) return;
    $('clean-top5').replaceChildren();
    state.file = null;
    showPreview(null);
    $('file').value = ''; // so that choosing the same file again is a change
    setStatus('Choose an image to begin.');
    setError('image', `Could not classify this image: ${err.message}. Choose an image again.`);
  } finally {
    if (choice === state.choice) updateControls();
  }
}

// The chart: two panels over one step axis, loss on top and the probabilities below on a
// log scale, in viewBox units (the SVG scales to the page's width).
const SVG_NS = 'http://www.w3.org/2000/svg';
const CHART = { width: 400, height: 278, left: 56, right: 12, loss: [10, 110], prob: [138, 238] };

function svg(name, attributes, text) {
  const el = document.createElementNS(SVG_NS, name);
  for (const [key, value] of Object.entries(attributes)) el.setAttribute(key, String(value));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** Round ticks (1, 2 or 5 × 10^k apart, at least `minStep`) covering [lo, hi], and the decimals they need. */
function niceTicks(lo, hi, count, minStep = 0) {
  if (hi - lo < 1e-9) [lo, hi] = [lo - 0.5, hi + 0.5]; // a flat line still gets an axis
  const raw = (hi - lo) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = Math.max(minStep, [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw));
  const first = Math.floor(lo / step);
  const last = Math.ceil(hi / step);
  const ticks = [];
  for (let i = first; i <= last; i++) ticks.push(i * step);
  return { ticks, lo: first * step, hi: last * step, decimals: Math.max(0, -Math.floor(Math.log10(step))) };
}

/** 0 → "1", -2 → "0.01", -6 → "10⁻⁶". */
function decadeLabel(k) {
  if (k >= -3) return String(10 ** k);
  const sup = '⁰¹²³⁴⁵⁶⁷⁸⁹';
  return `10⁻${[...String(-k)].map((d) => sup[d]).join('')}`;
}

/** A panel's horizontal grid lines and tick labels, and its axis title written up the left side. */
function yAxis([top, bottom], ticks, title) {
  const parts = ticks.map(({ y, label }) => [
    svg('line', { class: 'grid', x1: CHART.left, x2: CHART.width - CHART.right, y1: y, y2: y }),
    svg('text', { class: 'tick', x: CHART.left - 4, y: y + 4, 'text-anchor': 'end' }, label),
  ]);
  const middle = (top + bottom) / 2;
  return [
    ...parts.flat(),
    svg('line', { class: 'axis', x1: CHART.left, x2: CHART.left, y1: top, y2: bottom }),
    svg('line', { class: 'axis', x1: CHART.left, x2: CHART.width - CHART.right, y1: bottom, y2: bottom }),
    svg('text', { class: 'title', x: 12, y: middle, 'text-anchor': 'middle', transform: `rotate(-90 12 ${middle})` }, title),
  ];
}

function drawChart() {
  const chart = $('chart');
  const history = state.history;
  if (!history.length) return chart.replaceChildren();
  const { left, right, width, loss: lossPanel, prob: probPanel } = CHART;

  // x: the step number, 1-based as the status line counts them.
  const xs = niceTicks(0, history[history.length - 1].steps, 5, 1);
  const x = (step) => left + ((step + 1 - xs.lo) / (xs.hi - xs.lo)) * (width - left - right);

  const losses = niceTicks(Math.min(...history.map((p) => p.loss)), Math.max(...history.map((p) => p.loss)), 4);
  const yLoss = (v) => lossPanel[1] - ((v - losses.lo) / (losses.hi - losses.lo)) * (lossPanel[1] - lossPanel[0]);

  // Probabilities: from 1 down to the decade under the smallest one (at least 10⁻³, at most
  // 10⁻¹²), labelled every decade or every few so that about four labels fit.
  const probabilities = history.flatMap((p) => (p.targetProbability === null ? [p.trueProbability] : [p.trueProbability, p.targetProbability]));
  const lowest = Math.min(12, Math.max(3, Math.ceil(-Math.log10(Math.max(Math.min(...probabilities), 1e-12)))));
  const every = Math.ceil(lowest / 4);
  const decades = Math.ceil(lowest / every) * every;
  const yProb = (p) => probPanel[0] + (Math.min(decades, -Math.log10(Math.max(p, 1e-12))) / decades) * (probPanel[1] - probPanel[0]);

  const xAxis = xs.ticks.flatMap((step) => {
    const at = left + ((step - xs.lo) / (xs.hi - xs.lo)) * (width - left - right);
    return [
      svg('line', { class: 'grid', x1: at, x2: at, y1: lossPanel[0], y2: lossPanel[1] }),
      svg('line', { class: 'grid', x1: at, x2: at, y1: probPanel[0], y2: probPanel[1] }),
      svg('text', { class: 'tick', x: at, y: probPanel[1] + 16, 'text-anchor': 'middle' }, String(step)),
    ];
  });
  const line = (points, cls) => {
    const [lastX, lastY] = points[points.length - 1];
    return [
      svg('polyline', { class: cls, points: points.map(([a, b]) => `${a.toFixed(1)},${b.toFixed(1)}`).join(' ') }),
      svg('circle', { class: cls, cx: lastX.toFixed(1), cy: lastY.toFixed(1), r: 2.5 }), // the latest step; a lone point shows too
    ];
  };
  chart.replaceChildren(
    ...yAxis(lossPanel, losses.ticks.map((v) => ({ y: yLoss(v), label: v.toFixed(losses.decimals) })), 'loss'),
    ...yAxis(probPanel, Array.from({ length: decades / every + 1 }, (_, i) => ({ y: yProb(10 ** (-i * every)), label: decadeLabel(-i * every) })), 'probability'),
    ...xAxis,
    svg('text', { class: 'title', x: (left + width - right) / 2, y: CHART.height - 6, 'text-anchor': 'middle' }, 'step'),
    ...line(history.map((p) => [x(p.step), yLoss(p.loss)]), 'loss'),
    ...line(history.map((p) => [x(p.step), yProb(p.trueProbability)]), 'ptrue'),
    ...(history[0].targetProbability === null ? [] : line(history.map((p) => [x(p.step), yProb(p.targetProbability)]), 'ptarget')),
  );
}

function onProgress(p) {
  state.history.push(p);
  $('progress').value = (p.step + 1) / p.steps;
  const target = p.targetProbability === null ? '' : `, target p ${formatProbability(p.targetProbability)}`;
  setStatus(`Step ${p.step + 1} of ${p.steps}: loss ${p.loss.toFixed(4)}, true class p ${formatProbability(p.trueProbability)}${target}`);
  drawChart();
}

function showResult(result) {
  const png = (b64) => `data:image/png;base64,${b64}`;
  for (const [img, link, data] of [
    ['img-original', 'dl-original', result.images.original],
    ['img-adversarial', 'dl-adversarial', result.images.adversarial],
    ['img-delta', 'dl-delta', result.images.deltaVisual],
  ]) {
    $(img).src = png(data);
    $(link).href = png(data);
  }
  $('dl-delta-exact').href = png(result.images.delta);
  renderTop5($('orig-top5'), result.original.predictions);
  renderTop5($('adv-top5'), result.adversarial.quantized.predictions);
  const top = result.adversarial.quantized.predictions[0].label.replace(/_/g, ' ');
  const verdict = $('verdict');
  verdict.replaceChildren();
  const saved = document.createElement('span');
  saved.className = result.adversarial.quantized.success ? 'ok' : 'warn';
  saved.textContent = result.adversarial.quantized.success ? 'The saved 8-bit PNG is still adversarial.' : 'The saved 8-bit PNG is no longer adversarial.';
  const { forward, gradient } = result.calls;
  const q = result.perturbation.quantized;
  // The size in the norm the attack was bounded in first.
  const size = result.attack.norm === 'l2' ? `‖δ‖₂ = ${q.l2.toFixed(2)}, ‖δ‖∞ = ${q.linf255.toFixed(1)}/255` : `‖δ‖∞ = ${q.linf255.toFixed(1)}/255`;
  verdict.append(`The model now says “${top}” (${size}; ${result.attack.attack}: ${gradient} gradient and ${forward} forward passes). `, saved);
  $('result').hidden = false;
}

const FINAL_EVENTS = ['result', 'error', 'cancelled'];

/**
 * Reads the job's server-sent events with fetch, calling `on(event, data)` for each.
 * Returns the final event's name, or null when the stream ended before one came.
 */
async function followEvents(id, on) {
  const res = await call(`/v1/jobs/${id}/events`);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return null;
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (!event || !data) continue;
      on(event, JSON.parse(data));
      if (FINAL_EVENTS.includes(event)) {
        await reader.cancel(); // the server ends the stream here anyway
        return event;
      }
    }
  }
}

/** Whether the input `id` belongs to `attack` (its wrapper's data-for lists the attacks that take it). */
function usesField(attack, id) {
  return $(id).closest('[data-for]').dataset.for.split(' ').includes(attack);
}

/** Whether the chosen attack picks its own targets (APGD-T): the targeted goal is off for it. */
const refusesTarget = () => $('attack').selectedOptions[0]?.dataset.refusesTarget !== undefined;

/** Shows the inputs of the chosen attack, and turns the targeted goal off for an attack that refuses a target. */
function onAttackChange() {
  const attack = $('attack').value;
  for (const el of document.querySelectorAll('[data-for]')) el.hidden = !el.dataset.for.split(' ').includes(attack);
  const targetedRadio = document.querySelector('input[name=mode][value=targeted]');
  targetedRadio.disabled = refusesTarget();
  if (refusesTarget() && targetedRadio.checked) {
    document.querySelector('input[name=mode][value=untargeted]').checked = true;
    $('target').disabled = true;
  }
}

/** Labels the ε field, and sets its limits, for the norm in state.norm. */
function showNorm() {
  const norm = NORMS[state.norm];
  $('eps-label').textContent = norm.label;
  $('eps-hint').textContent = norm.hint;
  $('eps').max = norm.max;
  $('eps').step = norm.step;
}

/** Switches ε to the chosen norm's units, keeping what was typed for each norm. */
function onNormChange() {
  state.eps[state.norm] = $('eps').value;
  state.norm = $('norm').value;
  showNorm();
  $('eps').value = state.eps[state.norm];
}

/** The request body for the form's attack, or null (with a message) when it is incomplete. */
function attackRequest() {
  const form = new FormData();
  form.append('image', state.file, state.file.name || 'image');
  const attack = $('attack').value;
  form.append('attack', attack);
  form.append('norm', state.norm);
  form.append('epsilon', NORMS[state.norm].send($('eps').value));
  // Only the arguments this attack takes: the API refuses the others.
  if (usesField(attack, 'steps')) form.append('steps', $('steps').value);
  if (usesField(attack, 'optimizer')) form.append('optimizer', $('optimizer').value);
  if (usesField(attack, 'queries')) form.append('queries', $('queries').value);
  if (usesField(attack, 'targets')) form.append('targets', $('targets').value);
  form.append('topk', '5');
  if (!refusesTarget() && document.querySelector('input[name=mode]:checked').value === 'targeted') {
    if (!$('target').value.trim()) {
      setError('attack', 'Choose a target class, or switch to untargeted.');
      return null;
    }
    form.append('target', $('target').value.trim());
  }
  return form;
}

function onEvent(name, data) {
  if (name === 'progress') onProgress(data);
  else if (name === 'result') {
    showResult(data);
    setStatus(`Done in ${(data.timingMs.total / 1000).toFixed(1)} s.`, data.adversarial.quantized.success ? 'ok' : 'warn');
  } else if (name === 'cancelled') setStatus('Cancelled.');
  else if (name === 'error') {
    setStatus('The attack failed.');
    setError('attack', `The attack failed: ${data.error?.message ?? 'no reason given'}`);
  }
}

async function startAttack(event) {
  event.preventDefault();
  if (!state.classified || state.running) return;
  setError('attack', null);
  const form = attackRequest();
  if (!form) return;
  state.running = true;
  updateControls();
  $('result').hidden = true;
  state.history = [];
  drawChart();
  $('progress').value = 0;
  setStatus('Queued…');
  let id = null;
  try {
    const res = await call('/v1/attacks', { method: 'POST', body: form, headers: { Prefer: 'respond-async' } }, 202);
    ({ id } = await res.json());
    state.jobId = id;
    updateControls();
    // A stream that ends without result, error or cancelled (server restarted, proxy cut it) is a failure too.
    if (!(await followEvents(id, onEvent))) throw new Error('the stream ended before the attack finished');
  } catch (err) {
    setStatus('The attack did not finish.', 'warn');
    if (id === null) setError('attack', `${err.status ? 'The attack was refused' : 'The attack could not start'}: ${err.message}`);
    else setError('attack', `Lost track of attack ${id} (it may still be running on the server): ${err.message}`);
  } finally {
    state.running = false;
    state.jobId = null;
    updateControls();
  }
}

async function cancelAttack() {
  if (!state.jobId) return;
  const id = state.jobId;
  $('cancel').disabled = true;
  try {
    await call(`/v1/jobs/${id}`, { method: 'DELETE' });
  } catch (err) {
    if (err.status === 409) return; // it finished meanwhile: its final event is on the way
    setError('attack', `Could not cancel: ${err.message}`);
    if (state.jobId === id) $('cancel').disabled = false; // still running: let the user try again
  }
}

function wire() {
  $('file').addEventListener('change', (e) => chooseFile(e.target.files[0]));
  const drop = $('drop');
  drop.addEventListener('click', () => $('file').click());
  drop.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      $('file').click();
    }
  });
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    chooseFile(e.dataTransfer.files[0]);
  });
  for (const radio of document.querySelectorAll('input[name=mode]')) {
    radio.addEventListener('change', () => ($('target').disabled = radio.value !== 'targeted' || !radio.checked));
  }
  $('attack').addEventListener('change', onAttackChange);
  onAttackChange();
  $('norm').addEventListener('change', onNormChange);
  state.norm = $('norm').value; // the browser may have restored L2 (and its ε) on reload
  showNorm();
  $('attack-form').addEventListener('submit', startAttack);
  $('cancel').addEventListener('click', cancelAttack);
  $('apikey').addEventListener('change', loadLabels);
  loadLabels();
}

wire();
