import { readFileSync } from 'node:fs'
import t from 'tap'
import { parse } from 'yaml'
import { build } from '../helpers/build-app.js'

/**
 * ops/alerts.yaml: a Prometheus rule file (groups, rules with alert, expr,
 * for, labels, annotations) whose every tessera_* metric is one GET /metrics
 * exposes. promtool is not here: this checks the YAML, the shape of each rule
 * and the names its expression uses.
 */

interface Rule { alert?: unknown, expr?: unknown, for?: unknown, labels?: Record<string, unknown>, annotations?: Record<string, unknown> }

const text = readFileSync(new URL('../../ops/alerts.yaml', import.meta.url), 'utf8')
const DURATION = /^\d+[smhdwy]$/

/** The metric families an expression names: tessera_ tokens, a histogram's or summary's series back to their family. */
export function familiesIn (expr: string): string[] {
  return [...new Set([...expr.matchAll(/\btessera_[a-z0-9_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, '')))]
}

t.test('familiesIn reads an expression\'s families', async (t) => {
  t.same(familiesIn('histogram_quantile(0.95, sum by (le) (rate(tessera_http_request_duration_seconds_bucket[5m]))) > max(tessera_up)'), ['tessera_http_request_duration_seconds', 'tessera_up'])
  t.same(familiesIn('up == 0'), [])
})

t.test('ops/alerts.yaml is a Prometheus rule file: groups of rules, each with alert, expr, labels.severity and annotations.summary', async (t) => {
  const document = parse(text) as { groups?: Array<{ name?: unknown, rules?: Rule[] }> }
  t.ok(Array.isArray(document.groups) && document.groups.length > 0, 'groups')
  const names = new Set<string>()
  for (const group of document.groups ?? []) {
    t.type(group.name, 'string', 'a group name')
    t.ok(Array.isArray(group.rules) && group.rules.length > 0, `${String(group.name)}: rules`)
    for (const rule of group.rules ?? []) {
      const name = String(rule.alert)
      t.match(name, /^[A-Z][A-Za-z0-9]+$/, `${name}: an alert name`)
      t.notOk(names.has(name), `${name}: once`)
      names.add(name)
      t.ok(Object.keys(rule).every((key) => ['alert', 'expr', 'for', 'labels', 'annotations', 'keep_firing_for'].includes(key)), `${name}: only the rule file's keys`)
      t.type(rule.expr, 'string', `${name}: an expression`)
      if (rule.for !== undefined) t.match(String(rule.for), DURATION, `${name}: a duration in "for"`)
      t.ok(['page', 'ticket', 'info'].includes(String(rule.labels?.severity)), `${name}: a severity`)
      t.type(rule.annotations?.summary, 'string', `${name}: a summary`)
      // Brackets and parentheses balance: a cheap stand-in for promtool's parser.
      const expr = String(rule.expr)
      const stack: string[] = []
      let balanced = true
      for (const c of expr.replace(/"(?:[^"\\]|\\.)*"/g, '""')) {
        if ('([{'.includes(c)) stack.push(c)
        else if (')]}'.includes(c) && stack.pop() !== '([{'[')]}'.indexOf(c)]) balanced = false
      }
      t.ok(balanced && stack.length === 0, `${name}: balanced brackets`)
    }
  }
  for (const needed of ['TesseraJobQueueStuck', 'TesseraWebhookDeliveriesFailed', 'TesseraStatusListNearlyFull', 'TesseraHighServerErrorRate', 'TesseraDatabaseErrors', 'TesseraDatabaseDown']) t.ok(names.has(needed), `${needed} is there`)
})

t.test('every tessera_* metric the rules use is a family GET /metrics exposes', async (t) => {
  const app = await build(t, { env: { METRICS_TOKEN: 'metrics-token-0123456789abcdefghijklmnopqrstuv' } })
  const response = await app.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer metrics-token-0123456789abcdefghijklmnopqrstuv' } })
  t.equal(response.statusCode, 200)
  const exposed = new Set([...response.body.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!))
  t.ok(exposed.has('tessera_up'), 'the exposition lists its families')
  const document = parse(text) as { groups: Array<{ rules: Rule[] }> }
  let checked = 0
  for (const rule of document.groups.flatMap((group) => group.rules)) {
    const families = familiesIn(String(rule.expr))
    for (const family of families) {
      checked++
      t.ok(exposed.has(family), `${String(rule.alert)}: ${family} is exposed`)
    }
  }
  t.ok(checked >= 15, `${checked} names checked`)
})
