/** Kept samples: the same object while the series lives, its labels made again only when their source changed. */
import { describe, expect, it } from 'vitest';
import { KeptSamples } from './kept-samples.js';

describe('KeptSamples', () => {
  it('keeps one sample object per series, updates its value, remakes labels from a new source, and sweeps what went', () => {
    const kept = new KeptSamples();
    let made = 0;
    const labels = (id: string) => () => {
      made += 1;
      return { device_id: id };
    };
    const source = { name: 'a' };
    kept.begin();
    const a1 = kept.sample('a', 'm', 1, source, labels('a'));
    const b1 = kept.sample('b', 'm', 5, undefined, labels('b'));
    kept.sweep();
    kept.begin();
    const a2 = kept.sample('a', 'm', 2, source, labels('a'));
    kept.sweep();
    expect(a2).toBe(a1);
    expect(a2.value).toBe(2);
    expect(made).toBe(2);
    expect(kept.size).toBe(1); // b was not given again
    kept.begin();
    const a3 = kept.sample('a', 'm', 2, { name: 'a renamed' }, labels('a'));
    const b2 = kept.sample('b', 'm', 5, undefined, labels('b'));
    kept.sweep();
    expect(a3).not.toBe(a1);
    expect(b2).not.toBe(b1);
    expect(made).toBe(4);
  });
});
