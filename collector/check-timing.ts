/**
 * `homestation check-timing`: for every alert the remediator acts on
 * (remediate="true"), the worst-case time from the fault to the webhook, read from
 * the Prometheus, rule and Alertmanager configs, and whether it leaves enough of
 * the 120 s recovery target for the action and its recovery check.
 *
 * worst case = scrape interval + scrape timeout (a hung service answers nothing)
 *            + evaluation interval (until a rule sees the failed sample: pending)
 *            + `for` rounded up to whole evaluation intervals (it fires at the first
 *              evaluation at least `for` after the pending one: exactly `for` later
 *              when `for` is a multiple of the interval, no extra evaluation)
 *            + group_wait of the Alertmanager route that takes the alert
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve, basename } from 'node:path';
import { parse } from 'yaml';
import picomatch from 'picomatch';
import { parseDuration } from './duration.js';

export const TARGET_SECONDS = 120;

export interface AlertTiming {
  readonly alert: string;
  readonly job: string | undefined;
  readonly parts: Readonly<Record<string, number>>;
  readonly worstSeconds: number;
  readonly leftSeconds: number;
  readonly ok: boolean;
}

interface PromConfig {
  global?: { scrape_interval?: string; scrape_timeout?: string; evaluation_interval?: string };
  rule_files?: string[];
  scrape_configs?: { job_name: string; scrape_interval?: string; scrape_timeout?: string }[];
}
interface RuleGroup { name: string; interval?: string; rules: { alert?: string; expr: string; for?: string; labels?: Record<string, string> }[] }
interface Route { receiver?: string; matchers?: string[]; group_wait?: string; continue?: boolean; routes?: Route[] }

const seconds = (d: string | undefined, fallback: string) => parseDuration(d ?? fallback) / 1000;

function matches(matcher: string, labels: Record<string, string>): boolean {
  const m = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"?(.*?)"?\s*$/.exec(matcher);
  if (!m) return false;
  const [, name, op, value] = m as unknown as [string, string, string, string];
  const v = labels[name] ?? '';
  switch (op) {
    case '=':
      return v === value;
    case '!=':
      return v !== value;
    case '=~':
      return new RegExp(`^(?:${value})$`).test(v);
    default:
      return !new RegExp(`^(?:${value})$`).test(v);
  }
}

/** group_wait of the first route (depth first, as Alertmanager) that takes these labels. */
export function groupWaitFor(route: Route, labels: Record<string, string>, inherited = '30s'): number {
  const own = route.group_wait ?? inherited;
  for (const child of route.routes ?? []) {
    if ((child.matchers ?? []).every((m) => matches(m, labels))) return groupWaitFor(child, labels, own);
  }
  return seconds(own, '30s');
}

function ruleFiles(promFile: string, config: PromConfig): string[] {
  const base = dirname(promFile);
  return (config.rule_files ?? []).flatMap((pattern) => {
    const abs = resolve(base, pattern);
    const isMatch = picomatch(basename(abs));
    return readdirSync(dirname(abs))
      .filter((f) => isMatch(f))
      .map((f) => join(dirname(abs), f));
  });
}

export function checkTiming(promFile: string, amFile: string, actionBudgetSeconds = 30): AlertTiming[] {
  const prom = parse(readFileSync(promFile, 'utf8')) as PromConfig;
  const am = parse(readFileSync(amFile, 'utf8')) as { route: Route };
  const globalScrape = prom.global?.scrape_interval ?? '1m';
  const globalTimeout = prom.global?.scrape_timeout ?? '10s';
  const globalEval = prom.global?.evaluation_interval ?? '1m';
  const out: AlertTiming[] = [];
  for (const file of ruleFiles(promFile, prom)) {
    const groups = (parse(readFileSync(file, 'utf8')) as { groups: RuleGroup[] }).groups;
    for (const g of groups) {
      for (const r of g.rules) {
        if (!r.alert || r.labels?.remediate !== 'true') continue;
        const job = /job\s*=\s*"([^"]+)"/.exec(r.expr)?.[1];
        const sc = prom.scrape_configs?.find((s) => s.job_name === job);
        const evaluation = seconds(g.interval, globalEval);
        const parts = {
          scrape_interval: seconds(sc?.scrape_interval, globalScrape),
          scrape_timeout: seconds(sc?.scrape_timeout, globalTimeout),
          first_evaluation: evaluation,
          for: Math.ceil(seconds(r.for, '0s') / evaluation) * evaluation,
          group_wait: groupWaitFor(am.route, { alertname: r.alert, ...r.labels }),
        };
        const worst = Object.values(parts).reduce((a, b) => a + b, 0);
        out.push({ alert: r.alert, job, parts, worstSeconds: worst, leftSeconds: TARGET_SECONDS - worst, ok: TARGET_SECONDS - worst >= actionBudgetSeconds });
      }
    }
  }
  return out;
}

export function formatTiming(rows: readonly AlertTiming[], actionBudgetSeconds: number): string {
  const lines = rows.map((r) => {
    const parts = Object.entries(r.parts)
      .map(([k, v]) => `${k} ${v}s`)
      .join(' + ');
    return `${r.ok ? 'OK  ' : 'FAIL'} ${r.alert} (job ${r.job ?? '?'}): ${parts} = ${r.worstSeconds}s to the webhook; leaves ${r.leftSeconds}s of ${TARGET_SECONDS}s (need ${actionBudgetSeconds}s for action and check)`;
  });
  return `${lines.join('\n')}\n`;
}
