// @fastify/under-pressure as the app has it, but a sampling second without a single
// event-loop sample reads as no measured delay instead of an infinite one (jest.config.js maps
// the package here). On a shared test host a process can be starved for a whole second: the
// plugin then sets its delay to Infinity, whatever ADVPROBE_MAX_EVENT_LOOP_DELAY_MS says, and
// answers every request of the next second with 503 overloaded (28 of field-parity's cases in
// one run here, others in the baseline). A real stall still has samples: its delay is measured
// and compared with the limit as before (test/http/overload.test.ts).
const path = require('node:path');
const perfHooks = require('node:perf_hooks');

const monitor = perfHooks.monitorEventLoopDelay;
perfHooks.monitorEventLoopDelay = (options) => {
  const histogram = monitor(options);
  return new Proxy(histogram, {
    get(target, property) {
      if (property === 'mean') return Number.isNaN(target.mean) ? 0 : target.mean;
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
};
try {
  // By path: the package name itself is mapped to this file.
  module.exports = require(path.join(__dirname, '..', '..', 'node_modules', '@fastify', 'under-pressure', 'index.js'));
} finally {
  perfHooks.monitorEventLoopDelay = monitor;
}
