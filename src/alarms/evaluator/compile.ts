import type { CodeClass } from '../catalog-file.js';
import type { AlarmCode } from '../code-catalog.js';
import {
  alertLabels,
  alertName,
  classRule,
  evaluationRangeMs,
  type ErrorCodeRuleOptions,
} from '../../dashboards/error-code-rules.js';
import type { RuleTiming } from './alert-state.js';
import type { CodeRule } from './rule-eval.js';

export type CompiledCodeRule = CodeRule & { timing: RuleTiming };

/** The same rules `overseer generate` writes for Prometheus, in the form the built-in evaluator runs. */
export function compileCodeRules(
  codes: readonly AlarmCode[],
  opts: ErrorCodeRuleOptions,
): CompiledCodeRule[] {
  return codes
    .filter((c) => c.alert)
    .map((c) => {
      const rule = classRule(c.class as Exclude<CodeClass, 'ignore'>, opts.classes);
      return {
        alert: alertName(c.code),
        code: String(c.code),
        rangeMs: evaluationRangeMs(opts.scrapeIntervalMs),
        threshold: rule.threshold,
        labels: alertLabels(c, opts.classes),
        timing: { forMs: rule.forMs, keepFiringForMs: rule.keepFiringForMs },
      };
    });
}
