#!/usr/bin/env node
// `npx bloomsight …`: runs the TypeScript CLI through tsx (no build step).
require('tsx/cjs');
require('./main.ts');
