/**
 * The transport-neutral shape of an RPC implementation. Each service is written once as
 * `RpcHandlers<typeof Service>`; grpc-adapter.ts serves it with @grpc/grpc-js and
 * connect-adapter.ts with connect-node, so both listeners answer identically.
 */
import type {
  DescMethodServerStreaming,
  DescMethodUnary,
  DescService,
  MessageInitShape,
  MessageShape,
} from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";

/** Which listener a call arrived on. */
export type Listener = "grpc" | "http";

/** What a handler may know about the call it serves. */
export interface RpcContext {
  /** Aborts when the caller cancels, the deadline passes or the server shuts down. */
  readonly signal: AbortSignal;
  /** Absolute deadline (ms since the epoch), or undefined when the caller set none. */
  readonly deadline: number | undefined;
  /** The `authorization` header, if any. */
  readonly authorization: string | undefined;
  readonly listener: Listener;
  /** Full method name, `rolecall.v1.PolicyService/CheckPermission`. */
  readonly method: string;
  /** The caller's `x-request-id`, or one made up for this call; in every log record about it. */
  readonly requestId: string;
  /** The caller's W3C `traceparent` / `tracestate`, read only when tracing is on (tracing.ts). */
  readonly traceparent?: string | undefined;
  readonly tracestate?: string | undefined;
}

// Made-up request ids: this process's random prefix and a counter (unique, cheap, sortable).
const PROCESS_PREFIX = Math.random().toString(36).slice(2, 8);
let requestCounter = 0;

/** The caller's request id when it is a sane token, else a new one. */
export function requestIdFrom(header: string | undefined): string {
  if (header !== undefined && /^[\w.:-]{1,100}$/.test(header)) return header;
  requestCounter++;
  return `${PROCESS_PREFIX}-${requestCounter.toString(36)}`;
}

/** A unary handler; returning synchronously keeps the hot path free of promise hops. */
export type UnaryHandler<I, O> = (request: I, ctx: RpcContext) => O | Promise<O>;

/** A server-streaming handler. */
export type StreamHandler<I, O> = (request: I, ctx: RpcContext) => AsyncIterable<O>;

/** The implementation of every method of a service. */
export type RpcHandlers<S extends DescService> = {
  [P in keyof S["method"]]: S["method"][P] extends DescMethodUnary<infer I, infer O>
    ? UnaryHandler<MessageShape<I>, MessageInitShape<O>>
    : S["method"][P] extends DescMethodServerStreaming<infer I, infer O>
      ? StreamHandler<MessageShape<I>, MessageInitShape<O>>
      : never;
};

/** A service with its handlers, ready to be mounted on a listener. */
export interface ServiceBinding {
  readonly service: DescService;
  // The handler map is checked where the binding is made (bindService); here it is opaque.
  readonly handlers: Readonly<Record<string, unknown>>;
}

/** Pairs a service with its handlers, type-checked. */
export function bindService<S extends DescService>(service: S, handlers: RpcHandlers<S>): ServiceBinding {
  return { service, handlers: handlers as Readonly<Record<string, unknown>> };
}

/** An error to answer with: a gRPC/Connect code and a message a person can act on. */
export class RpcError extends Error {
  override readonly name = "RpcError";
  constructor(
    readonly code: Code,
    message: string,
  ) {
    super(message);
  }
}

/** Throws INVALID_ARGUMENT naming the field when a required string is empty. */
export function requireField(value: string, field: string): string {
  if (value.trim() === "") throw new RpcError(Code.InvalidArgument, `${field} is required`);
  return value;
}

/**
 * A response may carry its own protobuf encoder under this key; the gRPC listener then uses it
 * instead of protobuf-es's reflective toBinary (Connect ignores it). Used for check answers, the
 * hot path (see decision-codec.ts).
 */
export const ENCODE = Symbol("rolecall.encode");

/** A message with an optional own encoder. */
export type SelfEncoding = { readonly [ENCODE]?: () => Uint8Array };

/** Attaches an encoder to a response message (non-enumerable, so nothing else sees it). */
export function withEncoder<T extends object>(message: T, encode: () => Uint8Array): T {
  return Object.defineProperty(message, ENCODE, { value: encode });
}
