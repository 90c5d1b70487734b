// Setup file of the e2e suite: any Content-Security-Policy violation during a test file fails it
// (the app must run under its own policy, scripts/csp.mjs, with nothing blocked).
import { afterAll } from 'vitest';
import { cspViolations } from './harness.ts';

afterAll(async () => {
  // reports are posted by the browser a moment after the violation
  await new Promise((r) => setTimeout(r, 200));
  if (cspViolations.length) throw new Error(`Content-Security-Policy violations:\n${[...new Set(cspViolations)].join('\n')}`);
});
