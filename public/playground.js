// The advprobe playground: plain browser JavaScript against the service's own API, no
// framework and no external hosts. Events are read with fetch (not EventSource) so that an
// API key can travel in a header.
'use strict';

const $ = (id) => document.getElementById(id);
const state = { file: null, jobId: null, stream: null, history: [] };

function authHeaders() {
  const key = $('apikey').value.trim();
  return key ? { 'X-API-Key': key } : {};
}

function setStatus(text, kind) {
  const status = $('status');
  status.textContent = text;
  status.className = kind || '';
}

async function apiError(res) {
  try {
    const body = await res.json();
    return body.error ? `${body.error.message} (${body.error.code})` : `HTTP ${res.status}`;
  } catch {
    return `HTTP ${res.status}`;
  }
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

async function loadLabels() {
  const res = await fetch('/v1/models/resnet50/labels', { headers: authHeaders() });
  if (!res.ok) return;
  const { labels } = await res.json();
  $('labels').replaceChildren(
    ...labels.map(({ classIndex, label }) => {
      const option = document.createElement('option');
      option.value = label;
      option.label = `${classIndex} ${label.replace(/_/g, ' ')}`;
      return option;
    }),
  );
}

async function chooseFile(file) {
  if (!file) return;
  state.file = file;
  const preview = $('preview');
  preview.src = URL.createObjectURL(file);
  preview.hidden = false;
  $('result').hidden = true;
  setStatus('Classifying…');
  const form = new FormData();
  form.append('image', file, file.name || 'image');
  const res = await fetch('/v1/classify', { method: 'POST', body: form, headers: authHeaders() });
  if (!res.ok) {
    $('clean-top5').replaceChildren();
    $('start').disabled = true;
    return setStatus(`Could not classify this image: ${await apiError(res)}`, 'warn');
  }
  const body = await res.json();
  renderTop5($('clean-top5'), body.predictions);
  $('start').disabled = false;
  setStatus(`The model says “${body.predictions[0].label.replace(/_/g, ' ')}”. Set up an attack and start it.`);
}

function drawChart() {
  const svg = $('chart');
  const [w, h] = [320, 140];
  const h0 = state.history;
  if (!h0.length) return svg.replaceChildren();
  const steps = h0[h0.length - 1].steps;
  const x = (step) => 4 + (step / Math.max(1, steps - 1)) * (w - 8);
  const losses = h0.map((p) => p.loss);
  const [lo, hi] = [Math.min(...losses), Math.max(...losses)];
  const yLoss = (v) => (hi === lo ? h / 2 : 4 + ((hi - v) / (hi - lo)) * (h - 8));
  const yProb = (p) => 4 + (Math.min(12, -Math.log10(Math.max(p, 1e-12))) / 12) * (h - 8);
  const line = (points, cls) => {
    const poly = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
    poly.setAttribute('points', points.map(([a, b]) => `${a.toFixed(1)},${b.toFixed(1)}`).join(' '));
    poly.setAttribute('class', cls);
    poly.setAttribute('fill', 'none');
    poly.setAttribute('stroke-width', '2');
    poly.setAttribute('stroke', cls === 'loss' ? '#333' : cls === 'ptrue' ? '#a4000f' : '#0a6b2a');
    return poly;
  };
  const lines = [line(h0.map((p) => [x(p.step), yLoss(p.loss)]), 'loss'), line(h0.map((p) => [x(p.step), yProb(p.trueProbability)]), 'ptrue')];
  if (h0[0].targetProbability !== null) lines.push(line(h0.map((p) => [x(p.step), yProb(p.targetProbability)]), 'ptarget'));
  svg.replaceChildren(...lines);
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
  verdict.append(`The model now says “${top}” (‖δ‖∞ = ${result.perturbation.quantized.linf255.toFixed(1)}/255; ${result.attack.attack}: ${gradient} gradient and ${forward} forward passes). `, saved);
  $('result').hidden = false;
}

/** Reads the job's server-sent events with fetch, calling `on(event, data)` for each. */
async function followEvents(id, on) {
  const controller = new AbortController();
  state.stream = controller;
  const res = await fetch(`/v1/jobs/${id}/events`, { headers: authHeaders(), signal: controller.signal });
  if (!res.ok) throw new Error(await apiError(res));
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event && data) on(event, JSON.parse(data));
    }
  }
}

/** Whether the input `id` belongs to `attack` (its wrapper's data-for lists the attacks that take it). */
function usesField(attack, id) {
  return $(id).closest('[data-for]').dataset.for.split(' ').includes(attack);
}

/** Shows the inputs of the chosen attack; APGD-T picks its own targets, so the targeted goal is off for it. */
function onAttackChange() {
  const attack = $('attack').value;
  for (const el of document.querySelectorAll('[data-for]')) el.hidden = !el.dataset.for.split(' ').includes(attack);
  const targetedRadio = document.querySelector('input[name=mode][value=targeted]');
  targetedRadio.disabled = attack === 'apgd-t';
  if (attack === 'apgd-t' && targetedRadio.checked) {
    document.querySelector('input[name=mode][value=untargeted]').checked = true;
    $('target').disabled = true;
  }
}

async function startAttack(event) {
  event.preventDefault();
  if (!state.file) return;
  const form = new FormData();
  form.append('image', state.file, state.file.name || 'image');
  const attack = $('attack').value;
  form.append('attack', attack);
  form.append('norm', $('norm').value);
  form.append('epsilon', `${$('eps').value}/255`);
  // Only the arguments this attack takes: the API refuses the others.
  if (usesField(attack, 'steps')) form.append('steps', $('steps').value);
  if (usesField(attack, 'optimizer')) form.append('optimizer', $('optimizer').value);
  if (usesField(attack, 'queries')) form.append('queries', $('queries').value);
  if (usesField(attack, 'targets')) form.append('targets', $('targets').value);
  form.append('topk', '5');
  if (attack !== 'apgd-t' && document.querySelector('input[name=mode]:checked').value === 'targeted') {
    if (!$('target').value.trim()) return setStatus('Choose a target class, or switch to untargeted.', 'warn');
    form.append('target', $('target').value.trim());
  }
  $('start').disabled = true;
  $('result').hidden = true;
  state.history = [];
  drawChart();
  $('progress').value = 0;
  setStatus('Queued…');
  const res = await fetch('/v1/attacks', { method: 'POST', body: form, headers: { ...authHeaders(), Prefer: 'respond-async' } });
  if (res.status !== 202) {
    $('start').disabled = false;
    return setStatus(`The attack was refused: ${await apiError(res)}`, 'warn');
  }
  const { id } = await res.json();
  state.jobId = id;
  $('cancel').disabled = false;
  try {
    await followEvents(id, (name, data) => {
      if (name === 'progress') onProgress(data);
      else if (name === 'result') {
        showResult(data);
        setStatus(`Done in ${(data.timingMs.total / 1000).toFixed(1)} s.`, data.adversarial.quantized.success ? 'ok' : 'warn');
      } else if (name === 'cancelled') setStatus('Cancelled.');
      else if (name === 'error') setStatus(`The attack failed: ${data.error.message}`, 'warn');
    });
  } catch (err) {
    if (err.name !== 'AbortError') setStatus(`Lost the event stream: ${err.message}`, 'warn');
  } finally {
    $('cancel').disabled = true;
    $('start').disabled = false;
    state.jobId = null;
  }
}

async function cancelAttack() {
  if (!state.jobId) return;
  $('cancel').disabled = true;
  const res = await fetch(`/v1/jobs/${state.jobId}`, { method: 'DELETE', headers: authHeaders() });
  if (!res.ok && res.status !== 409) setStatus(`Could not cancel: ${await apiError(res)}`, 'warn');
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
  $('attack-form').addEventListener('submit', startAttack);
  $('cancel').addEventListener('click', cancelAttack);
  $('apikey').addEventListener('change', loadLabels);
  loadLabels();
}

wire();
