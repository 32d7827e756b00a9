/**
 * connect-es answers a request body that is not valid protobuf with INTERNAL ("parse binary:
 * ..."), an HTTP 500 that reads as a sidecar fault, while its JSON parse errors and the gRPC
 * listener's binary ones are INVALID_ARGUMENT. It offers no hook for that code, so this wrapper
 * rewrites those errors on the Connect protocol (a unary error body, the end-of-stream message)
 * to INVALID_ARGUMENT: malformed input is the caller's fault on both listeners alike.
 */
import type { UniversalHandler, UniversalServerResponse } from "@connectrpc/connect/protocol";
import { createAsyncIterable } from "@connectrpc/connect/protocol";

const PARSE_BINARY = /^parse binary: /;

interface ErrorJson {
  code?: unknown;
  message?: unknown;
}

/** Turns connect-es's INTERNAL binary parse error into INVALID_ARGUMENT; returns whether it was one. */
function fix(error: ErrorJson | undefined): boolean {
  if (error?.code !== "internal" || typeof error.message !== "string" || !PARSE_BINARY.test(error.message))
    return false;
  error.code = "invalid_argument";
  error.message = `request body is not a valid protobuf message: ${error.message.replace(PARSE_BINARY, "")}`;
  return true;
}

function parse(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch {
    return undefined;
  }
}

async function* fixEndOfStream(body: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  for await (const chunk of body) {
    // An end-of-stream envelope: flags 0x02, 4-byte length, JSON `{"error": {...}}`.
    if (chunk[0] === 0x02 && chunk.byteLength >= 5) {
      const end = parse(chunk.subarray(5)) as { error?: ErrorJson } | undefined;
      if (end && fix(end.error)) {
        const json = Buffer.from(JSON.stringify(end));
        const header = Buffer.alloc(5);
        header[0] = 0x02;
        header.writeUInt32BE(json.byteLength, 1);
        yield Buffer.concat([header, json]);
        continue;
      }
    }
    yield chunk;
  }
}

async function fixResponse(res: UniversalServerResponse): Promise<UniversalServerResponse> {
  const type = res.header?.get("content-type") ?? "";
  if (res.body === undefined || (res.body as unknown) instanceof Uint8Array) return res;
  const body = res.body as AsyncIterable<Uint8Array>;
  if (type.startsWith("application/connect+")) return { ...res, body: fixEndOfStream(body) };
  if (res.status !== 500 || !type.startsWith("application/json")) return res;
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  const bytes = Buffer.concat(chunks);
  const error = parse(bytes) as ErrorJson | undefined;
  if (!fix(error)) return { ...res, body: createAsyncIterable([bytes]) };
  const fixed = Buffer.from(JSON.stringify(error));
  res.header?.set("content-length", String(fixed.byteLength));
  return { ...res, status: 400, body: createAsyncIterable([fixed]) };
}

/** Wraps a connect-es handler so unparsable binary bodies answer INVALID_ARGUMENT. */
export function withParseErrorsAsInvalidArgument(handler: UniversalHandler): UniversalHandler {
  return Object.assign(async (req: Parameters<UniversalHandler>[0]) => fixResponse(await handler(req)), {
    protocolNames: handler.protocolNames,
    service: handler.service,
    method: handler.method,
    requestPath: handler.requestPath,
    allowedMethods: handler.allowedMethods,
    supportedContentType: handler.supportedContentType,
  });
}
