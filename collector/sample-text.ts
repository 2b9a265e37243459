/**
 * The exporters' samples as Prometheus text, written directly into the scrape's body
 * buffer: one pass over each instance's samples per scrape, each series one line.
 * prom-client stays the registry of HomeStation's own and the process metrics; for
 * bulk device series (20,000 and more) its per-series label objects and hashing cost
 * several times the formatting (see docs/benchmarks.md, bench:scrape).
 *
 * The output is what prom-client writes for the same samples: HELP and TYPE for every
 * declared family (also without series), `exporter_instance` first, then the sample's
 * labels in order, values as prom-client formats them. A sample whose labels do not
 * match its catalogue entry, or a second sample of the same series, is dropped and
 * said once.
 */
import type { Logger } from 'pino';
import { BodyBuffer } from './body-buffer.js';
import { RENDERED, type MetricSpec, type Sample } from './contract.js';

export interface SampleSource {
  readonly exporter: string;
  readonly instance: string;
  readonly samples: readonly Sample[];
}

/** HELP text escaping of the text format: backslash and newline. */
const escapeHelp = (s: string) => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
/** Label value escaping: backslash, double quote, newline. */
const NEEDS_ESCAPE = /[\\"\n]/;
const escapeValue = (s: string) => (NEEDS_ESCAPE.test(s) ? s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : s);

/**
 * Flattens a string built by concatenation (V8 keeps it as a rope, and every join
 * walks the rope again): a number conversion flattens it in place, as flatstr does.
 * Done once for a line that is kept and written at every scrape.
 */
function flat(s: string): string {
  _flattened = (s as unknown as number) | 0;
  return s;
}
let _flattened = 0;

/** A value as prom-client writes it. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function labelsMatch(spec: MetricSpec, labels: Readonly<Record<string, string>>): boolean {
  let n = 0;
  for (const k in labels) {
    n += 1;
    if (typeof labels[k] !== 'string' || !spec.labels.includes(k)) return false;
  }
  return n === spec.labels.length;
}

const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});

/**
 * A sample object's line, kept on the object while it lives (under RENDERED, which kept
 * samples declare when made: see contract.ts): an exporter that keeps its sample
 * objects across scrapes (a pull instance's last collection; the MQTT state's values,
 * updated in place) has a series rendered again only when its value changed. A symbol
 * property, not a WeakMap: a WeakMap of 30,000 entries cost more in lookups and
 * garbage collection than the lines it saved.
 */
type Keeps = { [RENDERED]?: Rendered };

/** A family's series of the current scrape: `items[0..n)`, the array kept across scrapes. */
interface KeptList {
  readonly spec: MetricSpec;
  readonly items: Rendered[];
  n: number;
}

/** What was rendered for a sample object, reused while its value is the same. */
interface Rendered {
  metric: string;
  instance: string;
  labelText: string;
  value: number;
  line: string;
}

export class SampleText {
  private readonly warned = new Set<string>();
  /**
   * A labels object's rendered text (`,k="v",...}`), kept while the object lives: an
   * exporter that keeps one labels object per series (the MQTT state does) has each
   * series' labels escaped and joined once, not at every scrape.
   */
  private readonly labelText = new WeakMap<object, string>();
  /** The spec a labels object was last checked against. */
  private readonly checked = new WeakMap<object, MetricSpec>();
  /** Per exporter kind, per metric: the kept list (see listsOf). */
  private readonly lists = new Map<string, Map<string, KeptList>>();


  /**
   * @param families per exporter kind, its metric specs in exposition order (the
   * catalogue, then what instance configs declare).
   */
  constructor(
    private readonly families: ReadonlyMap<string, readonly MetricSpec[]>,
    private readonly log: Logger,
  ) {}

  private warnOnce(key: string, fields: Record<string, unknown>, msg: string): void {
    if (this.warned.has(key) || this.warned.size >= 200) return;
    this.warned.add(key);
    this.log.error(fields, msg);
  }

  private textOf(labels: Readonly<Record<string, string>>): string {
    let t = this.labelText.get(labels);
    if (t === undefined) {
      t = '';
      for (const k in labels) t += `,${k}="${escapeValue(labels[k] as string)}"`;
      t = flat(`${t}}`);
      this.labelText.set(labels, t);
    }
    return t;
  }

  /** The families as a string (`homestation collect`, tests); a scrape writes them with `write`. */
  render(sources: readonly SampleSource[]): string {
    const out = new BodyBuffer();
    this.write(sources, out);
    return out.toString();
  }

  /**
   * Every family, each `# HELP`, `# TYPE`, its lines, a blank line between families,
   * as prom-client writes them. Nothing is written when there are no families.
   */
  write(sources: readonly SampleSource[], out: BodyBuffer): void {
    let first = true;
    for (const [exporter, specs] of this.families) {
      const bySpec = this.listsOf(exporter, specs);
      for (const l of bySpec.values()) l.n = 0;
      /** Per metric, its series rendered afresh this scrape: only those can be a duplicate. */
      let fresh: Map<string, Rendered[]> | undefined;
      for (const src of sources) {
        if (src.exporter !== exporter) continue;
        const head = `{exporter_instance="${escapeValue(src.instance)}"`;
        for (const s of src.samples) {
          const done = (s as Keeps)[RENDERED];
          let r: Rendered;
          if (done !== undefined && done.metric === s.metric && done.instance === src.instance) {
            r = done;
            if (!Object.is(r.value, s.value)) {
              r.value = s.value;
              r.line = flat(`${s.metric}${head}${r.labelText} ${formatValue(s.value)}`);
            }
          } else {
            const l = bySpec.get(s.metric);
            const labels = s.labels ?? NO_LABELS;
            if (!l || typeof s.value !== 'number' || (this.checked.get(labels) !== l.spec && !this.check(l.spec, labels))) {
              this.warnOnce(`${exporter}/${s.metric}`, { exporter, metric: s.metric, labels }, 'sample does not match its catalogue entry; dropped');
              continue;
            }
            const labelText = this.textOf(labels);
            r = { metric: s.metric, instance: src.instance, labelText, value: s.value, line: flat(`${s.metric}${head}${labelText} ${formatValue(s.value)}`) };
            if (Object.isExtensible(s)) (s as Keeps)[RENDERED] = r;
            fresh ??= new Map();
            const f = fresh.get(s.metric);
            if (f) f.push(r);
            else fresh.set(s.metric, [r]);
          }
          const l = bySpec.get(s.metric) as KeptList;
          l.items[l.n++] = r;
        }
      }
      for (const spec of specs) {
        if (!first) out.write('\n'); // the blank line between families
        first = false;
        out.line(`# HELP ${spec.name} ${escapeHelp(spec.help)}`);
        out.line(`# TYPE ${spec.name} ${spec.type}`);
        const l = bySpec.get(spec.name) as KeptList;
        // Fewer series than last time: what is past them is let go, not kept alive.
        if (l.items.length > l.n) l.items.length = l.n;
        if (l.n === 0) continue;
        const f = fresh?.get(spec.name);
        const kept = f ? this.unique(exporter, spec.name, l.items, f) : l.items;
        for (let i = 0; i < kept.length; i++) out.line((kept[i] as Rendered).line);
      }
    }
  }

  /**
   * The lists a scrape collects each family's series into, kept from one scrape to the
   * next and written by index: built anew at each scrape they were most of a scrape's
   * garbage at 20,000 series (V8's sampling heap profiler, collected objects included).
   */
  private listsOf(exporter: string, specs: readonly MetricSpec[]): Map<string, KeptList> {
    let m = this.lists.get(exporter);
    if (!m) {
      m = new Map(specs.map((spec) => [spec.name, { spec, items: [], n: 0 }]));
      this.lists.set(exporter, m);
    }
    return m;
  }

  /**
   * A family's series with one given twice kept once (the first), and said. Only a
   * series rendered afresh can be a second one (the others were unique when first
   * rendered): the family is scanned for the fresh ones' labels alone, with no set of
   * every series built per scrape (that was most of a scrape's garbage while Home
   * Assistant's states changed under it).
   */
  private unique(exporter: string, metric: string, list: Rendered[], fresh: readonly Rendered[]): Rendered[] {
    const seen = new Map<string, Map<string, number>>();
    for (const r of fresh) {
      let m = seen.get(r.instance);
      if (!m) seen.set(r.instance, (m = new Map()));
      m.set(r.labelText, 0);
    }
    let dup = false;
    for (const r of list) {
      const m = seen.get(r.instance);
      const n = m?.get(r.labelText);
      if (n === undefined) continue;
      (m as Map<string, number>).set(r.labelText, n + 1);
      if (n > 0) dup = true;
    }
    if (!dup) return list;
    this.warnOnce(`dup:${exporter}/${metric}`, { exporter, metric }, 'an exporter gave a series twice; the first is kept');
    const firsts = new Map<string, Set<string>>();
    return list.filter((r) => {
      if (!seen.get(r.instance)?.has(r.labelText)) return true;
      let f = firsts.get(r.instance);
      if (!f) firsts.set(r.instance, (f = new Set()));
      if (f.has(r.labelText)) return false;
      f.add(r.labelText);
      return true;
    });
  }

  private check(spec: MetricSpec, labels: Readonly<Record<string, string>>): boolean {
    if (!labelsMatch(spec, labels)) return false;
    if (labels !== NO_LABELS) this.checked.set(labels, spec);
    return true;
  }
}
