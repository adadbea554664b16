// Maps what ClickHouse (server or embedded) throws to a StoreError that says whether the
// call may succeed later. Decided by ClickHouse error code and Node network error codes,
// never by message text.

import { ClickHouseError } from '@clickhouse/client'
import { DriftwatchError, errorMessage, StoreError } from '../lib/errors.ts'

// ClickHouse codes that mean "the data or the query is wrong": retrying cannot help.
// MEMORY_LIMIT_EXCEEDED and TOO_MANY_PARTS are load, not bad data: they stay retriable.
const REJECTED_DATA_CODES = new Set([
  6, // CANNOT_PARSE_TEXT
  25, // CANNOT_PARSE_ESCAPE_SEQUENCE
  26, // CANNOT_PARSE_QUOTED_STRING
  27, // CANNOT_PARSE_INPUT_ASSERTION_FAILED
  32, // ATTEMPT_TO_READ_AFTER_EOF
  38, // CANNOT_PARSE_DATE
  41, // CANNOT_PARSE_DATETIME
  53, // TYPE_MISMATCH
  69, // ARGUMENT_OUT_OF_BOUND
  70, // CANNOT_CONVERT_TYPE
  72, // CANNOT_PARSE_NUMBER
  117, // INCORRECT_DATA
])

// Codes of a wrong query (SQL typed by a person, or a bug): not retriable either.
const QUERY_CODES = new Set([
  1, 2, 8, 9, 10, 16, 36, 42, 43, 44, 46, 47, 48, 50, 57, 60, 62, 63, 81, 82, 115, 164, 170, 179, 184, 215,
  352, 386, 497,
])

// Node/undici network failures: the server is down or unreachable.
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
])

export type StoreErrorKind = 'rejected_data' | 'bad_query' | 'unavailable'

export function toStoreError(error: unknown, context?: string): StoreError {
  if (error instanceof StoreError) return error
  if (error instanceof DriftwatchError)
    return new StoreError(error.code, error.message, { retriable: error.retriable, cause: error })
  // A server's bare HTTP error (e.g. 400 for a URL past http_max_uri_size) has no body: say so.
  const text =
    errorMessage(error) ||
    'ClickHouse answered an error without a message (a bare HTTP error status, e.g. 400 for a URL longer than the server allows)'
  const message = context ? `${context}: ${text}` : text
  if (error instanceof ClickHouseError || hasNumericCode(error)) {
    const code = Number((error as { code: string | number }).code)
    const type = (error as { type?: string }).type ?? 'UNKNOWN'
    if (REJECTED_DATA_CODES.has(code))
      return new StoreError('STORE_REJECTED_DATA', message, { retriable: false, cause: error })
    if (QUERY_CODES.has(code))
      return new StoreError('STORE_BAD_QUERY', message, {
        retriable: false,
        cause: error,
        fix: `ClickHouse error ${type}`,
      })
    return new StoreError(`STORE_${type}`, message, { retriable: true, cause: error })
  }
  const networkCode =
    (error as { code?: string })?.code ?? (error as { cause?: { code?: string } })?.cause?.code
  if (networkCode && NETWORK_CODES.has(networkCode)) {
    return new StoreError('STORE_UNAVAILABLE', message, { retriable: true, cause: error })
  }
  // Unknown failures (timeouts, closed sockets, engine hiccups) are treated as outages:
  // the ingest path would rather retry than drop rows.
  return new StoreError('STORE_UNAVAILABLE', message, { retriable: true, cause: error })
}

export function storeErrorKind(error: StoreError): StoreErrorKind {
  if (error.code === 'STORE_REJECTED_DATA') return 'rejected_data'
  if (error.code === 'STORE_BAD_QUERY') return 'bad_query'
  return 'unavailable'
}

function hasNumericCode(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code
  return (typeof code === 'string' && /^\d+$/.test(code)) || typeof code === 'number'
}
