// Lists of ids bound as one query parameter (`IN {ids:Array(String)}`), cut into chunks a
// ClickHouse server takes: @clickhouse/client sends query parameters in the URL, and the server
// refuses a URL past http_max_uri_size (1 MiB by default) with a bare HTTP 400. A request id
// may be 128 characters of any script, so a 5,000-row batch can need several times that.

/** URL bytes one chunk's ids may take, leaving room for the other parameters and settings. */
export const ID_PARAM_URL_BUDGET = 512 * 1024

/** How many URL bytes `id` takes inside an Array(String) parameter: quoted, escaped, comma, encoded. */
export function idParamUrlBytes(id: string): number {
  return encodeURIComponent(`'${id.replace(/[\\']/g, '\\$&')}',`).length
}

/** Consecutive chunks of `ids`, each within `budget` URL bytes (an id alone over it gets a chunk of its own). */
export function chunkIdsForUrl(ids: readonly string[], budget = ID_PARAM_URL_BUDGET): string[][] {
  const chunks: string[][] = []
  let current: string[] = []
  let used = 0
  for (const id of ids) {
    const bytes = idParamUrlBytes(id)
    if (current.length > 0 && used + bytes > budget) {
      chunks.push(current)
      current = []
      used = 0
    }
    current.push(id)
    used += bytes
  }
  if (current.length > 0) chunks.push(current)
  return chunks
}
