// The migrations' cluster variant: each single-server DDL statement of sql/migrations turned
// into what a replicated (and shardable) ClickHouse cluster needs, for the cluster named in
// clickhouse.cluster. Pure text in, text out; store/migrate.ts applies it, and
// `driftwatch migrate --cluster NAME --print` shows it. docs/scaling.md "A ClickHouse cluster"
// explains the choices below for operators.
//
// Per statement:
//  * every CREATE / ALTER / DROP gets `ON CLUSTER <name>`;
//  * a MergeTree-family engine becomes its Replicated twin, with a Keeper path and replica
//    name in front of the original arguments (the version column of a ReplacingMergeTree stays);
//  * `non_replicated_deduplication_window = N` becomes `replicated_deduplication_window = N`:
//    a replicated table deduplicates retried inserts (by block hash and by
//    insert_deduplication_token) itself, and N keeps the single-server guarantee (the last N
//    inserts) whatever the server version's default is;
//  * a sharded table gets a Distributed table `<table>_all` beside it, and the column changes
//    of a later ALTER are repeated on it (index, TTL and setting changes are storage-only).
// Where a table goes is data (TABLE_PLACEMENT): a table no entry names is an error, so a new
// migration cannot reach a cluster before someone decided how it is sharded.

import { ConfigError, StoreError } from '../lib/errors.ts'
import { identifierName, isWord, significant, type Token, tokenize } from './sql-tokens.ts'

export type Placement =
  /** Split across shards by `key` (an expression over the table's columns), replicated within each. */
  | { kind: 'sharded'; key: string; why: string }
  /** Not split: one replica group over every node of the cluster, so each node holds all rows. */
  | { kind: 'everywhere'; why: string }

const BY_REQUEST = 'cityHash64(request_id)'

/**
 * Tables that grow with traffic are sharded, by a key that sends every copy of one sorting key
 * to one shard (so ReplacingMergeTree still sees both copies of a re-send) and, where the table
 * has request_id, by request_id so that an interaction, its scores, failures and review sample
 * sit on one shard (joins on request_id stay local). Tables bounded by configuration or people
 * (rules, alerts, deployments, jobs, labels) are replicated to every node instead: any node can
 * read them whole and join them to its shard's rows.
 */
export const TABLE_PLACEMENT: Readonly<Record<string, Placement>> = {
  interactions: { kind: 'sharded', key: BY_REQUEST, why: 'ends its sorting key; co-locates scores' },
  scores: { kind: 'sharded', key: BY_REQUEST, why: 'ends its sorting key; beside its interaction' },
  scoring_failures: { kind: 'sharded', key: BY_REQUEST, why: 'ends its sorting key' },
  review_queue: { kind: 'sharded', key: BY_REQUEST, why: 'a traffic sample; beside its scores' },
  shadow_pairs: {
    kind: 'sharded',
    key: 'cityHash64(shadow_request_id)',
    why: 'its whole sorting key; beside the shadow interaction',
  },
  ingest_errors: {
    kind: 'sharded',
    key: 'cityHash64(kafka_topic, kafka_partition, kafka_offset)',
    why: 'its whole sorting key; a poison flood from one partition still spreads',
  },
  schema_migrations: { kind: 'everywhere', why: 'bookkeeping: every node must agree what is applied' },
  job_lease: { kind: 'everywhere', why: 'control table; see the lease caveat in docs/scaling.md' },
  job_runs: { kind: 'everywhere', why: 'one row per job run' },
  job_watermarks: { kind: 'everywhere', why: 'one row per job and key' },
  scoring_spend: { kind: 'everywhere', why: 'one row per flushed batch; budgets sum it whole' },
  human_labels: { kind: 'everywhere', why: 'bounded by reviewers' },
  rule_states: { kind: 'everywhere', why: 'one row per rule and scope' },
  rule_evaluations: { kind: 'everywhere', why: 'rules x scopes x cycles, 30-day TTL' },
  alerts: { kind: 'everywhere', why: 'incident history' },
  deployments: { kind: 'everywhere', why: 'model-version history' },
  experiment_results: { kind: 'everywhere', why: 'one row per analysis' },
}

export interface ClusterTarget {
  /** The cluster's name in the servers' remote_servers (clickhouse.cluster). */
  cluster: string
  /** The database the tables live in (clickhouse.database): named in the Distributed engines. */
  database: string
  placement?: Readonly<Record<string, Placement>>
}

/** Suffix of the Distributed table beside each sharded table. */
export const DISTRIBUTED_SUFFIX = '_all'

const SHARDED_PATH = "'/clickhouse/tables/{shard}/{database}/{table}', '{replica}'"
// Without {shard}, every node joins one replica group; '{shard}-{replica}' stays unique across
// the cluster even where replica macros repeat per shard (r1, r2 on every shard).
const EVERYWHERE_PATH = "'/clickhouse/tables/all/{database}/{table}', '{shard}-{replica}'"

const MERGE_TREE_FAMILY =
  /^(?:|Replacing|Summing|Aggregating|Collapsing|VersionedCollapsing|Graphite|Coalescing)MergeTree$/
/** Engines that hold no data of their own (or point elsewhere): the same on every node. */
const PASS_THROUGH_ENGINES = new Set(['Distributed', 'Null', 'Merge', 'Dictionary'])

const COLUMN_ALTERS = new Set([
  'ADD COLUMN',
  'DROP COLUMN',
  'MODIFY COLUMN',
  'RENAME COLUMN',
  'COMMENT COLUMN',
])
const STORAGE_ALTERS = new Set([
  'ADD INDEX',
  'DROP INDEX',
  'MATERIALIZE INDEX',
  'CLEAR INDEX',
  'ADD PROJECTION',
  'DROP PROJECTION',
  'MATERIALIZE PROJECTION',
  'CLEAR PROJECTION',
  'ADD CONSTRAINT',
  'DROP CONSTRAINT',
  'MODIFY TTL',
  'REMOVE TTL',
  'MATERIALIZE TTL',
  'MODIFY ORDER',
  'MODIFY SAMPLE',
  'MODIFY SETTING',
  'RESET SETTING',
  'MATERIALIZE COLUMN',
  'CLEAR COLUMN',
  'DELETE',
  'UPDATE',
])

export class ClusterDdlError extends StoreError {
  constructor(message: string, fix: string) {
    super('CLUSTER_DDL', message, { fix })
  }
}

/** clickhouse.cluster needs a server: the embedded engine is one process, not a cluster. */
export function embeddedClusterError(cluster: string): ConfigError {
  return new ConfigError(
    `clickhouse.cluster is set (${cluster}) but the store is embedded: a cluster needs ClickHouse servers`,
    {
      fix: 'set clickhouse.url (or CLICKHOUSE_URL) to a node of the cluster, or remove clickhouse.cluster to use the embedded store',
    },
  )
}

/** First statement of the cluster variant: the database on every node. */
export function clusterDatabaseStatement(target: ClusterTarget): string {
  return `CREATE DATABASE IF NOT EXISTS ${quoteName(target.database)}${onCluster(target)}`
}

/**
 * The cluster form of one single-server statement: the statement itself, plus the Distributed
 * table (CREATE, after it), its mirrored column change (ALTER, after it) or its drop (DROP,
 * before it) when the table is sharded.
 */
export function clusterStatements(sql: string, target: ClusterTarget): string[] {
  const tokens = significant(tokenize(sql))
  const head = parseHead(tokens, sql)
  const edits: Edit[] = [{ at: head.nameEnd, end: head.nameEnd, text: onCluster(target) }]
  const placement = (name: string) => placementOf(name, target)
  switch (`${head.verb} ${head.object}`) {
    case 'CREATE DATABASE':
      return [applyEdits(sql, edits)]
    case 'CREATE VIEW':
      refuseShardedReads(tokens.slice(head.nameIndex + 1), head.name, target)
      return [applyEdits(sql, edits)]
    case 'CREATE TABLE':
    case 'CREATE MATERIALIZED VIEW': {
      const body = tokens.slice(head.nameIndex + 1)
      const to = head.object === 'MATERIALIZED VIEW' && isWord(body[0], 'TO')
      if (to) placement(targetName(body)) // the target's own CREATE decides its engine
      const engine = findEngine(body, head.object === 'TABLE', sql)
      // A Distributed, Null or Merge table holds no rows of its own: the same on every node.
      if (!engine || PASS_THROUGH_ENGINES.has(engine.name)) return [applyEdits(sql, edits)]
      const where = placement(head.name)
      edits.push(...engineEdits(engine, where, head.name), ...settingsEdits(body, engine.end))
      const out = [applyEdits(sql, edits)]
      if (where.kind === 'sharded') {
        if (head.object === 'TABLE') checkShardingKey(tokens, head, where.key)
        out.push(distributedTable(head, where.key, target))
      }
      return out
    }
    case 'ALTER TABLE': {
      const where = placement(head.name)
      const columnChanges = alterCommands(tokens.slice(head.nameIndex + 1), sql, head.name)
      const out = [applyEdits(sql, edits)]
      if (where.kind === 'sharded' && columnChanges.length > 0)
        out.push(`ALTER TABLE ${distributedName(head)}${onCluster(target)} ${columnChanges.join(', ')}`)
      return out
    }
    case 'DROP TABLE': {
      const out = [applyEdits(sql, edits)]
      if (placement(head.name).kind === 'sharded')
        out.unshift(
          `DROP TABLE ${head.ifClause ? 'IF EXISTS ' : ''}${distributedName(head)}${onCluster(target)}`,
        )
      return out
    }
    case 'DROP VIEW':
    case 'DROP DATABASE':
      return [applyEdits(sql, edits)]
    default:
      throw new ClusterDdlError(
        `${head.verb} ${head.object} has no cluster form in store/cluster-ddl.ts: ${preview(sql)}`,
        'write this statement as CREATE/ALTER/DROP of a TABLE, VIEW or MATERIALIZED VIEW, or extend store/cluster-ddl.ts',
      )
  }
}

interface Head {
  verb: 'CREATE' | 'ALTER' | 'DROP'
  object: string
  /** Table or view name without quotes; db the qualifier, if written. */
  name: string
  db: string | undefined
  /** Source text of the (possibly qualified) name, as written. */
  nameText: string
  /** Index in the significant tokens of the name's last token. */
  nameIndex: number
  /** Offset just after the name: where ON CLUSTER goes. */
  nameEnd: number
  /** IF NOT EXISTS / IF EXISTS was written. */
  ifClause: boolean
}

function parseHead(tokens: Token[], sql: string): Head {
  const word = (i: number) => (tokens[i]?.kind === 'word' ? tokens[i]!.text.toUpperCase() : '')
  const verb = word(0)
  if (verb !== 'CREATE' && verb !== 'ALTER' && verb !== 'DROP') {
    throw new ClusterDdlError(
      `only CREATE, ALTER and DROP have a cluster form; this statement starts with ${tokens[0]?.text ?? 'nothing'}: ${preview(sql)}`,
      'keep data changes (INSERT, ...) out of migrations, or extend store/cluster-ddl.ts',
    )
  }
  let i = 1
  if (verb === 'CREATE' && word(1) === 'OR' && word(2) === 'REPLACE') i = 3
  let object = word(i)
  if (object === 'TEMPORARY') {
    throw new ClusterDdlError(
      `a temporary table lives in one session, not on a cluster: ${preview(sql)}`,
      'use a table',
    )
  }
  if (object === 'MATERIALIZED' && word(i + 1) === 'VIEW') {
    object = 'MATERIALIZED VIEW'
    i++
  }
  i++
  let ifClause = false
  if (word(i) === 'IF' && verb === 'CREATE' && word(i + 1) === 'NOT' && word(i + 2) === 'EXISTS') {
    ifClause = true
    i += 3
  } else if (word(i) === 'IF' && word(i + 1) === 'EXISTS') {
    ifClause = true
    i += 2
  }
  const first = nameToken(tokens[i], sql)
  let db: string | undefined
  let last = first
  let nameIndex = i
  if (tokens[i + 1]?.text === '.' && tokens[i + 1]?.kind === 'punct') {
    db = identifierName(first)
    last = nameToken(tokens[i + 2], sql)
    nameIndex = i + 2
  }
  if (isWord(tokens[nameIndex + 1], 'ON') && isWord(tokens[nameIndex + 2], 'CLUSTER')) {
    throw new ClusterDdlError(
      `the statement already names a cluster: ${preview(sql)}`,
      'write migrations for a single server; the cluster variant adds ON CLUSTER itself',
    )
  }
  const nameEnd = last.start + last.text.length
  return {
    verb,
    object,
    name: identifierName(last),
    db,
    nameText: sql.slice(first.start, nameEnd),
    nameIndex,
    nameEnd,
    ifClause,
  }
}

function nameToken(token: Token | undefined, sql: string): Token {
  if (token?.kind === 'word' || token?.kind === 'quoted') return token
  throw new ClusterDdlError(
    `expected a name at ${token?.text ?? 'the end'}: ${preview(sql)}`,
    'check the statement',
  )
}

function placementOf(name: string, target: ClusterTarget): Placement {
  const placement = (target.placement ?? TABLE_PLACEMENT)[name]
  if (placement) return placement
  throw new ClusterDdlError(
    `table ${name} has no cluster placement`,
    `add ${name} to TABLE_PLACEMENT in store/cluster-ddl.ts: sharded (with a key over its columns) or everywhere`,
  )
}

interface EngineClause {
  /** Offsets of the engine name through its closing parenthesis (or the name alone). */
  start: number
  end: number
  name: string
  /** Text between the parentheses, trimmed; '' when there are none or they are empty. */
  args: string
}

/**
 * The ENGINE clause at depth 0, before a depth-0 `AS SELECT` (a view's query may well have a
 * column called engine). `required`: a CREATE TABLE without one is an error here, since the
 * server's default engine would not be replicated.
 */
function findEngine(tokens: Token[], required: boolean, sql: string): EngineClause | undefined {
  let depth = 0
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!
    if (t.kind === 'punct' && (t.text === '(' || t.text === '[')) depth++
    else if (t.kind === 'punct' && (t.text === ')' || t.text === ']')) depth--
    else if (depth === 0 && isQueryStart(tokens, i)) break
    else if (depth === 0 && isWord(t, 'ENGINE')) {
      const n = tokens[i + 1]?.text === '=' ? i + 2 : i + 1
      const name = tokens[n]
      if (name?.kind !== 'word') break
      if (tokens[n + 1]?.text !== '(') {
        return { start: name.start, end: name.start + name.text.length, name: name.text, args: '' }
      }
      const close = matchingParen(tokens, n + 1)
      const args = sql.slice(tokens[n + 1]!.start + 1, tokens[close]!.start).trim()
      return { start: name.start, end: tokens[close]!.start + 1, name: name.text, args }
    }
  }
  if (required) {
    throw new ClusterDdlError(
      'CREATE TABLE without an ENGINE clause: the server default (or the AS table) would decide it, unreplicated or on the same Keeper path',
      'name the engine (e.g. ENGINE = MergeTree ORDER BY ...) in the migration',
    )
  }
  return undefined
}

/** `AS SELECT` / `AS WITH` here: a query starts, and the DDL clauses before it end. */
function isQueryStart(tokens: Token[], i: number): boolean {
  return isWord(tokens[i], 'AS') && (isWord(tokens[i + 1], 'SELECT') || isWord(tokens[i + 1], 'WITH'))
}

function matchingParen(tokens: Token[], open: number): number {
  let depth = 0
  for (let i = open; i < tokens.length; i++) {
    if (tokens[i]!.kind !== 'punct') continue
    if (tokens[i]!.text === '(') depth++
    else if (tokens[i]!.text === ')' && --depth === 0) return i
  }
  throw new ClusterDdlError('unbalanced parentheses in the ENGINE clause', 'close every parenthesis')
}

function engineEdits(engine: EngineClause, where: Placement, table: string): Edit[] {
  const { args } = engine
  if (engine.name.startsWith('Replicated')) {
    throw new ClusterDdlError(
      `table ${table} is already ${engine.name}`,
      'write migrations with the single-server engine; the cluster variant adds replication',
    )
  }
  if (!MERGE_TREE_FAMILY.test(engine.name)) {
    throw new ClusterDdlError(
      `table ${table} uses ENGINE = ${engine.name}, which has no replicated form: each node would keep its own rows`,
      'use a MergeTree-family engine, or extend store/cluster-ddl.ts',
    )
  }
  const path = where.kind === 'sharded' ? SHARDED_PATH : EVERYWHERE_PATH
  return [
    {
      at: engine.start,
      end: engine.end,
      text: `Replicated${engine.name}(${path}${args ? `, ${args}` : ''})`,
    },
  ]
}

/** non_replicated_deduplication_window = N -> replicated_deduplication_window = N (see the header). */
function settingsEdits(tokens: Token[], after: number): Edit[] {
  let depth = 0
  let settingsAt = -1
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!
    if (t.kind === 'punct' && t.text === '(') depth++
    else if (t.kind === 'punct' && t.text === ')') depth--
    else if (depth === 0 && isQueryStart(tokens, i))
      break // the query's own SETTINGS are not the table's
    else if (depth === 0 && t.start >= after && isWord(t, 'SETTINGS')) {
      settingsAt = i
      break
    }
  }
  if (settingsAt === -1) return []
  const items = settingItems(tokens, settingsAt + 1)
  const named = (name: string) => items.findIndex((item) => item[0]?.text.toLowerCase() === name)
  const nonReplicated = named('non_replicated_deduplication_window')
  if (nonReplicated === -1) return []
  const item = items[nonReplicated]!
  if (named('replicated_deduplication_window') === -1) {
    return [
      {
        at: item[0]!.start,
        end: item[0]!.start + item[0]!.text.length,
        text: 'replicated_deduplication_window',
      },
    ]
  }
  // Both written: the replicated one stands; drop the other item with one comma.
  if (items.length === 1) return [{ at: tokens[settingsAt]!.start, end: end(item), text: '' }]
  const neighbour = nonReplicated === items.length - 1 ? items[nonReplicated - 1]! : items[nonReplicated + 1]!
  return nonReplicated === items.length - 1
    ? [{ at: end(neighbour), end: end(item), text: '' }]
    : [{ at: item[0]!.start, end: neighbour[0]!.start, text: '' }]
}

/** The `name = value` items after SETTINGS, split at depth-0 commas, up to AS / COMMENT. */
function settingItems(tokens: Token[], from: number): Token[][] {
  const items: Token[][] = [[]]
  let depth = 0
  for (let i = from; i < tokens.length; i++) {
    const t = tokens[i]!
    if (depth === 0 && (isQueryStart(tokens, i) || isWord(t, 'COMMENT'))) break
    if (t.kind === 'punct' && t.text === '(') depth++
    else if (t.kind === 'punct' && t.text === ')') depth--
    if (depth === 0 && t.kind === 'punct' && t.text === ',') items.push([])
    else items.at(-1)!.push(t)
  }
  return items.filter((item) => item.length > 0)
}

function end(tokens: Token[]): number {
  const last = tokens.at(-1)!
  return last.start + last.text.length
}

/** The name after MATERIALIZED VIEW ... TO. */
function targetName(body: Token[]): string {
  const dotted = body[2]?.text === '.' && body[2]?.kind === 'punct'
  const token = dotted ? body[3] : body[1]
  if (token?.kind !== 'word' && token?.kind !== 'quoted') {
    throw new ClusterDdlError('MATERIALIZED VIEW ... TO without a target table', 'name the target table')
  }
  return identifierName(token)
}

/**
 * The column changes of an ALTER, to repeat on the Distributed table (its columns must follow
 * the local table's). Storage-only changes (indexes, TTL, settings, mutations) stay local; a
 * command neither list knows is an error rather than a guess.
 */
function alterCommands(tokens: Token[], sql: string, table: string): string[] {
  const commands: Token[][] = [[]]
  let depth = 0
  for (const t of tokens) {
    if (t.kind === 'punct' && t.text === '(') depth++
    else if (t.kind === 'punct' && t.text === ')') depth--
    if (depth === 0 && t.kind === 'punct' && t.text === ',') commands.push([])
    else commands.at(-1)!.push(t)
  }
  const columnChanges: string[] = []
  for (const command of commands.filter((c) => c.length > 0)) {
    const verb = command
      .slice(0, 2)
      .map((t) => t.text.toUpperCase())
      .join(' ')
    if (COLUMN_ALTERS.has(verb)) columnChanges.push(sql.slice(command[0]!.start, end(command)))
    else if (!STORAGE_ALTERS.has(verb) && !STORAGE_ALTERS.has(command[0]!.text.toUpperCase())) {
      throw new ClusterDdlError(
        `ALTER TABLE ${table} ${verb} ...: store/cluster-ddl.ts does not know whether this change belongs on the Distributed table too`,
        'add the command to COLUMN_ALTERS or STORAGE_ALTERS in store/cluster-ddl.ts',
      )
    }
  }
  return columnChanges
}

/** The Distributed table over a sharded one: same columns (AS), rows sent by the sharding key. */
function distributedTable(head: Head, key: string, target: ClusterTarget): string {
  const db = head.db ?? target.database
  const engine = `Distributed(${literal(target.cluster)}, ${literal(db)}, ${literal(head.name)}, ${key})`
  return `CREATE TABLE ${head.ifClause ? 'IF NOT EXISTS ' : ''}${distributedName(head)}${onCluster(target)} AS ${head.nameText} ENGINE = ${engine}`
}

function distributedName(head: Head): string {
  const name = quoteName(`${head.name}${DISTRIBUTED_SUFFIX}`)
  return head.db === undefined ? name : `${quoteName(head.db)}.${name}`
}

/** Every column the sharding key names must be a column of the table (a typo fails here, not on the cluster). */
function checkShardingKey(tokens: Token[], head: Head, key: string): void {
  const open = head.nameIndex + 1
  if (tokens[open]?.text !== '(') return // CREATE TABLE x AS y: columns come from y
  const close = matchingParen(tokens, open)
  const columns = new Set<string>()
  let depth = 0
  let expectName = true
  for (let i = open + 1; i < close; i++) {
    const t = tokens[i]!
    if (t.kind === 'punct' && (t.text === '(' || t.text === '[')) depth++
    else if (t.kind === 'punct' && (t.text === ')' || t.text === ']')) depth--
    else if (depth === 0 && t.kind === 'punct' && t.text === ',') expectName = true
    else if (expectName) {
      const keyword = ['INDEX', 'PROJECTION', 'CONSTRAINT', 'PRIMARY'].some((k) => isWord(t, k))
      if (!keyword) columns.add(identifierName(t))
      expectName = false
    }
  }
  const keyTokens = significant(tokenize(key))
  const missing = keyTokens
    .filter((t, i) => (t.kind === 'word' || t.kind === 'quoted') && keyTokens[i + 1]?.text !== '(')
    .map(identifierName)
    .filter((name) => !columns.has(name))
  if (missing.length > 0) {
    throw new ClusterDdlError(
      `sharding key ${key} of table ${head.name} names ${missing.join(', ')}, not a column of ${head.name}`,
      `correct the key of ${head.name} in TABLE_PLACEMENT (store/cluster-ddl.ts)`,
    )
  }
}

/** A plain view runs on the node it is read on: over a sharded table it would see one shard. */
function refuseShardedReads(tokens: Token[], view: string, target: ClusterTarget): void {
  const placement = target.placement ?? TABLE_PLACEMENT
  for (const t of tokens) {
    if (t.kind !== 'word' && t.kind !== 'quoted') continue
    const name = identifierName(t)
    if (placement[name]?.kind === 'sharded') {
      throw new ClusterDdlError(
        `view ${view} reads the sharded table ${name}: on a cluster each node's view would see one shard`,
        `read ${name}${DISTRIBUTED_SUFFIX} in the view, or place ${name} everywhere in TABLE_PLACEMENT`,
      )
    }
  }
}

interface Edit {
  at: number
  end: number
  text: string
}

function applyEdits(sql: string, edits: Edit[]): string {
  let out = sql
  for (const edit of [...edits].sort((a, b) => b.at - a.at || b.end - a.end))
    out = out.slice(0, edit.at) + edit.text + out.slice(edit.end)
  return out
}

function onCluster(target: ClusterTarget): string {
  return ` ON CLUSTER ${quoteName(target.cluster)}`
}

/** A name as ClickHouse reads it: bare when it can be, else in backquotes. */
export function quoteName(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name)
    ? name
    : `\`${name.replace(/\\/g, '\\\\').replace(/`/g, '\\`')}\``
}

function literal(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`
}

function preview(sql: string): string {
  const flat = sql.replace(/\s+/g, ' ').trim()
  return flat.length > 80 ? `${flat.slice(0, 77)}...` : flat
}
