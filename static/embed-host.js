// The embed API's example host: drives the lab in the iframe with postMessage and shows what it
// says. `window.neurolab(msg)` sends a command; `window.labMessages` holds every message heard.
(() => {
  const fallback = '#v=1&lab=grok&model=mlp&p=23&hidden=64&steps=300&every=10&lr=0.003&backend=cpu&embed=1';
  const frame = document.getElementById('lab');
  frame.src = './index.html' + (location.hash.length > 1 ? location.hash : fallback);
  const log = document.getElementById('log');
  const latest = document.getElementById('latest');
  window.labMessages = [];

  window.neurolab = (message) => frame.contentWindow.postMessage(message, '*');

  window.addEventListener('message', (ev) => {
    if (ev.source !== frame.contentWindow || !ev.data || typeof ev.data.neurolab !== 'string') return;
    const m = ev.data;
    window.labMessages.push(m);
    if (m.neurolab === 'report') {
      const r = m.report.metrics ?? m.report;
      latest.textContent = Object.entries(r)
        .filter(([, v]) => typeof v === 'number')
        .slice(0, 6)
        .map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toPrecision(4)}`)
        .join(' · ');
    } else if (m.neurolab !== 'progress') {
      const line = m.neurolab === 'error' ? `error: ${m.message}` : m.neurolab;
      log.textContent = `${line}\n${log.textContent}`.slice(0, 4000);
      if (m.neurolab === 'finished' || m.neurolab === 'error') latest.textContent = line;
    }
  });

  for (const command of ['run', 'pause', 'step', 'reset']) {
    document.getElementById(command).addEventListener('click', () => window.neurolab({ neurolab: command }));
  }
  document.getElementById('set').addEventListener('click', () => {
    const key = document.getElementById('key').value.trim();
    const value = document.getElementById('value').value.trim();
    window.neurolab({ neurolab: 'set', values: { [key]: value } });
  });
  document.getElementById('get').addEventListener('click', () => window.neurolab({ neurolab: 'get' }));
})();
