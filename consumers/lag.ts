// Consumer-group lag: how far the group's committed offsets are behind the end of each
// partition. Used for live progress and for `ingest --until-caught-up`.

import type { Admin } from 'kafkajs'

export interface PartitionLag {
  topic: string
  partition: number
  /** Next offset to be written (the partition's end). */
  high: number
  /** Next offset the group will read (its committed offset, or the partition start). */
  position: number
  lag: number
}

export interface GroupLag {
  partitions: PartitionLag[]
  total: number
}

export async function groupLag(admin: Admin, groupId: string, topics: string[]): Promise<GroupLag> {
  const committed = await admin.fetchOffsets({ groupId, topics })
  const partitions: PartitionLag[] = []
  for (const topic of topics) {
    const ends = await admin.fetchTopicOffsets(topic)
    const done = committed.find((t) => t.topic === topic)?.partitions ?? []
    for (const end of ends) {
      const high = Number(end.high)
      const low = Number(end.low)
      const offset = Number(done.find((p) => p.partition === end.partition)?.offset ?? -1)
      const position = Math.max(offset, low)
      partitions.push({ topic, partition: end.partition, high, position, lag: Math.max(0, high - position) })
    }
  }
  return { partitions, total: partitions.reduce((sum, p) => sum + p.lag, 0) }
}
