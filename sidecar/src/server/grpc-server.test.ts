import { EventEmitter } from "node:events";
import type * as grpc from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { addLazyReflection } from "./grpc-server.js";
import type { RpcError } from "./rpc.js";

/** A stand-in for grpc.Server that keeps what is added to it. */
function recordingServer() {
  const added: { definition: grpc.ServiceDefinition; implementation: grpc.UntypedServiceImplementation }[] =
    [];
  return {
    added,
    server: {
      addService: (definition, implementation) => added.push({ definition, implementation }),
    } as Pick<grpc.Server, "addService">,
  };
}

describe("lazy server reflection", () => {
  it("registers v1 and v1alpha at once but loads the .proto files only on the first call", () => {
    const { added, server } = recordingServer();
    let loads = 0;
    addLazyReflection(
      server,
      () => {
        loads++;
        return {};
      },
      () => {},
    );
    expect(added.map((a) => Object.values(a.definition)[0]!.path)).toEqual([
      "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
      "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
    ]);
    expect(loads).toBe(0);
    const call = Object.assign(new EventEmitter(), { write: () => true, end: () => {} });
    (added[0]!.implementation.ServerReflectionInfo as (c: unknown) => void)(call);
    (added[1]!.implementation.ServerReflectionInfo as (c: unknown) => void)(call);
    expect(loads).toBe(1);
  });

  it("answers INTERNAL and reports the cause when the files cannot be loaded", () => {
    const { added, server } = recordingServer();
    const reported: { method: string; err: RpcError; cause: unknown }[] = [];
    addLazyReflection(
      server,
      () => {
        throw new Error("ENOENT: policy.proto");
      },
      (method, err, cause) => reported.push({ method, err, cause }),
    );
    const call = new EventEmitter();
    const errors: { code?: number; message: string }[] = [];
    call.on("error", (e: { code?: number; message: string }) => errors.push(e));
    (added[0]!.implementation.ServerReflectionInfo as (c: unknown) => void)(call);
    expect(errors).toMatchObject([{ code: 13, message: expect.stringMatching(/reflection is unavailable/) }]);
    expect(reported).toMatchObject([
      {
        method: "grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
        cause: { message: "ENOENT: policy.proto" },
      },
    ]);
  });
});
