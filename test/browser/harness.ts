// The browser harness lives with the CLI's --browser runner; tests import it from here. openDawn:
// the same contract in Node on Dawn, for the WebGPU checks that run in both hosts.
import { openBrowser, type BrowserHarness, type HarnessOptions } from '../../src/cli/browser-harness.ts';
import { openDawn } from './dawn-harness.ts';

export { openBrowser, openDawn, type BrowserHarness, type HarnessOptions };

/** Where shared WebGPU checks run (describe.each): Chromium, the app's path, and Node on Dawn. */
export function webgpuHosts(opts: HarnessOptions = {}): [string, () => Promise<BrowserHarness>][] {
  return [['Chromium', () => openBrowser(opts)], ['Node (Dawn)', openDawn]];
}
