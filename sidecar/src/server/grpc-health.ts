/**
 * The standard grpc.health.v1 service (Check, Watch, List), as grpc-health-check serves it but
 * without loading its .proto through proto-loader and protobufjs at start: those two libraries
 * were ~2 MB of the idle sidecar's heap, for three messages of one field each. Encoded with the
 * protobuf wire helpers the rest of the sidecar already loads.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import * as grpc from "@grpc/grpc-js";

/** A service's health, as grpc.health.v1 names it. */
export type ServingStatus = "SERVING" | "NOT_SERVING";

/** HealthCheckResponse.ServingStatus numbers. */
const STATUS_NUMBER = { UNKNOWN: 0, SERVING: 1, NOT_SERVING: 2, SERVICE_UNKNOWN: 3 } as const;
type AnyStatus = keyof typeof STATUS_NUMBER;

/** Past this many services List answers RESOURCE_EXHAUSTED (as grpc-health-check does). */
const LIST_LIMIT = 100;

/** grpc.health.v1's .proto (grpc-health-check's copy), for server reflection. Resolved, not loaded. */
export const HEALTH_PROTO_PATH = join(
  dirname(createRequire(import.meta.url).resolve("grpc-health-check")),
  "../../proto/health/v1/health.proto",
);

/** HealthCheckRequest: `string service = 1`. Unknown fields are skipped. */
function decodeServiceName(bytes: Uint8Array): string {
  const reader = new BinaryReader(bytes);
  let service = "";
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1 && wireType === WireType.LengthDelimited) service = reader.string();
    else reader.skip(wireType, field);
  }
  return service;
}

/** HealthCheckResponse: `ServingStatus status = 1`, written into `writer`. */
function writeStatus(writer: BinaryWriter, status: AnyStatus): BinaryWriter {
  const n = STATUS_NUMBER[status];
  return n === 0 ? writer : writer.tag(1, WireType.Varint).int32(n);
}

function encodeStatus(status: AnyStatus): Buffer {
  return Buffer.from(writeStatus(new BinaryWriter(), status).finish());
}

/** HealthListResponse: `map<string, HealthCheckResponse> statuses = 1`. */
function encodeList(statuses: ReadonlyMap<string, ServingStatus>): Buffer {
  const writer = new BinaryWriter();
  for (const [service, status] of statuses) {
    writer.tag(1, WireType.LengthDelimited).fork();
    writer.tag(1, WireType.LengthDelimited).string(service);
    writeStatus(writer.tag(2, WireType.LengthDelimited).fork(), status).join();
    writer.join();
  }
  return Buffer.from(writer.finish());
}

const asBuffer = (b: Buffer) => b;

function method(name: string, responseStream: boolean): grpc.MethodDefinition<Buffer, Buffer> {
  return {
    path: `/grpc.health.v1.Health/${name}`,
    requestStream: false,
    responseStream,
    requestSerialize: asBuffer,
    requestDeserialize: asBuffer,
    responseSerialize: asBuffer,
    responseDeserialize: asBuffer,
  };
}

const HEALTH_SERVICE: grpc.ServiceDefinition = {
  Check: method("Check", false),
  Watch: method("Watch", true),
  List: method("List", false),
};

/** grpc.health.v1 for one gRPC server: a status per service name ("" is the whole server). */
export class GrpcHealth {
  readonly #statuses = new Map<string, ServingStatus>();
  readonly #watchers = new Map<string, Set<(status: ServingStatus) => void>>();

  constructor(initial: Readonly<Record<string, ServingStatus>> = {}) {
    for (const [service, status] of Object.entries(initial)) this.#statuses.set(service, status);
  }

  /** Sets a service's status and tells its watchers. */
  setStatus(service: string, status: ServingStatus): void {
    this.#statuses.set(service, status);
    for (const watcher of this.#watchers.get(service) ?? []) watcher(status);
  }

  /** Adds the Health service to `server`. */
  addToServer(server: Pick<grpc.Server, "addService">): void {
    server.addService(HEALTH_SERVICE, {
      Check: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        const service = decodeServiceName(call.request);
        const status = this.#statuses.get(service);
        if (status) callback(null, encodeStatus(status));
        else
          callback({ code: grpc.status.NOT_FOUND, details: `Health status unknown for service ${service}` });
      },
      Watch: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
        const service = decodeServiceName(call.request);
        const watcher = (status: ServingStatus) => call.write(encodeStatus(status));
        const watchers = this.#watchers.get(service) ?? new Set();
        this.#watchers.set(service, watchers);
        watchers.add(watcher);
        call.on("cancelled", () => {
          watchers.delete(watcher);
          // A name nobody watches any more is forgotten: a client cycling names grows nothing.
          if (watchers.size === 0 && this.#watchers.get(service) === watchers) this.#watchers.delete(service);
        });
        call.write(encodeStatus(this.#statuses.get(service) ?? "SERVICE_UNKNOWN"));
      },
      List: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        if (this.#statuses.size > LIST_LIMIT)
          callback({ code: grpc.status.RESOURCE_EXHAUSTED, details: "Too many services to list." });
        else callback(null, encodeList(this.#statuses));
      },
    });
  }
}
