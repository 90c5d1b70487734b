// The browser harness lives with the CLI's --browser runner; tests import it from here.
export { openBrowser, type BrowserHarness, type HarnessOptions } from '../../src/cli/browser-harness.ts';
