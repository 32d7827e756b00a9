/**
 * Serves a ServiceBinding with @grpc/grpc-js, measured the faster gRPC server on this class of
 * machine (docs/toolchain.md). Messages are (de)serialized with protobuf-es, so grpc-js never sees
 * proto-loader objects and both listeners share one implementation.
 */
import { create, type DescMessage, type DescMethod, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import type * as grpc from "@grpc/grpc-js";
import { traceUnary } from "../tracing.js";
import { toRpcError } from "./errors.js";
import {
  ENCODE,
  type RpcContext,
  RpcError,
  requestIdFrom,
  type SelfEncoding,
  type ServiceBinding,
  type StreamHandler,
  type UnaryHandler,
} from "./rpc.js";

/**
 * Asked once per method when a service is mounted; the observer it returns is called when each
 * unary call has been answered (with a value or an error), for the latency histogram.
 */
export type DoneHook = (method: string, listener: "grpc" | "http") => (seconds: number) => void;

/** Called for every failed call, so the server can log and count it. */
export type ErrorHook = (method: string, err: RpcError, cause: unknown, requestId: string) => void;

/** Stands in for a request body that did not parse, so the handler wrapper can answer INVALID_ARGUMENT. */
class UnparsableRequest {
  constructor(readonly reason: string) {}
}

function deserializer(schema: DescMessage) {
  return (bytes: Buffer): unknown => {
    try {
      return fromBinary(schema, bytes);
    } catch (err) {
      return new UnparsableRequest((err as Error).message);
    }
  };
}

function serializer(schema: DescMessage) {
  // Handlers return init shapes (plain objects); create() fills defaults before encoding (and
  // returns a message as is). The Buffer is a view of the encoded bytes: copying them is waste.
  return (value: unknown): Buffer => {
    const own = (value as SelfEncoding)[ENCODE];
    const bytes = own ? own() : toBinary(schema, create(schema, value as never));
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}

type AnyCall = grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>;

/**
 * A gRPC call's RpcContext. A class, not an object literal with getters: a literal's getters are
 * new closures per call, and V8 then builds a new hidden class for every call — in old space,
 * which promoted ~6 KB per check and forced a mark-compact about every second under load.
 */
class GrpcCallContext implements RpcContext {
  readonly deadline: number | undefined;
  readonly authorization: string | undefined;
  readonly listener = "grpc";
  #controller: AbortController | undefined;
  #requestId: string | undefined;

  constructor(
    private readonly call: AnyCall,
    readonly method: string,
    /** Whether the call has already been answered. */
    private readonly settled: () => boolean,
  ) {
    const rawDeadline = call.getDeadline();
    const deadline = rawDeadline instanceof Date ? rawDeadline.getTime() : rawDeadline;
    this.deadline = Number.isFinite(deadline) ? deadline : undefined;
    const auth = call.metadata.get("authorization")[0];
    this.authorization = typeof auth === "string" ? auth : undefined;
  }

  // Made on first use: only refusals and failures are logged.
  get requestId(): string {
    if (this.#requestId === undefined) {
      const header = this.call.metadata.get("x-request-id")[0];
      this.#requestId = requestIdFrom(typeof header === "string" ? header : undefined);
    }
    return this.#requestId;
  }

  // Read only by tracing.ts, and only when tracing is on.
  get traceparent(): string | undefined {
    return this.#header("traceparent");
  }

  get tracestate(): string | undefined {
    return this.#header("tracestate");
  }

  #header(name: string): string | undefined {
    const value = this.call.metadata.get(name)[0];
    return typeof value === "string" ? value : undefined;
  }

  // Created on first use: most checks never look at the signal.
  get signal(): AbortSignal {
    if (!this.#controller) {
      const c = new AbortController();
      this.#controller = c;
      if (this.call.cancelled) c.abort();
      // grpc-js emits "cancelled" whenever the stream closes, also after a normal answer;
      // aborting then would only build a DOMException (with a stack trace) nobody reads.
      else this.call.once("cancelled", () => this.settled() || c.abort());
    }
    return this.#controller.signal;
  }
}

function statusOf(err: RpcError): Partial<grpc.StatusObject> {
  return { code: err.code as number as grpc.status, details: err.message };
}

function unaryHandler(
  handler: UnaryHandler<unknown, object>,
  method: string,
  onError: ErrorHook,
  onDone: DoneHook | undefined,
) {
  const observe = onDone?.(method, "grpc");
  return (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
    const started = observe ? performance.now() : 0;
    let answered = false;
    const answer = (err: Partial<grpc.StatusObject> | null, value?: unknown) => {
      answered = true;
      callback(err, value);
      observe?.((performance.now() - started) / 1000);
    };
    const ctx = new GrpcCallContext(call, method, () => answered);
    const fail = (cause: unknown) => {
      const err = toRpcError(cause);
      onError(method, err, cause, ctx.requestId);
      answer(statusOf(err));
    };
    if (call.request instanceof UnparsableRequest) {
      fail(
        new RpcError(
          Code.InvalidArgument,
          `request body is not a valid protobuf message: ${call.request.reason}`,
        ),
      );
      return;
    }
    try {
      const result = handler(call.request, ctx);
      if (result instanceof Promise) result.then((value) => answer(null, value), fail);
      else answer(null, result);
    } catch (cause) {
      fail(cause);
    }
  };
}

function streamHandler(handler: StreamHandler<unknown, object>, method: string, onError: ErrorHook) {
  return async (call: grpc.ServerWritableStream<unknown, unknown>) => {
    let ended = false;
    const ctx = new GrpcCallContext(call, method, () => ended);
    try {
      if (call.request instanceof UnparsableRequest) {
        throw new RpcError(
          Code.InvalidArgument,
          `request body is not a valid protobuf message: ${call.request.reason}`,
        );
      }
      for await (const message of handler(call.request, ctx)) {
        if (call.cancelled) return;
        // Respect backpressure: a slow reader must not make grpc-js buffer without bound.
        if (!call.write(message)) await drainedOrGone(call);
      }
      ended = true;
      call.end();
    } catch (cause) {
      ended = true;
      const err = toRpcError(cause);
      onError(method, err, cause, ctx.requestId);
      // emit("error") is how grpc-js ends a server stream with a status; destroy(err) would end
      // the stream without ever sending one, leaving the caller waiting for its deadline.
      if (!call.cancelled) call.emit("error", Object.assign(new Error(err.message), statusOf(err)));
    }
  };
}

/** Resolves when the stream can take more, or the caller has gone. */
function drainedOrGone(call: grpc.ServerWritableStream<unknown, unknown>): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      call.off("drain", done);
      call.off("cancelled", done);
      resolve();
    };
    call.on("drain", done);
    call.on("cancelled", done);
  });
}

/** Builds the grpc-js service definition and implementation for a binding. */
export function toGrpcService(
  binding: ServiceBinding,
  onError: ErrorHook,
  onDone?: DoneHook,
): { definition: grpc.ServiceDefinition; implementation: grpc.UntypedServiceImplementation } {
  const definition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  const implementation: grpc.UntypedServiceImplementation = {};
  for (const method of binding.service.methods as readonly DescMethod[]) {
    const name = `${binding.service.typeName}/${method.name}`;
    const streaming = method.methodKind === "server_streaming";
    definition[method.localName] = {
      path: `/${name}`,
      requestStream: false,
      responseStream: streaming,
      requestSerialize: serializer(method.input),
      requestDeserialize: deserializer(method.input),
      responseSerialize: serializer(method.output),
      responseDeserialize: deserializer(method.output),
      originalName: method.name,
    };
    const handler = binding.handlers[method.localName];
    if (typeof handler !== "function") throw new TypeError(`no handler for ${name}`);
    implementation[method.localName] = streaming
      ? streamHandler(handler as StreamHandler<unknown, object>, name, onError)
      : unaryHandler(
          traceUnary(name, "grpc", handler as UnaryHandler<unknown, object>),
          name,
          onError,
          onDone,
        );
  }
  return { definition: definition as grpc.ServiceDefinition, implementation };
}
