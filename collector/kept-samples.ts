/**
 * Sample objects kept per series from one snapshot to the next, their value updated in
 * place: the exposition keeps each sample object's rendered line and writes it again
 * only when the value changed (sample-text.ts), and checks and escapes a labels
 * object once. For series an exporter derives afresh at every scrape (per-device
 * health from entity states, say) instead of keeping them itself.
 */
import { keptSample, type KeptSample, type Sample } from './contract.js';

type Labels = Readonly<Record<string, string>>;

interface Entry {
  readonly sample: KeptSample;
  /** What the labels were made of: another object there makes them again. */
  from: unknown;
  round: number;
}

export class KeptSamples {
  private readonly kept = new Map<string, Entry>();
  private round = 0;

  /** Starts a snapshot: a series not given again before `sweep` is dropped there. */
  begin(): void {
    this.round += 1;
  }

  /**
   * The kept sample of `key` (unique per series) with `value`. `labels` is called when
   * the series is new or `from` (the object its labels are read from) is another one.
   */
  sample(key: string, metric: string, value: number, from: unknown, labels: () => Labels): Sample {
    let e = this.kept.get(key);
    if (e === undefined || e.from !== from || e.sample.metric !== metric) {
      e = { sample: keptSample(metric, labels(), value), from, round: this.round };
      this.kept.set(key, e);
    } else {
      e.sample.value = value;
      e.round = this.round;
    }
    return e.sample;
  }

  /** Forgets the series not given since `begin`. */
  sweep(): void {
    // forEach, not for-of over entries: no [key, value] array per kept sample per scrape.
    this.kept.forEach((e, k, kept) => {
      if (e.round !== this.round) kept.delete(k);
    });
  }

  get size(): number {
    return this.kept.size;
  }
}
