// Read-only SQL through a running owner's HTTP endpoint (POST /sql), as the CLI sends it:
// JSON body and content type, which the endpoint's cross-site rule requires.

function postSql(url: string, query: string): Promise<Response> {
  return fetch(`${url}/sql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  })
}

/** The result rows (the endpoint answers JSON lines); an error answer throws with its text. */
export async function instanceSql(url: string, query: string): Promise<Record<string, unknown>[]> {
  const response = await postSql(url, query)
  const text = await response.text()
  if (!response.ok) throw new Error(text)
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l))
}

/** count() of interactions; -1 while the owner answers with an error (e.g. still migrating). */
export async function storedCount(url: string): Promise<number> {
  const response = await postSql(url, 'SELECT count() AS c FROM interactions')
  if (!response.ok) return -1
  return Number(JSON.parse((await response.text()).trim()).c)
}
