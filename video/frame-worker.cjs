// Entry of a frame worker thread (see frame-client.ts). A worker thread inherits no TypeScript
// loader from vitest, which transforms modules in-process, so tsx is registered here, as in cli/bin.js.
require('tsx/cjs');
const { parentPort } = require('node:worker_threads');
const { serveFrames } = require('./frame-server.ts');

// One message per chunk: the port its session runs on.
parentPort.on('message', ({ port }) => void serveFrames(port));
