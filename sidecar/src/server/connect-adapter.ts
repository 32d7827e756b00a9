/** Serves a ServiceBinding with connect-node (Connect, gRPC-Web and gRPC over HTTP/1.1 or h2). */
import type { DescMethod } from "@bufbuild/protobuf";
import { ConnectError, type ConnectRouter, type HandlerContext } from "@connectrpc/connect";
import { traceUnary, tracingOn } from "../tracing.js";
import { toRpcError } from "./errors.js";
import type { DoneHook, ErrorHook } from "./grpc-adapter.js";
import {
  type RpcContext,
  requestIdFrom,
  type ServiceBinding,
  type StreamHandler,
  type UnaryHandler,
} from "./rpc.js";

function contextOf(ctx: HandlerContext, method: string): RpcContext {
  const timeout = ctx.timeoutMs();
  const context: RpcContext = {
    signal: ctx.signal,
    deadline: timeout === undefined ? undefined : Date.now() + timeout,
    authorization: ctx.requestHeader.get("authorization") ?? undefined,
    listener: "http",
    method,
    requestId: requestIdFrom(ctx.requestHeader.get("x-request-id") ?? undefined),
  };
  // The trace headers are looked up only when spans are recorded (tracing.ts).
  if (!tracingOn()) return context;
  return {
    ...context,
    traceparent: ctx.requestHeader.get("traceparent") ?? undefined,
    tracestate: ctx.requestHeader.get("tracestate") ?? undefined,
  };
}

function connectError(ctx: RpcContext, cause: unknown, onError: ErrorHook): ConnectError {
  const err = toRpcError(cause);
  onError(ctx.method, err, cause, ctx.requestId);
  return new ConnectError(err.message, err.code);
}

/** Registers a binding's handlers on a Connect router. */
export function addConnectService(
  router: ConnectRouter,
  binding: ServiceBinding,
  onError: ErrorHook,
  onDone?: DoneHook,
): void {
  const impl: Record<string, unknown> = {};
  for (const method of binding.service.methods as readonly DescMethod[]) {
    const name = `${binding.service.typeName}/${method.name}`;
    const handler = binding.handlers[method.localName];
    if (typeof handler !== "function") throw new TypeError(`no handler for ${name}`);
    if (method.methodKind === "server_streaming") {
      const stream = handler as StreamHandler<unknown, object>;
      impl[method.localName] = async function* (request: unknown, handlerCtx: HandlerContext) {
        const ctx = contextOf(handlerCtx, name);
        try {
          yield* stream(request, ctx);
        } catch (cause) {
          throw connectError(ctx, cause, onError);
        }
      };
    } else {
      const unary = traceUnary(name, "http", handler as UnaryHandler<unknown, object>);
      const observe = onDone?.(name, "http");
      impl[method.localName] = async (request: unknown, handlerCtx: HandlerContext) => {
        const started = performance.now();
        const ctx = contextOf(handlerCtx, name);
        try {
          return await unary(request, ctx);
        } catch (cause) {
          throw connectError(ctx, cause, onError);
        } finally {
          observe?.((performance.now() - started) / 1000);
        }
      };
    }
  }
  // The map above is built per method descriptor; its shape matches ServiceImpl by construction.
  router.service(binding.service, impl as never);
}
