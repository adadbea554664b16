// Sends synthetic interactions to a Kafka topic, in batches, optionally at a steady rate.
// Used by `driftwatch produce`, the demo and the benchmarks. Messages are keyed by
// request_id, so they spread over the partitions.

import type { Message, Producer } from 'kafkajs'
import type { Interaction } from '../contract/interaction.ts'
import { abortableSleep } from '../lib/retry.ts'
import { type SyntheticOptions, syntheticInteraction, syntheticShadowTwin } from './synthetic.ts'

export type EncodeFn = (
  interaction: Interaction,
) => Promise<Pick<Message, 'value' | 'headers'>> | Pick<Message, 'value' | 'headers'>

export interface ProduceOptions {
  producer: Producer
  topic: string
  count: number
  /** Events per second; undefined = as fast as the broker takes them. */
  rate?: number
  /** Index of the first synthetic interaction (its id and content follow from seed and index). */
  from?: number
  synthetic: SyntheticOptions
  encode: EncodeFn
  batchSize?: number
  /**
   * A send stops growing at this many bytes: the broker refuses record batches over its
   * message.max.bytes (1 MiB by default), and one partition may get a whole send.
   */
  maxBatchBytes?: number
  signal?: AbortSignal
  onProgress?: (sent: number) => void
  /** Called once per shadow twin sent with its production interaction. */
  onTwin?: () => void
}

/**
 * Sends `count` interactions (and, with synthetic.shadow, each one's shadow twin right after
 * it); returns the number of production interactions sent (twins are counted in `twins`).
 */
export async function produceSynthetic(options: ProduceOptions): Promise<number> {
  const { producer, topic, count, rate, signal } = options
  const from = options.from ?? 0
  // At a fixed rate, send ~10 batches a second so the stream looks continuous.
  const batchSize = rate
    ? Math.max(1, Math.min(options.batchSize ?? 1000, Math.ceil(rate / 10)))
    : (options.batchSize ?? 1000)
  const started = Date.now()
  let sent = 0
  const maxBatchBytes = options.maxBatchBytes ?? 512 * 1024
  while (sent < count && !signal?.aborted) {
    const limit = Math.min(batchSize, count - sent)
    const messages: Message[] = []
    let bytes = 0
    let taken = 0
    while (taken < limit && bytes < maxBatchBytes) {
      const i = from + sent + taken
      const twin = syntheticShadowTwin(i, options.synthetic)
      for (const interaction of [syntheticInteraction(i, options.synthetic), ...(twin ? [twin] : [])]) {
        const message: Message = { key: interaction.request_id, ...(await options.encode(interaction)) }
        bytes += (message.value as Buffer | null)?.length ?? 0
        messages.push(message)
      }
      taken++
      if (twin) options.onTwin?.()
    }
    await producer.send({ topic, messages, acks: -1 })
    sent += taken
    options.onProgress?.(sent)
    if (rate) {
      const dueMs = started + (sent / rate) * 1000
      const wait = dueMs - Date.now()
      if (wait > 0) await abortableSleep(wait, signal)
    }
  }
  return sent
}
