// Creates topics that do not exist yet (demo, local broker, tests). Existing topics are
// left as they are: their partition count is the operator's decision.

import type { Admin } from 'kafkajs'

export async function ensureTopics(admin: Admin, topics: string[], partitions: number): Promise<string[]> {
  const existing = new Set(await admin.listTopics())
  const missing = [...new Set(topics)].filter((t) => !existing.has(t))
  if (missing.length === 0) return []
  await admin.createTopics({
    waitForLeaders: true,
    topics: missing.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })),
  })
  return missing
}
