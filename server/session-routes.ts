// POST /auth/login {token} → an HttpOnly SameSite=Strict cookie holding the token, so the
// dashboard authenticates without the token ever appearing in a URL or in page script.
// POST /auth/logout clears it; GET /auth/whoami says which role the caller has.

import { z } from 'zod'
import { type AuthSettings, clearedSessionCookie, roleOf, sessionCookie } from './auth.ts'
import type { Route } from './http.ts'

const LoginSchema = z.object({ token: z.string().min(1).max(1000) }).strict()

export function sessionRoutes(auth: AuthSettings): Record<string, Route> {
  return {
    'POST /auth/login': async (request) => {
      const parsed = LoginSchema.safeParse(request.body)
      const role = parsed.success ? roleOf(auth, parsed.data.token) : undefined
      if (!parsed.success || !role) {
        return {
          status: 401,
          body: { error: 'wrong token', code: 'UNAUTHORIZED', fix: 'paste the admin or reader token' },
        }
      }
      return { status: 200, body: { role }, headers: { 'set-cookie': sessionCookie(parsed.data.token) } }
    },
    'POST /auth/logout': async () => ({
      status: 200,
      body: { role: 'anonymous' },
      headers: { 'set-cookie': clearedSessionCookie() },
    }),
    'GET /auth/whoami': async (request) => ({ status: 200, body: { role: request.role, mode: auth.mode } }),
  }
}
