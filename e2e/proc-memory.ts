// Memory of the Chromium processes this test process started, read from /proc (Linux): the browser
// and its renderers (the page, its engine worker and the quantize workers share one renderer).
import { readdirSync, readFileSync } from 'node:fs';

export interface ChromiumProcess { pid: number; kind: string }

function children(): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      // the ppid is the 2nd field after the parenthesised name, which may itself hold spaces
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      out.set(ppid, [...(out.get(ppid) ?? []), Number(d)]);
    } catch { /* gone */ }
  }
  return out;
}

/** Chromium processes below this one, with their --type (browser when none). */
export function chromiumProcesses(root = process.pid): ChromiumProcess[] {
  const kids = children();
  const found: ChromiumProcess[] = [];
  const walk = (pid: number): void => {
    for (const c of kids.get(pid) ?? []) {
      try {
        // Chromium rewrites its argv into one space-separated string, so split on both
        const cmd = readFileSync(`/proc/${c}/cmdline`, 'utf8').split(/[\0 ]/);
        if (/chrom/i.test(cmd[0] ?? '')) found.push({ pid: c, kind: cmd.find((a) => a.startsWith('--type='))?.slice(7) ?? 'browser' });
      } catch { /* gone */ }
      walk(c);
    }
  };
  walk(root);
  return found;
}

/** VmRSS, its anonymous part (RssAnon: heap, not mapped files) and VmHWM (peak), in bytes; zeros once it has exited. */
export function processMemory(pid: number): { rss: number; anon: number; hwm: number } {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? 0) * 1024;
    return { rss: kib('VmRSS'), anon: kib('RssAnon'), hwm: kib('VmHWM') };
  } catch {
    return { rss: 0, anon: 0, hwm: 0 };
  }
}

/** Samples the summed RSS of each process kind every `ms` until stopped; returns the maxima. */
export function sampleMemory(ms = 100): { stop(): Map<string, number> } {
  const peak = new Map<string, number>();
  const tick = (): void => {
    for (const [k, v] of memoryNow()) peak.set(k, Math.max(peak.get(k) ?? 0, v));
  };
  tick();
  const timer = setInterval(tick, ms);
  return { stop: () => { clearInterval(timer); tick(); return peak; } };
}

/** The summed RSS of each process kind now. */
export function memoryNow(): Map<string, number> {
  const sum = new Map<string, number>();
  for (const p of chromiumProcesses()) {
    const m = processMemory(p.pid);
    sum.set(p.kind, (sum.get(p.kind) ?? 0) + m.rss);
    sum.set(`${p.kind}.anon`, (sum.get(`${p.kind}.anon`) ?? 0) + m.anon);
  }
  return sum;
}
