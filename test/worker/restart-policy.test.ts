// The restart policy for a dead engine worker: restarts with the model while deaths are rare, one
// bare worker once they come in a burst, nothing after that; old deaths stop counting.
import { describe, expect, it } from 'vitest';
import { RestartPolicy } from '../../src/worker/restart-policy.ts';

describe('RestartPolicy', () => {
  it('reloads twice, then starts a bare worker, then stops, within one minute', () => {
    let t = 0;
    const p = new RestartPolicy({ now: () => t });
    const decisions = [0, 1_000, 2_000, 3_000, 4_000].map((at) => { t = at; return p.onDeath(); });
    expect(decisions).toEqual(['reload', 'reload', 'bare', 'stop', 'stop']);
  });

  it('deaths spread wider than the window always reload', () => {
    let t = 0;
    const p = new RestartPolicy({ now: () => t, windowMs: 60_000 });
    for (let i = 0; i < 10; i++) {
      t = i * 61_000;
      expect(p.onDeath()).toBe('reload');
      expect(p.recentDeaths).toBe(1);
    }
  });

  it('a burst forgotten once the window has passed reloads again', () => {
    let t = 0;
    const p = new RestartPolicy({ now: () => t, maxRestarts: 1, windowMs: 10_000 });
    expect(p.onDeath()).toBe('reload');
    t = 5_000;
    expect(p.onDeath()).toBe('bare');
    t = 14_000; // the first death is out of the window, the second is not
    expect(p.onDeath()).toBe('bare');
    t = 30_000;
    expect(p.onDeath()).toBe('reload');
  });
});
