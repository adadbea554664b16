// The ingest consumer in its own process, stopped dead between an insert and its commit:
// `node --import tsx test/helpers/ingest-until-landed.ts ARGS.json`. It ingests into the
// embedded store in `dataDir` until `landAfter` chunks have been inserted; the insert of the
// last one is done, then the process prints `landed` and hangs before the commit, so the
// test's SIGKILL falls exactly between insert and commit (a kill at a random moment only
// does so now and then). The consumer and the store are the real ones; only the store's
// insertRaw is wrapped.
//
// ARGS.json: { brokers, topic, groupId, dataDir, batchSize, landAfter }.
import { readFileSync } from 'node:fs'
import { parseConfig } from '../../config/load.ts'
import { IngestConsumer } from '../../consumers/ingest-consumer.ts'
import { createDecoder } from '../../contract/decode.ts'
import { createKafka } from '../../lib/kafka-client.ts'
import { createLogger } from '../../lib/log.ts'
import { migrate } from '../../store/migrate.ts'
import { createStore, type Store } from '../../store/store.ts'

interface Args {
  brokers: string
  topic: string
  groupId: string
  dataDir: string
  batchSize: number
  landAfter: number
}

const args = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Args
const config = parseConfig({
  kafka: { brokers: [args.brokers] },
  clickhouse: { data_dir: args.dataDir },
  ingest: { batch_size: args.batchSize, session_timeout_ms: 6000 },
})
const log = createLogger({ level: 'warn' })
const real = await createStore(config.clickhouse)
await migrate(real)
let inserts = 0
const store: Store = {
  ...real,
  insertRaw: async (...call) => {
    await real.insertRaw(...call)
    if (++inserts < args.landAfter) return
    process.stdout.write('landed\n')
    // Never returns: the commit that would follow this insert never happens.
    await new Promise(() => {})
  },
}
const consumer = new IngestConsumer({
  kafka: createKafka({ config: config.kafka, brokers: [args.brokers], log }),
  store,
  decoder: createDecoder({ maxMessageBytes: config.ingest.max_message_bytes }),
  topics: [args.topic],
  groupId: args.groupId,
  deadLetterTopic: `${args.topic}.dlq`,
  config: config.ingest,
  log,
})
await consumer.start()
