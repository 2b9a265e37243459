/**
 * Metric names used by PromQL expressions, through the Prometheus project's own
 * parser (lezer-promql), for the test that dashboards and rules only use series
 * that exist.
 */
import { parser } from '@prometheus-io/lezer-promql';

export interface ParsedExpr {
  readonly names: string[];
  readonly error: boolean;
}

export function metricNames(expr: string): ParsedExpr {
  const names: string[] = [];
  let error = false;
  parser.parse(expr).iterate({
    enter(node) {
      if (node.type.isError) error = true;
      if (node.name === 'VectorSelector') {
        const id = node.node.getChild('Identifier');
        if (id) names.push(expr.slice(id.from, id.to));
        const matchers = node.node.getChild('LabelMatchers');
        if (matchers) {
          const text = expr.slice(matchers.from, matchers.to);
          for (const m of text.matchAll(/__name__\s*=\s*"([^"]+)"/g)) names.push(m[1] as string);
        }
      }
    },
  });
  return { names, error };
}
