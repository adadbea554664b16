// Reads a V8 .cpuprofile (node --cpu-prof) and says where the main thread's time went:
// shares by category (idle = waiting on the engine's threads or the network, GC, JSON.parse,
// kafkajs, the validator, the row encoder, ...) and the top functions by self time.

import { readFileSync } from 'node:fs'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
}

interface CpuProfile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

export interface ProfileSummary {
  total_ms: number
  /** Share of main-thread time per category, 0..1, largest first. */
  categories: Record<string, number>
  top: { fn: string; where: string; share: number }[]
}

export function category(frame: ProfileNode['callFrame']): string {
  const { functionName: fn, url } = frame
  if (fn === '(idle)') return 'idle (waiting: engine threads, network)'
  if (fn === '(garbage collector)') return 'garbage collection'
  if (fn === '(program)') return 'V8/native (program)'
  if (url.includes('/kafkajs/')) return 'kafkajs (fetch, decode, commit)'
  if (url.includes('/zod/')) return 'zod'
  if (url.includes('/chdb/') || url.includes('/@clickhouse/')) return 'chdb / clickhouse client (JS side)'
  if (url.includes('/contract/')) return 'decode + validate (contract/)'
  if (url.includes('/consumers/')) return 'encode + batch (consumers/)'
  if (url.includes('/store/')) return 'store (JS side)'
  if (fn === 'parse' && url === '') return 'JSON.parse'
  if (fn === 'stringify' && url === '') return 'JSON.stringify'
  if (url.startsWith('node:') || url === '') return 'node internals / builtins'
  return 'other'
}

export function summarizeProfile(file: string, topN = 8): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const self = new Map<number, number>()
  let total = 0
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0
    self.set(id, (self.get(id) ?? 0) + dt)
    total += dt
  })
  const categories = new Map<string, number>()
  const functions = new Map<string, { fn: string; where: string; us: number }>()
  for (const [id, us] of self) {
    const frame = byId.get(id)!.callFrame
    const cat = category(frame)
    categories.set(cat, (categories.get(cat) ?? 0) + us)
    const where = frame.url
      ? `${frame.url.replace(/^.*\/(node_modules\/|driftwatch\/|ingest\/)/, '')}:${frame.lineNumber + 1}`
      : ''
    const key = `${frame.functionName}@${where}`
    const entry = functions.get(key) ?? { fn: frame.functionName || '(anonymous)', where, us: 0 }
    entry.us += us
    functions.set(key, entry)
  }
  const share = (us: number) => Math.round((us / Math.max(1, total)) * 1000) / 1000
  return {
    total_ms: Math.round(total / 1000),
    categories: Object.fromEntries(
      [...categories].sort((a, b) => b[1] - a[1]).map(([k, us]) => [k, share(us)]),
    ),
    top: [...functions.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, topN)
      .map((f) => ({ fn: f.fn, where: f.where, share: share(f.us) })),
  }
}
