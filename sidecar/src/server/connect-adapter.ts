/** Serves a ServiceBinding with connect-node (Connect, gRPC-Web and gRPC over HTTP/1.1 or h2). */
import type { DescMethod } from "@bufbuild/protobuf";
import { ConnectError, type ConnectRouter, type HandlerContext } from "@connectrpc/connect";
import { toRpcError } from "./errors.js";
import type { DoneHook, ErrorHook } from "./grpc-adapter.js";
import type { RpcContext, ServiceBinding, StreamHandler, UnaryHandler } from "./rpc.js";

function contextOf(ctx: HandlerContext, method: string): RpcContext {
  const timeout = ctx.timeoutMs();
  return {
    signal: ctx.signal,
    deadline: timeout === undefined ? undefined : Date.now() + timeout,
    authorization: ctx.requestHeader.get("authorization") ?? undefined,
    listener: "http",
    method,
  };
}

function connectError(method: string, cause: unknown, onError: ErrorHook): ConnectError {
  const err = toRpcError(cause);
  onError(method, err, cause);
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
      impl[method.localName] = async function* (request: unknown, ctx: HandlerContext) {
        try {
          yield* stream(request, contextOf(ctx, name));
        } catch (cause) {
          throw connectError(name, cause, onError);
        }
      };
    } else {
      const unary = handler as UnaryHandler<unknown, object>;
      impl[method.localName] = async (request: unknown, ctx: HandlerContext) => {
        const started = performance.now();
        try {
          return await unary(request, contextOf(ctx, name));
        } catch (cause) {
          throw connectError(name, cause, onError);
        } finally {
          onDone?.(name, "http", (performance.now() - started) / 1000);
        }
      };
    }
  }
  // The map above is built per method descriptor; its shape matches ServiceImpl by construction.
  router.service(binding.service, impl as never);
}
