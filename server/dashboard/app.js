// The driftwatch dashboard: plain JS over the JSON API (server/dashboard-api.ts), charts
// by uPlot (served from the package). Every piece of data goes into the page as text
// (textContent), never as HTML. Writes send JSON with the session cookie; the endpoint
// checks Origin, Content-Type and the token (docs/security.md).

const app = document.getElementById('app')

function h(tag, attrs, ...children) {
  const el = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'on') for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn)
    else if (v !== undefined && v !== null && v !== false) el.setAttribute(k, v === true ? '' : String(v))
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue
    el.append(c instanceof Node ? c : document.createTextNode(String(c)))
  }
  return el
}

async function api(path, options = {}) {
  const response = await fetch(path, {
    credentials: 'same-origin',
    ...options,
    headers: options.body
      ? { 'content-type': 'application/json', ...(options.headers || {}) }
      : options.headers,
  })
  const text = await response.text()
  if (!response.ok) {
    let detail
    try {
      detail = JSON.parse(text)
    } catch {
      detail = { error: text }
    }
    const error = new Error(detail.error || `HTTP ${response.status}`)
    error.status = response.status
    error.fix = detail.fix
    throw error
  }
  return options.raw ? text : text ? JSON.parse(text) : null
}

const fmt = (v, digits = 4) =>
  v === null || v === undefined
    ? '–'
    : typeof v === 'number'
      ? Number.isInteger(v)
        ? String(v)
        : v.toFixed(digits)
      : String(v)
// p-values far below 1e-4 stay readable (2.8e-35, not 0.0000).
const fmtP = (v) => (typeof v === 'number' && v > 0 && v < 1e-4 ? v.toExponential(1) : fmt(v))
// A one-sided test has one bound: show it as >= low or <= high, not "low – –".
const fmtCi = (low, high) =>
  low === null || low === undefined
    ? high === null || high === undefined
      ? '–'
      : `≤ ${fmt(high)}`
    : high === null || high === undefined
      ? `≥ ${fmt(low)}`
      : `${fmt(low)} – ${fmt(high)}`
const status = (s) => h('span', { class: `status ${s}` }, s)
const scopeText = (s) => (s ? [s.model_version, s.variant_id, s.segment, s.modality].join(' / ') : '')
const when = (ms) => (ms ? new Date(ms).toISOString().replace('T', ' ').slice(0, 19) : '–')

function table(columns, rows, attrs = {}) {
  return h(
    'table',
    attrs,
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        columns.map((c) => h('th', {}, c.label)),
      ),
    ),
    h(
      'tbody',
      {},
      rows.length === 0
        ? h('tr', {}, h('td', { colspan: columns.length, class: 'muted' }, 'none'))
        : rows.map((r) =>
            h(
              'tr',
              {},
              columns.map((c) => h('td', {}, c.cell(r))),
            ),
          ),
    ),
  )
}

function showError(error) {
  const parts = [h('p', { class: 'error' }, error.message)]
  if (error.fix) parts.push(h('p', { class: 'muted' }, error.fix))
  if (error.status === 401) parts.push(signInForm())
  return h('div', { class: 'problem' }, parts)
}

function signInForm() {
  const input = h('input', { type: 'password', name: 'token', placeholder: 'token', autocomplete: 'off' })
  const message = h('span', { class: 'muted' })
  return h(
    'form',
    {
      class: 'inline signin',
      on: {
        submit: async (event) => {
          event.preventDefault()
          try {
            await api('/auth/login', { method: 'POST', body: JSON.stringify({ token: input.value }) })
            input.value = ''
            await whoami()
            route()
          } catch (error) {
            message.textContent = error.message
          }
        },
      },
    },
    'Sign in with the admin or reader token (local mode: the token in <data_dir>/token):',
    input,
    h('button', { type: 'submit' }, 'Sign in'),
    message,
  )
}

async function whoami() {
  const who = document.getElementById('who')
  try {
    const me = await api('/auth/whoami')
    who.textContent = `${me.mode} mode · ${me.role}`
  } catch (error) {
    who.textContent = error.status === 401 ? 'signed out' : ''
  }
}

// ---- pages ----

async function overview() {
  const o = await api('/api/overview')
  const c = o.last_cycle
  return [
    h('h1', {}, 'Overview'),
    h('h2', {}, 'Incidents (firing and pending)'),
    table(
      [
        { label: 'state', cell: (r) => status(r.status) },
        { label: 'rule', cell: (r) => h('a', { href: `#/rule/${encodeURIComponent(r.rule)}` }, r.rule) },
        { label: 'scope', cell: (r) => scopeText(r.scope) },
        { label: 'observed', cell: (r) => fmt(r.last?.observed) },
        { label: 'baseline', cell: (r) => fmt(r.last?.baseline) },
        { label: 'threshold', cell: (r) => fmt(r.last?.threshold) },
        { label: 'p-value', cell: (r) => fmtP(r.last?.p_value) },
        { label: 'since', cell: (r) => when(r.fired_at) },
      ],
      o.incidents,
      { id: 'incidents' },
    ),
    h('h2', {}, 'Versions'),
    h('p', {}, 'Last stable (rollback target): ', h('b', {}, o.last_stable ?? 'none recorded')),
    table(
      [
        { label: 'version', cell: (r) => r.model_version },
        { label: 'status', cell: (r) => status(r.status) },
        { label: 'verdict', cell: (r) => status(r.verdict) },
        { label: 'first seen', cell: (r) => r.first_seen ?? '–' },
      ],
      o.versions,
      { id: 'versions' },
    ),
    h('h2', {}, 'Ingest'),
    h(
      'div',
      { class: 'cards' },
      h('div', { class: 'card' }, h('b', {}, fmt(o.ingest.rows_per_second, 1)), 'rows/s (5 min)'),
      h('div', { class: 'card' }, h('b', {}, fmt(o.ingest.rows_last_hour)), 'rows last hour'),
      h('div', { class: 'card' }, h('b', {}, fmt(o.ingest.lag)), 'consumer lag'),
      h('div', { class: 'card' }, h('b', {}, fmt(o.ingest.dead_lettered_24h)), 'dead-lettered (24 h)'),
    ),
    h('h2', {}, 'Scoring (24 h)'),
    table(
      [
        { label: 'scorer', cell: (r) => r.scorer },
        { label: 'rows scored', cell: (r) => fmt(r.rows_24h) },
        { label: 'failures', cell: (r) => fmt(r.failures_24h) },
        { label: 'spend today', cell: (r) => `$${fmt(r.spend_today_usd)}` },
        {
          label: 'budget / day',
          cell: (r) => (r.budget_usd_per_day === null ? 'none' : `$${r.budget_usd_per_day}`),
        },
      ],
      o.scoring,
    ),
    h('h2', {}, 'Rules'),
    table(
      [
        { label: 'rule', cell: (r) => h('a', { href: `#/rule/${encodeURIComponent(r.rule)}` }, r.rule) },
        {
          label: 'scopes by state',
          cell: (r) => Object.entries(r.states).map(([s, n]) => h('span', {}, status(s), ` ${n} `)),
        },
      ],
      o.rules,
    ),
    h('h2', {}, 'Last evaluation cycle'),
    h(
      'p',
      { id: 'last-cycle' },
      c
        ? [
            status(c.status),
            ` started ${c.started_at}, finished ${c.finished_at ?? '(running)'} — ${c.message}`,
          ]
        : 'none yet',
    ),
  ]
}

function chart(target, title, xs, series, opts = {}) {
  const width = Math.min(1100, target.clientWidth || 900)
  const plot = new uPlot(
    {
      title,
      width,
      height: opts.height || 260,
      // p-values span many decades: a log scale (values floored at 1e-16) when asked.
      scales: { x: { time: true }, ...(opts.logY ? { y: { distr: 3, log: 10 } } : {}) },
      series: [
        {},
        ...series.map((s) => ({
          label: s.label,
          stroke: s.stroke,
          dash: s.dash,
          width: s.width || 1.5,
          points: { show: s.points ?? false },
          fill: s.fill,
        })),
      ],
      bands: opts.bands,
      axes: [
        {},
        opts.logY
          ? {
              size: 60,
              values: (_, ticks) =>
                ticks.map((t) => (t == null ? '' : t < 0.001 ? t.toExponential(0) : String(t))),
            }
          : { size: 60 },
      ],
    },
    [xs, ...series.map((s) => s.values)],
    target,
  )
  return plot
}

async function rulePage(name) {
  const r = await api(`/api/rule?name=${encodeURIComponent(name)}`)
  const charts = h('div', { id: 'charts' })
  // Referenced directly: the charts are drawn before the page is in the document.
  const pv = h('div', { id: 'pvalues' })
  const byScope = new Map(r.states.map((s) => [scopeText(s.scope), s]))
  const out = [
    h('h1', {}, `Rule ${r.rule.name}`),
    h(
      'p',
      { class: 'muted' },
      `${r.metric.name} (${r.metric.kind}, ${r.metric.unit}, worse when ${r.metric.worse}) · compare to ${JSON.stringify(r.rule.compare_to ?? 'absolute')} · action ${r.rule.action} · window ${when(r.window.from)} – ${when(r.window.to)}`,
    ),
    h('h2', {}, 'States by scope'),
    table(
      [
        { label: 'state', cell: (s) => status(s.status) },
        { label: 'scope', cell: (s) => scopeText(s.scope) },
        { label: 'observed', cell: (s) => fmt(s.last?.observed) },
        { label: 'baseline', cell: (s) => fmt(s.last?.baseline) },
        {
          label: 'limit',
          cell: (s) =>
            s.last ? `${s.last.comparison} ${fmt(s.last.threshold)} → ${fmt(limitOf(s.last))}` : '–',
        },
        { label: 'CI', cell: (s) => (s.last ? fmtCi(s.last.ci_low, s.last.ci_high) : '–') },
        { label: 'p-value', cell: (s) => fmtP(s.last?.p_value) },
        { label: 'n', cell: (s) => fmt(s.last?.n) },
        { label: 'message', cell: (s) => s.last?.message ?? '' },
      ],
      r.states,
      { id: 'states' },
    ),
    h(
      'h2',
      {},
      'Metric over time, per scope (95 % band per bucket; baseline and threshold of the last look)',
    ),
    charts,
    h('h2', {}, 'The test over time: p-value per evaluation cycle'),
    pv,
    h('h2', {}, 'Alerts'),
    table(
      [
        { label: 'state', cell: (a) => status(a.state) },
        { label: 'scope', cell: (a) => scopeText(a) },
        { label: 'observed', cell: (a) => fmt(a.observed) },
        { label: 'baseline', cell: (a) => fmt(a.baseline) },
        { label: 'threshold', cell: (a) => fmt(a.threshold) },
        { label: 'p-value', cell: (a) => fmtP(a.p_value) },
        { label: 'fired', cell: (a) => a.fired_at },
        { label: 'resolved', cell: (a) => a.resolved_at ?? '–' },
        { label: 'sent to', cell: (a) => (a.sent_to || []).join(', ') },
      ],
      r.alerts,
      { id: 'alerts' },
    ),
    h('h2', {}, 'Reproduce'),
    h('pre', { id: 'reproduce' }, r.reproduce_sql),
    h(
      'button',
      {
        on: {
          click: async (e) => {
            await navigator.clipboard?.writeText(r.reproduce_sql).catch(() => {})
            e.target.textContent = 'Copied'
          },
        },
      },
      'Copy SQL',
    ),
  ]
  // The limit in the metric's own unit: absolute rules as written; change rules on top of the baseline.
  function limitOf(last) {
    if (!last) return null
    const c = last.comparison
    if (c === 'above' || c === 'below' || last.baseline === null) return last.threshold
    const delta = c.endsWith('_pct') ? (Math.abs(last.baseline) * last.threshold) / 100 : last.threshold
    return c.startsWith('decrease') ? last.baseline - delta : last.baseline + delta
  }
  // Charts need the elements in the page to size themselves: draw after render.
  queueMicrotask(() => {
    for (const s of r.series) {
      const state = byScope.get(scopeText(s.scope))
      const xs = s.points.map((p) => p.t / 1000)
      const constant = (v) => xs.map(() => (v === null || v === undefined ? null : v))
      const box = h('div', { class: 'chart', 'data-scope': s.key })
      charts.append(box)
      chart(
        box,
        `${s.key}${state ? ` — ${state.status}` : ''}`,
        xs,
        [
          {
            label: r.metric.name,
            stroke: '#1a73e8',
            values: s.points.map((p) => p.value),
            width: 2,
            points: true,
          },
          { label: 'ci_low', stroke: '#9ab7e8', values: s.points.map((p) => p.ci_low) },
          { label: 'ci_high', stroke: '#9ab7e8', values: s.points.map((p) => p.ci_high) },
          { label: 'baseline', stroke: '#1e8e3e', dash: [6, 4], values: constant(state?.last?.baseline) },
          {
            label: 'threshold',
            stroke: '#d93025',
            dash: [2, 2],
            width: 2,
            values: constant(limitOf(state?.last)),
          },
        ],
        { bands: [{ series: [3, 2], fill: 'rgba(26,115,232,0.12)' }] },
      )
    }
    if (r.series.length === 0) charts.append(h('p', { class: 'muted' }, 'no data in the window'))
    // One p-value series per scope from the look history; looks of one cycle share a time.
    const withP = r.history.filter((s) => s.points.some((p) => p.p_value !== null))
    if (withP.length === 0) pv.append(h('p', { class: 'muted' }, 'no p-values recorded yet'))
    else {
      const times = [...new Set(withP.flatMap((s) => s.points.map((p) => p.t)))].sort((a, b) => a - b)
      const palette = ['#7b1fa2', '#1a73e8', '#e37400', '#1e8e3e', '#d93025', '#5f6368']
      const box = h('div', { class: 'chart', id: 'pvalue-chart', 'data-series': withP.length })
      pv.append(box)
      chart(
        box,
        'p-value of the test, per scope (each evaluation cycle, log scale; below 1e-16 drawn at 1e-16)',
        times.map((t) => t / 1000),
        withP.map((s, i) => {
          const byT = new Map(s.points.map((p) => [p.t, p.p_value]))
          return {
            label: `p-value ${s.scope}`,
            stroke: palette[i % palette.length],
            values: times.map((t) => {
              const p = byT.get(t)
              return p === null || p === undefined ? null : Math.max(p, 1e-16)
            }),
            points: true,
            width: 2,
          }
        }),
        { height: 220, logY: true },
      )
    }
  })
  return out
}

async function versionsPage() {
  const v = await api('/api/versions')
  const message = h('p', { id: 'mark-result' })
  const mark = async (version, path, label) => {
    if (!confirm(`Mark ${version} ${label}? This changes the rollback target.`)) return
    try {
      const result = await api(path, { method: 'POST', body: JSON.stringify({ version, by: 'dashboard' }) })
      message.textContent = result.changed
        ? `${version} is now ${result.deployment.status}`
        : `${version} was already ${result.deployment.status}`
      message.className = ''
      refreshSoon()
    } catch (error) {
      message.replaceChildren(showError(error))
    }
  }
  return [
    h('h1', {}, 'Versions'),
    h('p', {}, 'Last stable (rollback target): ', h('b', {}, v.last_stable ?? 'none recorded')),
    message,
    table(
      [
        { label: 'version', cell: (d) => d.model_version },
        { label: 'status', cell: (d) => status(d.status) },
        { label: 'verdict', cell: (d) => [status(d.verdict.verdict), ` ${d.verdict.reason}`] },
        { label: 'first seen', cell: (d) => d.first_seen ?? '–' },
        { label: 'marked', cell: (d) => `${d.marked_at} ${d.marked_by}` },
        {
          label: '',
          cell: (d) => [
            h(
              'button',
              { on: { click: () => mark(d.model_version, '/deployments/mark-stable', 'stable') } },
              'Mark stable',
            ),
            ' ',
            h(
              'button',
              { on: { click: () => mark(d.model_version, '/deployments/mark-rolled-back', 'rolled back') } },
              'Mark rolled back',
            ),
          ],
        },
      ],
      v.deployments,
      { id: 'deployments' },
    ),
    h('h2', {}, 'Deploy history'),
    table(
      [
        { label: 'when', cell: (c) => c.marked_at },
        { label: 'version', cell: (c) => c.model_version },
        { label: 'status', cell: (c) => status(c.status) },
        { label: 'by', cell: (c) => c.marked_by },
        { label: 'note', cell: (c) => c.note },
      ],
      v.history,
    ),
  ]
}

async function exposurePage() {
  const x = await api('/api/exposure')
  const usd = (v) => (v === null || v === undefined ? '–' : `$${v.toFixed(2)}`)
  const out = [
    h('h1', {}, 'Risk exposure'),
    h(
      'p',
      { class: 'muted' },
      `Expected failures and dollars at risk per day: each version's measured failure rate (window ${when(x.window.from)} – ${when(x.window.to)}) × the slice's measured daily traffic × the cost of one failure from exposure: in driftwatch.yaml. Baseline: the last stable version.`,
    ),
  ]
  if (!x.configured)
    return [
      ...out,
      h(
        'p',
        { id: 'exposure-empty' },
        'No exposure: configured. Add e.g. exposure: [{ segment: invoice_extraction, metric: hallucination_rate, usd_per_failure: 50 }] (docs/config.md#exposure).',
      ),
    ]
  const total = (side) => x.rows.reduce((sum, r) => sum + (r[side]?.usd_per_day ?? 0), 0)
  const byVersion = new Map()
  for (const r of x.rows)
    byVersion.set(r.model_version, (byVersion.get(r.model_version) ?? 0) + (r.candidate?.usd_per_day ?? 0))
  const versions = [...byVersion.keys()].sort()
  const chartBox = h('div', { id: 'exposure-chart', class: 'chart' })
  queueMicrotask(() => {
    if (versions.length === 0) return
    // One bar-like series per version: dollars per day, a point per version on the x axis.
    const xs = versions.map((_, i) => i + 1)
    new uPlot(
      {
        title: 'USD at risk per day, by version (all priced slices)',
        width: Math.min(1100, chartBox.clientWidth || 900),
        height: 220,
        scales: { x: { time: false, range: [0.5, versions.length + 0.5] } },
        axes: [
          { splits: () => xs, values: (_, ticks) => ticks.map((t) => versions[t - 1] ?? '') },
          { size: 70 },
        ],
        series: [
          {},
          {
            label: 'USD/day',
            stroke: '#d93025',
            fill: 'rgba(217,48,37,0.2)',
            paths: uPlot.paths.bars({ size: [0.5] }),
            points: { show: false },
          },
        ],
      },
      [xs, versions.map((v) => byVersion.get(v))],
      chartBox,
    )
  })
  return [
    ...out,
    h('p', {}, 'Baseline (last stable): ', h('b', {}, x.baseline_version ?? 'none recorded')),
    chartBox,
    h('h2', {}, 'Per version and segment'),
    table(
      [
        { label: 'version', cell: (r) => r.model_version },
        { label: 'segment', cell: (r) => r.segment },
        { label: 'modality', cell: (r) => r.modality },
        { label: 'metric', cell: (r) => r.metric },
        { label: 'rate (n)', cell: (r) => `${fmt(r.rate)} (n=${r.n})` },
        { label: 'traffic/day', cell: (r) => fmt(r.daily_traffic, 0) },
        { label: 'USD/failure', cell: (r) => usd(r.usd_per_failure) },
        { label: 'failures/day', cell: (r) => fmt(r.candidate?.failures_per_day, 1) },
        { label: 'USD/day', cell: (r) => usd(r.candidate?.usd_per_day) },
        { label: 'baseline USD/day', cell: (r) => usd(r.baseline?.usd_per_day) },
        {
          label: 'vs baseline',
          cell: (r) =>
            r.delta_usd_per_day === null
              ? '–'
              : h(
                  'span',
                  { class: r.delta_usd_per_day > 0 ? 'worse' : '' },
                  `${r.delta_usd_per_day >= 0 ? '+' : ''}${usd(r.delta_usd_per_day)}`,
                ),
        },
      ],
      x.rows,
      { id: 'exposure' },
    ),
    h('p', { class: 'muted' }, `Total across rows: ${usd(total('candidate'))} per day.`),
  ]
}

async function reviewPage(skip = 0) {
  const [next, stats] = await Promise.all([
    api(`/api/review/next?skip=${skip}`),
    api('/api/review/agreement'),
  ])
  const agreement = table(
    [
      { label: 'scorer version', cell: (a) => a.scorer_version },
      { label: 'metric', cell: (a) => a.metric },
      { label: 'n', cell: (a) => a.n },
      { label: 'agreement', cell: (a) => fmt(a.agreement, 3) },
      { label: "Cohen's kappa", cell: (a) => fmt(a.kappa, 3) },
      { label: 'weighted kappa', cell: (a) => fmt(a.weighted_kappa, 3) },
      { label: '', cell: (a) => a.strength },
    ],
    stats.agreement,
    { id: 'agreement' },
  )
  const out = [
    h('h1', {}, 'Human review'),
    h('p', { class: 'muted' }, `${next.queued} samples waiting for a label`),
  ]
  const item = next.item
  if (!item)
    return [...out, h('p', {}, 'Nothing to review.'), h('h2', {}, 'Judge–human agreement'), agreement]
  const selects = next.metrics.map((m) =>
    h(
      'label',
      {},
      `${m.metric} `,
      h(
        'select',
        { name: m.metric },
        h('option', { value: '' }, '–'),
        m.scale.map((v) => h('option', { value: v }, v)),
      ),
    ),
  )
  const message = h('span', { id: 'label-result' })
  const form = h(
    'form',
    {
      id: 'label-form',
      on: {
        submit: async (event) => {
          event.preventDefault()
          const labels = {}
          for (const s of form.querySelectorAll('select'))
            if (s.value !== '') labels[s.name] = Number(s.value)
          try {
            const r = await api('/api/review/label', {
              method: 'POST',
              body: JSON.stringify({
                request_id: item.request_id,
                scorer_version: item.scorer_version,
                labels,
                note: note.value || undefined,
              }),
            })
            message.textContent = `stored ${r.stored} label(s)`
            refreshSoon()
          } catch (error) {
            message.replaceChildren(showError(error))
          }
        },
      },
    },
    selects,
    ' ',
    h('input', { name: 'note', placeholder: 'note (optional)' }),
    ' ',
    h('button', { type: 'submit' }, 'Save label'),
    ' ',
    h(
      'button',
      { type: 'button', on: { click: async () => app.replaceChildren(...(await reviewPage(skip + 1))) } },
      'Skip',
    ),
  )
  const note = form.querySelector('input[name=note]')
  return [
    ...out,
    h(
      'p',
      {},
      `${item.scorer} ${item.scorer_version} · ${item.model_version} / ${item.segment} / ${item.modality} · `,
      h('code', { id: 'review-request' }, item.request_id),
    ),
    h(
      'div',
      { class: 'sample' },
      h('div', {}, h('h2', {}, 'Input'), h('pre', {}, item.user_input ?? '')),
      h('div', {}, h('h2', {}, 'Output'), h('pre', {}, item.model_output ?? '')),
    ),
    h('h2', {}, 'Judge verdict'),
    table(
      [
        { label: 'metric', cell: (s) => s.metric },
        { label: 'value', cell: (s) => fmt(s.value) },
        { label: 'label', cell: (s) => s.label },
        { label: 'reason', cell: (s) => s.detail },
      ],
      item.scores,
      { id: 'judge-scores' },
    ),
    h('h2', {}, 'Your label'),
    form,
    message,
    h('h2', {}, 'Judge–human agreement'),
    agreement,
  ]
}

function sqlPage() {
  const query = h(
    'textarea',
    { id: 'sql-query', spellcheck: 'false' },
    'SELECT model_version, segment, count() AS n, avg(latency_ms) AS mean_latency_ms\nFROM interactions\nWHERE timestamp >= (SELECT max(timestamp) FROM interactions) - INTERVAL 1 DAY\nGROUP BY model_version, segment\nORDER BY n DESC\nLIMIT 100',
  )
  const result = h('div', { id: 'sql-result' })
  const run = async () => {
    result.replaceChildren(h('p', { class: 'muted' }, 'running…'))
    try {
      const text = await api('/sql', {
        method: 'POST',
        raw: true,
        body: JSON.stringify({ query: query.value, format: 'JSONCompactEachRowWithNames' }),
      })
      const lines = text
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l))
      const [names = [], ...rows] = lines
      result.replaceChildren(
        h('p', { class: 'muted' }, `${rows.length} rows`),
        table(
          names.map((n, i) => ({ label: n, cell: (r) => fmt(r[i]) })),
          rows,
          { id: 'sql-table' },
        ),
      )
    } catch (error) {
      result.replaceChildren(showError(error))
    }
  }
  const download = async () => {
    try {
      const text = await api('/sql', {
        method: 'POST',
        raw: true,
        body: JSON.stringify({ query: query.value, format: 'CSVWithNames' }),
      })
      const a = h('a', {
        href: URL.createObjectURL(new Blob([text], { type: 'text/csv' })),
        download: 'driftwatch-query.csv',
      })
      document.body.append(a)
      a.click()
      a.remove()
    } catch (error) {
      result.replaceChildren(showError(error))
    }
  }
  return [
    h('h1', {}, 'SQL (read-only)'),
    h(
      'p',
      { class: 'muted' },
      'Read-only by ClickHouse; time, memory and result size limited by server.sql. Bound your query by time and LIMIT.',
    ),
    query,
    h(
      'p',
      {},
      h('button', { id: 'sql-run', on: { click: run } }, 'Run'),
      ' ',
      h('button', { id: 'sql-csv', on: { click: download } }, 'Download CSV'),
    ),
    result,
  ]
}

/** Re-render after a write, unless the user has moved to another page meanwhile. */
function refreshSoon() {
  const here = location.hash
  setTimeout(() => {
    if (location.hash === here) route()
  }, 300)
}

async function route() {
  const hash = location.hash.replace(/^#/, '') || '/'
  let page
  if (hash.startsWith('/rule/')) page = () => rulePage(decodeURIComponent(hash.slice('/rule/'.length)))
  else if (hash === '/versions') page = versionsPage
  else if (hash === '/exposure') page = exposurePage
  else if (hash === '/review') page = () => reviewPage(0)
  else if (hash === '/sql') page = sqlPage
  else page = overview
  app.setAttribute('data-page', hash)
  try {
    const content = await page()
    app.replaceChildren(...content)
  } catch (error) {
    app.replaceChildren(showError(error))
  }
  app.setAttribute('data-loaded', hash)
}

window.addEventListener('hashchange', route)
whoami()
route()
