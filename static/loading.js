// The loading screen (trunk's initializer for the page's wasm, see index.html): the bytes of the
// page's wasm and of the compute worker's wasm (fetched here in parallel, so the worker starts
// from the cache), a progress bar, and a clear message when WebAssembly, its SIMD or Web Workers
// are missing or a download fails. JavaScript itself missing: index.html's <noscript>.
const MB = (n) => (n / 1048576).toFixed(1);
const WORKER_WASM = './worker_bg.wasm';
// The smallest module that uses a SIMD128 instruction (both wasm files are built with SIMD128):
// `(func (result v128) i32.const 0 i8x16.splat i8x16.popcnt)`, as wasm-feature-detect probes it.
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11]);

function $(id) { return document.getElementById(id); }

let failed = false;
function fail(message) {
  // The first reason is the one to show (a missing WebAssembly also fails the start later).
  if (failed) return;
  failed = true;
  const box = $('loading');
  if (!box) return;
  box.classList.add('failed');
  box.setAttribute('role', 'alert');
  $('loading-text').textContent = message;
}

const parts = { page: { current: 0, total: 0 }, worker: { current: 0, total: 0 } };
function show() {
  if (failed) return;
  const current = parts.page.current + parts.worker.current;
  const total = parts.page.total + parts.worker.total;
  const pct = total > 0 ? Math.min(100, (100 * current) / total) : 0;
  const bar = $('loading-bar');
  if (bar) bar.setAttribute('aria-valuenow', pct.toFixed(0));
  const fill = $('loading-fill');
  if (fill) fill.style.width = `${pct.toFixed(1)}%`;
  const text = $('loading-text');
  if (text) text.textContent = `downloading neurolab: ${MB(current)} of ${MB(total)} MB`;
}

// The worker's wasm, streamed for its progress; the worker's own fetch then hits the cache.
async function prefetchWorker() {
  try {
    const response = await fetch(WORKER_WASM);
    if (!response.ok || !response.body) return;
    parts.worker.total = Number(response.headers.get('content-length')) || 0;
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.worker.current += value.byteLength;
      if (parts.worker.total < parts.worker.current) parts.worker.total = parts.worker.current;
      show();
    }
  } catch (e) {
    // Offline without a cached copy: the worker reports its own failure once it starts.
  }
}

export default function initializer() {
  return {
    onStart: () => {
      if (typeof WebAssembly !== 'object' || typeof WebAssembly.instantiate !== 'function') {
        fail('neurolab needs WebAssembly, which this browser does not offer or has turned off. Open the page in a current Firefox, Chrome, Edge or Safari (or allow WebAssembly).');
        return;
      }
      if (!WebAssembly.validate(SIMD_PROBE)) {
        fail('neurolab needs WebAssembly SIMD (in Chrome and Edge since 91, Firefox since 89, Safari since 16.4), which this browser lacks. Update it or open the page in a current browser.');
        return;
      }
      if (typeof Worker !== 'function') {
        fail('neurolab needs Web Workers (it trains in one, so the page never freezes), which this browser does not offer or has turned off.');
        return;
      }
      prefetchWorker();
    },
    onProgress: ({ current, total }) => {
      parts.page = { current, total };
      show();
    },
    onSuccess: () => {
      if (!failed) $('loading')?.remove();
    },
    onFailure: (error) => {
      fail(`neurolab could not start: ${error}. Reload the page; if it keeps failing, this browser may block WebAssembly.`);
    },
  };
}
