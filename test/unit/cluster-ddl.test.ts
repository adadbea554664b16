// The migrations' cluster variant, statement by statement: over every real migration, each
// output statement is the source statement with exactly ON CLUSTER, the Replicated engine and
// the dedup setting changed (undoing those three gives the source back byte for byte), plus
// one Distributed table per sharded table; and the edge cases the real files do not have yet
// (materialized views, drops, quoted names, keywords inside strings and comments) are right.
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../config/load.ts'
import { ConfigError, StoreError } from '../../lib/errors.ts'
import {
  ClusterDdlError,
  clusterDatabaseStatement,
  clusterStatements,
  type Placement,
  TABLE_PLACEMENT,
} from '../../store/cluster-ddl.ts'
import {
  loadMigrations,
  migrate,
  migrationScript,
  planMigrations,
  preludeStatements,
  SCHEMA_MIGRATIONS_TABLE,
} from '../../store/migrate.ts'
import { createStore, type Store } from '../../store/store.ts'

const target = { cluster: 'prod', database: 'driftwatch' }
const migrations = loadMigrations()

/** The source statement's verb and object name (tests may use a regex; the code may not). */
function headOf(sql: string): { verb: string; name: string } {
  const m =
    /^(CREATE TABLE|CREATE VIEW|CREATE MATERIALIZED VIEW|ALTER TABLE|DROP TABLE)\s+(?:IF (?:NOT )?EXISTS\s+)?(\w+)/.exec(
      sql,
    )
  if (!m) throw new Error(`unexpected statement in a migration: ${sql.slice(0, 60)}`)
  return { verb: m[1]!, name: m[2]! }
}

const REPLICATED =
  /Replicated(\w*MergeTree)\('\/clickhouse\/tables\/(\{shard\}|all)\/\{database\}\/\{table\}', '(\{replica\}|\{shard\}-\{replica\})'(?:, ([^)]*))?\)/

/** Undoes the three edits: what is left must be the source statement exactly. */
function undo(output: string): { text: string; path?: string; replica?: string } {
  expect(output.split(' ON CLUSTER prod').length - 1).toBe(1)
  let path: string | undefined
  let replica: string | undefined
  const text = output
    .replace(' ON CLUSTER prod', '')
    .replace(REPLICATED, (_all, engine: string, p: string, r: string, args: string | undefined) => {
      path = p
      replica = r
      return args ? `${engine}(${args})` : engine
    })
    .replace('replicated_deduplication_window', 'non_replicated_deduplication_window')
  return { text, path, replica }
}

describe('the cluster variant of every migration', () => {
  const sources = [
    { label: 'schema_migrations', statements: [SCHEMA_MIGRATIONS_TABLE] },
    ...migrations.map((m) => ({ label: `${m.version}_${m.name}`, statements: m.statements })),
  ]

  for (const source of sources) {
    it(`${source.label}: each output statement is the source with ON CLUSTER, a Replicated engine and Distributed tables`, () => {
      for (const sql of source.statements) {
        const { verb, name } = headOf(sql)
        const out = clusterStatements(sql, target)
        const placement = TABLE_PLACEMENT[name]
        const sharded = placement?.kind === 'sharded'
        const main = undo(out[0]!)
        // Byte for byte the source, once ON CLUSTER, the engine and the setting are undone:
        // nothing else (columns, ORDER BY, TTL, codecs, the view's query) was touched.
        expect(main.text).toBe(sql)
        expect(out[0]).not.toMatch(/non_replicated_deduplication_window/)
        if (/non_replicated_deduplication_window/.test(sql))
          expect(out[0]).toMatch(/SETTINGS replicated_deduplication_window = 1000/)
        if (verb === 'CREATE TABLE') {
          expect(placement, `${name} needs a TABLE_PLACEMENT entry`).toBeDefined()
          expect(main.path).toBe(sharded ? '{shard}' : 'all')
          expect(main.replica).toBe(sharded ? '{replica}' : '{shard}-{replica}')
          expect(out[0]).toMatch(new RegExp(`^CREATE TABLE IF NOT EXISTS ${name} ON CLUSTER prod \\(`))
        }
        if (verb === 'CREATE TABLE' && sharded) {
          expect(out).toEqual([
            out[0],
            `CREATE TABLE IF NOT EXISTS ${name}_all ON CLUSTER prod AS ${name} ENGINE = Distributed('prod', 'driftwatch', '${name}', ${placement.key})`,
          ])
        } else if (verb === 'ALTER TABLE' && sharded && /\bADD COLUMN\b/.test(sql)) {
          const change = sql.slice(sql.indexOf('ADD COLUMN'))
          expect(out).toEqual([out[0], `ALTER TABLE ${name}_all ON CLUSTER prod ${change}`])
        } else {
          expect(out).toHaveLength(1)
        }
        if (verb === 'CREATE VIEW') expect(main.path).toBeUndefined()
      }
    })
  }

  it('places every table a migration creates, and nothing else', () => {
    const created = new Set(['schema_migrations'])
    for (const m of migrations)
      for (const s of m.statements) if (headOf(s).verb === 'CREATE TABLE') created.add(headOf(s).name)
    expect([...created].sort()).toEqual(Object.keys(TABLE_PLACEMENT).sort())
  })

  it('plans every migration with the same versions, names and checksums', () => {
    const plan = planMigrations(migrations, target)
    expect(plan.map((m) => [m.version, m.name, m.checksum])).toEqual(
      migrations.map((m) => [m.version, m.name, m.checksum]),
    )
    for (const m of plan) for (const s of m.statements) expect(s).toMatch(/ ON CLUSTER prod\b/)
    expect(planMigrations(migrations)).toBe(migrations)
  })

  it('creates the database on every node before the bookkeeping table', () => {
    expect(preludeStatements(target)).toEqual([
      'CREATE DATABASE IF NOT EXISTS driftwatch ON CLUSTER prod',
      expect.stringMatching(
        /^CREATE TABLE IF NOT EXISTS schema_migrations ON CLUSTER prod \([\s\S]*ENGINE = ReplicatedReplacingMergeTree\('\/clickhouse\/tables\/all\/\{database\}\/\{table\}', '\{shard\}-\{replica\}'\) ORDER BY version$/,
      ),
    ])
    expect(preludeStatements()).toEqual([SCHEMA_MIGRATIONS_TABLE])
  })

  it('prints a script with every statement and the bookkeeping rows', () => {
    const script = migrationScript(migrations, target)
    const plan = planMigrations(migrations, target)
    for (const s of [...preludeStatements(target), ...plan.flatMap((m) => m.statements)])
      expect(script).toContain(`${s};\n`)
    for (const m of migrations)
      expect(script).toContain(
        `INSERT INTO schema_migrations (version, name, checksum) VALUES (${m.version}, '${m.name}', '${m.checksum}');`,
      )
    expect(migrationScript(migrations)).not.toMatch(/ON CLUSTER|Replicated/)
  })
})

describe('cluster DDL edge cases', () => {
  const placement: Record<string, Placement> = {
    events: { kind: 'sharded', key: 'cityHash64(request_id)', why: 'test' },
    control: { kind: 'everywhere', why: 'test' },
    events_mv: { kind: 'sharded', key: 'cityHash64(request_id)', why: 'test' },
  }
  const t = { cluster: 'prod', database: 'db', placement }

  it('is not fooled by ENGINE, SETTINGS or ; inside strings, quoted names and comments', () => {
    const sql = `CREATE TABLE IF NOT EXISTS events (
  request_id String DEFAULT 'ENGINE = Memory; SETTINGS non_replicated_deduplication_window = 1',
  \`ENGINE\` String, -- ENGINE = Log
  /* SETTINGS x = 1 */ n UInt32
) ENGINE = ReplacingMergeTree(n) ORDER BY request_id SETTINGS index_granularity = 8192, non_replicated_deduplication_window = 50`
    const [table, dist] = clusterStatements(sql, t)
    expect(table).toBe(
      sql
        .replace('events (', 'events ON CLUSTER prod (')
        .replace(
          'ENGINE = ReplacingMergeTree(n)',
          "ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', n)",
        )
        .replace(
          '8192, non_replicated_deduplication_window = 50',
          '8192, replicated_deduplication_window = 50',
        ),
    )
    expect(dist).toBe(
      "CREATE TABLE IF NOT EXISTS events_all ON CLUSTER prod AS events ENGINE = Distributed('prod', 'db', 'events', cityHash64(request_id))",
    )
  })

  it('keeps an explicit replicated_deduplication_window and drops the non-replicated one', () => {
    const base = 'CREATE TABLE control (x UInt8) ENGINE = MergeTree ORDER BY x SETTINGS '
    const [a] = clusterStatements(
      `${base}replicated_deduplication_window = 7, non_replicated_deduplication_window = 5`,
      t,
    )
    expect(a).toMatch(/ORDER BY x SETTINGS replicated_deduplication_window = 7$/)
    const [b] = clusterStatements(
      `${base}non_replicated_deduplication_window = 5, replicated_deduplication_window = 7`,
      t,
    )
    expect(b).toMatch(/ORDER BY x SETTINGS replicated_deduplication_window = 7$/)
    const [c] = clusterStatements(`${base}non_replicated_deduplication_window = 5`, t)
    expect(c).toMatch(/ORDER BY x SETTINGS replicated_deduplication_window = 5$/)
  })

  it('quotes a cluster name that is not a bare identifier', () => {
    const [table, dist] = clusterStatements(
      'CREATE TABLE events (request_id String) ENGINE = MergeTree ORDER BY request_id',
      {
        ...t,
        cluster: 'prod-eu.1',
      },
    )
    expect(table).toMatch(/^CREATE TABLE events ON CLUSTER `prod-eu.1` \(/)
    expect(dist).toBe(
      "CREATE TABLE events_all ON CLUSTER `prod-eu.1` AS events ENGINE = Distributed('prod-eu.1', 'db', 'events', cityHash64(request_id))",
    )
    expect(clusterDatabaseStatement({ cluster: 'prod-eu.1', database: 'db' })).toBe(
      'CREATE DATABASE IF NOT EXISTS db ON CLUSTER `prod-eu.1`',
    )
  })

  it('keeps a qualified name qualified, also on the Distributed table', () => {
    const [, dist] = clusterStatements(
      'CREATE TABLE other.events (request_id String) ENGINE = MergeTree ORDER BY request_id',
      t,
    )
    expect(dist).toBe(
      "CREATE TABLE other.events_all ON CLUSTER prod AS other.events ENGINE = Distributed('prod', 'other', 'events', cityHash64(request_id))",
    )
  })

  it('repeats column changes on the Distributed table, and only those', () => {
    expect(
      clusterStatements(
        "ALTER TABLE events ADD COLUMN IF NOT EXISTS a String, ADD INDEX IF NOT EXISTS i a TYPE minmax GRANULARITY 1, MODIFY COLUMN b Nullable(String) DEFAULT concat(a, ',')",
        t,
      ),
    ).toEqual([
      "ALTER TABLE events ON CLUSTER prod ADD COLUMN IF NOT EXISTS a String, ADD INDEX IF NOT EXISTS i a TYPE minmax GRANULARITY 1, MODIFY COLUMN b Nullable(String) DEFAULT concat(a, ',')",
      "ALTER TABLE events_all ON CLUSTER prod ADD COLUMN IF NOT EXISTS a String, MODIFY COLUMN b Nullable(String) DEFAULT concat(a, ',')",
    ])
    expect(clusterStatements('ALTER TABLE events MODIFY TTL toDateTime(t) + INTERVAL 1 DAY', t)).toHaveLength(
      1,
    )
    expect(clusterStatements('ALTER TABLE control ADD COLUMN a String', t)).toEqual([
      'ALTER TABLE control ON CLUSTER prod ADD COLUMN a String',
    ])
    expect(() => clusterStatements('ALTER TABLE events FREEZE', t)).toThrow(/does not know whether/)
  })

  it('drops the Distributed table before a sharded table', () => {
    expect(clusterStatements('DROP TABLE IF EXISTS events', t)).toEqual([
      'DROP TABLE IF EXISTS events_all ON CLUSTER prod',
      'DROP TABLE IF EXISTS events ON CLUSTER prod',
    ])
    expect(clusterStatements('DROP TABLE control', t)).toEqual(['DROP TABLE control ON CLUSTER prod'])
    expect(clusterStatements('DROP VIEW IF EXISTS v', t)).toEqual(['DROP VIEW IF EXISTS v ON CLUSTER prod'])
  })

  it('replicates a materialized view with its own engine, and leaves a TO view to its target', () => {
    const [mv, dist] = clusterStatements(
      "CREATE MATERIALIZED VIEW IF NOT EXISTS events_mv ENGINE = SummingMergeTree ORDER BY request_id AS SELECT request_id, count() AS n, 'ENGINE = Memory' AS e FROM events GROUP BY request_id",
      t,
    )
    expect(mv).toBe(
      "CREATE MATERIALIZED VIEW IF NOT EXISTS events_mv ON CLUSTER prod ENGINE = ReplicatedSummingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}') ORDER BY request_id AS SELECT request_id, count() AS n, 'ENGINE = Memory' AS e FROM events GROUP BY request_id",
    )
    expect(dist).toBe(
      "CREATE TABLE IF NOT EXISTS events_mv_all ON CLUSTER prod AS events_mv ENGINE = Distributed('prod', 'db', 'events_mv', cityHash64(request_id))",
    )
    expect(
      clusterStatements('CREATE MATERIALIZED VIEW m TO control AS SELECT request_id AS x FROM events', t),
    ).toEqual(['CREATE MATERIALIZED VIEW m ON CLUSTER prod TO control AS SELECT request_id AS x FROM events'])
    expect(() => clusterStatements('CREATE MATERIALIZED VIEW m TO nowhere AS SELECT 1', t)).toThrow(
      /table nowhere has no cluster placement/,
    )
  })

  it("leaves a table that holds no rows of its own (Distributed, Null) as it is, and a query's own SETTINGS alone", () => {
    expect(
      clusterStatements("CREATE TABLE x AS control ENGINE = Distributed('c', 'db', 'control')", t),
    ).toEqual(["CREATE TABLE x ON CLUSTER prod AS control ENGINE = Distributed('c', 'db', 'control')"])
    expect(
      clusterStatements(
        'CREATE MATERIALIZED VIEW control ENGINE = MergeTree ORDER BY x AS SELECT 1 AS x SETTINGS non_replicated_deduplication_window = 3',
        t,
      ),
    ).toEqual([
      "CREATE MATERIALIZED VIEW control ON CLUSTER prod ENGINE = ReplicatedMergeTree('/clickhouse/tables/all/{database}/{table}', '{shard}-{replica}') ORDER BY x AS SELECT 1 AS x SETTINGS non_replicated_deduplication_window = 3",
    ])
  })

  it('refuses a plain view over a sharded table (it would see one shard)', () => {
    expect(() => clusterStatements('CREATE VIEW v AS SELECT count() FROM events', t)).toThrow(
      /view v reads the sharded table events/,
    )
    expect(clusterStatements('CREATE VIEW v AS SELECT engine FROM control', t)).toEqual([
      'CREATE VIEW v ON CLUSTER prod AS SELECT engine FROM control',
    ])
  })

  it('names the fix for what it cannot turn into cluster DDL', () => {
    const cases: Array<[string, RegExp]> = [
      ['INSERT INTO control VALUES (1)', /only CREATE, ALTER and DROP/],
      ['CREATE TABLE unknown (x UInt8) ENGINE = MergeTree ORDER BY x', /add unknown to TABLE_PLACEMENT/],
      ['CREATE TABLE control (x UInt8) ENGINE = Memory', /ENGINE = Memory, which has no replicated form/],
      [
        "CREATE TABLE control (x UInt8) ENGINE = ReplicatedMergeTree('/p', 'r') ORDER BY x",
        /write migrations with the single-server engine/,
      ],
      [
        'CREATE TABLE control ON CLUSTER c (x UInt8) ENGINE = MergeTree ORDER BY x',
        /already names a cluster/,
      ],
      ['CREATE TABLE control (x UInt8)', /without an ENGINE clause/],
      ['CREATE TEMPORARY TABLE control (x UInt8)', /temporary table/],
      [
        'CREATE TABLE events (id String) ENGINE = MergeTree ORDER BY id',
        /names request_id, not a column of events/,
      ],
    ]
    for (const [sql, message] of cases) {
      let error: unknown
      try {
        clusterStatements(sql, t)
      } catch (e) {
        error = e
      }
      expect(error, sql).toBeInstanceOf(ClusterDdlError)
      const e = error as ClusterDdlError
      expect(`${e.message}\nfix: ${e.fix}`, sql).toMatch(message)
      expect(e.fix, sql).toBeTruthy()
    }
  })

  it('names the migration when one statement has no cluster form', () => {
    const bad = [
      { version: 11, name: 'bad', checksum: 'x', statements: ['CREATE TABLE nope (x UInt8) ENGINE = Log'] },
    ]
    expect(() => planMigrations(bad, target)).toThrow(
      /migration 011_bad: table nope has no cluster placement/,
    )
  })
})

describe('migrate with clickhouse.cluster', () => {
  /** A store that records commands and answers the schema_migrations engine lookup. */
  function fakeStore(kind: Store['kind'], cluster: string | undefined, engine?: string) {
    const commands: string[] = []
    const store: Store = {
      kind,
      cluster,
      database: 'driftwatch',
      location: 'fake',
      query: async <T>(sql: string) => (sql.includes('system.tables') && engine ? [{ engine }] : []) as T[],
      queryReadOnly: async () => '',
      command: async (sql: string) => {
        commands.push(sql)
      },
      insert: async () => {},
      insertRaw: async () => {},
      ping: async () => true,
      close: async () => {},
    }
    return { store, commands }
  }

  it('is refused by the embedded store before it opens anything', async () => {
    const dataDir = join(tmpdir(), `dw-never-${process.pid}`)
    const config = parseConfig({ clickhouse: { cluster: 'prod', data_dir: dataDir } })
    const error = await createStore(config.clickhouse).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).message).toMatch(
      /clickhouse\.cluster is set \(prod\) but the store is embedded/,
    )
    expect((error as ConfigError).fix).toMatch(
      /set clickhouse\.url \(or CLICKHOUSE_URL\) to a node of the cluster/,
    )
    expect(existsSync(dataDir)).toBe(false)
  })

  it('validates the cluster name in the config', () => {
    expect(() => parseConfig({ clickhouse: { cluster: 'prod eu' } })).toThrow(
      /clickhouse\.cluster: a cluster name/,
    )
    expect(parseConfig({ clickhouse: { cluster: 'prod-eu.1' } }).clickhouse.cluster).toBe('prod-eu.1')
    expect(parseConfig({}).clickhouse.cluster).toBeUndefined()
  })

  it('refuses an embedded store with a cluster, naming the key and the fix', async () => {
    const { store, commands } = fakeStore('embedded', 'prod')
    const error = await migrate(store).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).message).toMatch(
      /clickhouse\.cluster is set \(prod\) but the store is embedded/,
    )
    expect((error as ConfigError).fix).toMatch(/set clickhouse\.url .* or remove clickhouse\.cluster/)
    expect(commands).toEqual([])
  })

  it('applies the cluster variant on a server', async () => {
    const { store, commands } = fakeStore('server', 'prod')
    const result = await migrate(store)
    expect(result.applied).toHaveLength(migrations.length)
    expect(commands).toEqual([
      ...preludeStatements({ cluster: 'prod', database: 'driftwatch' }),
      ...planMigrations(migrations, { cluster: 'prod', database: 'driftwatch' }).flatMap((m) => m.statements),
    ])
  })

  it('refuses to mix a single-server database and a cluster, either way round', async () => {
    const single = fakeStore('server', 'prod', 'ReplacingMergeTree')
    await expect(migrate(single.store)).rejects.toThrow(/was migrated for a single server/)
    expect(single.commands).toEqual([])
    const clustered = fakeStore('server', undefined, 'ReplicatedReplacingMergeTree')
    const error = await migrate(clustered.store).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).message).toMatch(
      /was migrated for a cluster .* clickhouse\.cluster is not set/,
    )
    expect(clustered.commands).toEqual([])
  })

  it('fails before any DDL when one migration has no cluster form', async () => {
    const { store, commands } = fakeStore('server', 'prod')
    const bad = [
      { version: 1, name: 'bad', checksum: 'x', statements: ['CREATE TABLE nope (x UInt8) ENGINE = Log'] },
    ]
    await expect(migrate(store, undefined, bad)).rejects.toBeInstanceOf(StoreError)
    expect(commands).toEqual([])
  })
})
