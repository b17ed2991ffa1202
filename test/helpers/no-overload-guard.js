// The http tier's stand-in for @fastify/under-pressure (jest.config.js maps it there). Its one
// check in this app, the event-loop delay, measures the test itself on that tier: the tiny
// engine computes on the event loop, and on a busy machine a starved test process can go a
// whole sampling second without a tick, which under-pressure reads as an infinite delay and
// answers every request of the next second with 503 overloaded, whatever the limit (seen in
// field-parity and the validation suites). The guard stays in every other tier.
const fp = require('fastify-plugin');

const noOverloadGuard = fp(async () => {}, { fastify: '5.x', name: '@fastify/under-pressure' });
module.exports = noOverloadGuard;
module.exports.default = noOverloadGuard;
