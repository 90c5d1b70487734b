// The browser harness lives with the CLI's --browser runner; tests import it from here. openDawn:
// the same contract in Node on Dawn, for the WebGPU checks that run in both hosts.
export { openBrowser, type BrowserHarness, type HarnessOptions } from '../../src/cli/browser-harness.ts';
export { openDawn } from './dawn-harness.ts';
