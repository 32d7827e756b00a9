/**
 * Page tokens are opaque to callers: the last id of the page, base64url-encoded. Shared by
 * LookupUsers and the AuthZEN searches, which page over sorted ids alike.
 */

/** The token that continues after `lastId`. */
export function encodePageToken(lastId: string): string {
  return Buffer.from(lastId, "utf8").toString("base64url");
}

/** The last id a token stands for, or `undefined` for a token this encoding never produces. */
export function decodePageToken(token: string): string | undefined {
  const decoded = Buffer.from(token, "base64url").toString("utf8");
  return decoded === "" || encodePageToken(decoded) !== token ? undefined : decoded;
}
