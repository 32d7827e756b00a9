/** What the AuthZEN suites share: request pieces, a fetch-based caller, tokens from the CLI. */
import { json, rolecall } from "./cli.js";

export type Json = Record<string, unknown>;

/** A resource any contact-center check can name. */
export const resource = { type: "contact", id: "c-1" };
export const subject = (id: string) => ({ type: "user", id });
export const action = (name: string) => ({ name });

/** An answer as a PEP sees it: the status, the headers, JSON or the error message. */
export interface AuthzenAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Json | string;
}

/** POSTs `body` (an object, or raw text) to `path` of the listener at `url()`. */
export function authzenCaller(url: () => string) {
  return async (
    path: string,
    body: unknown,
    token?: string,
    headers: Record<string, string> = {},
  ): Promise<AuthzenAnswer> => {
    const res = await fetch(`${url()}${path}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
        ...headers,
      },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await res.text();
    const parsed = res.headers.get("content-type")?.startsWith("application/json")
      ? (JSON.parse(text) as Json)
      : text;
    return { status: res.status, headers: res.headers, body: parsed };
  };
}

/** `rolecall token create --db DB ARGS...`: the plaintext token. */
export async function createToken(db: string, ...args: string[]): Promise<string> {
  return json<{ token: string }>(await rolecall(["token", "create", "--db", db, "--json", ...args])).token;
}

/** Waits (up to 5 s) until a running sidecar accepts `token`: tokens arrive with its next poll. */
export async function untilAccepted(post: ReturnType<typeof authzenCaller>, token: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const probe = await post(
      "/access/v1/evaluation",
      { subject: subject("dave"), action: action("CONTACTS_READ"), resource },
      token,
    );
    if (probe.status !== 401 || Date.now() > deadline) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}
