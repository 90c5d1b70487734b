import { describe, expect, it } from 'vitest';
import { ProgressMeter, type TransferProgress } from '../../src/storage/quota.ts';

describe('ProgressMeter', () => {
  it('reports speed over the recent window, an ETA, throttles, and always reports the end', () => {
    const seen: TransferProgress[] = [];
    const meter = new ProgressMeter(10_000, (p) => seen.push(p), 3000, 100);
    meter.update(0, 0);
    meter.update(500, 50); // within 100 ms of the last report: skipped
    meter.update(1000, 1000);
    expect(seen.map((p) => p.loaded)).toEqual([0, 1000]);
    expect(seen[0]).toMatchObject({ bytesPerSec: 0, etaSec: Infinity });
    expect(seen[1]).toMatchObject({ total: 10_000, bytesPerSec: 1000, etaSec: 9 });
    meter.update(3000, 2000);
    meter.update(9000, 5000); // window drops the samples at 0 and 50 ms: speed over 1000..5000 ms
    expect(seen.at(-1)).toMatchObject({ loaded: 9000, bytesPerSec: 2000, etaSec: 0.5 });
    meter.update(10_000, 5001); // the end is reported even inside the throttle interval
    expect(seen.at(-1)).toMatchObject({ loaded: 10_000, etaSec: 0 });
  });
});
