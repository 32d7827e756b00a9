/** The gRPC listener: our services, grpc.health.v1, reflection, on TCP loopback or a unix socket. */
import { chmodSync, existsSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { Code } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import type * as ProtoLoader from "@grpc/proto-loader";
import type { PackageDefinition } from "@grpc/proto-loader";
import type * as Reflection from "@grpc/reflection";
import { packageRoot } from "../package-root.js";
import { type DoneHook, type ErrorHook, toGrpcService } from "./grpc-adapter.js";
import { type GrpcHealth, HEALTH_PROTO_PATH } from "./grpc-health.js";
import { formatHostPort, parseListenAddress } from "./listen-address.js";
import { RpcError, requestIdFrom, type ServiceBinding } from "./rpc.js";

/** Certificate files for TLS; with `clientCa`, clients must present a certificate it signed. */
export interface TlsFiles {
  readonly cert: string;
  readonly key: string;
  readonly clientCa?: string;
}

/** Options of the gRPC listener. */
export interface GrpcListenerOptions {
  /** `host:port` or `unix:/path`. */
  readonly address: string;
  readonly bindings: readonly ServiceBinding[];
  readonly health: GrpcHealth;
  /** Largest request accepted. */
  readonly maxMessageBytes: number;
  /** Concurrent streams per HTTP/2 connection. */
  readonly maxConcurrentStreams: number;
  /** Close a connection after this long without a call. */
  readonly maxConnectionIdleMs: number;
  /** Serve TLS instead of cleartext. */
  readonly tls?: TlsFiles | undefined;
  readonly onError: ErrorHook;
  /** Observes each answered unary call. */
  readonly onDone?: DoneHook;
}

/** A running gRPC listener. */
export interface GrpcListener {
  /** Where it listens, with the real port when 0 was asked for. */
  readonly address: string;
  /** Stops accepting, lets in-flight calls finish for up to `graceMs`, then cancels the rest. */
  close(graceMs: number): Promise<void>;
}

function credentials(tls: TlsFiles | undefined): grpc.ServerCredentials {
  if (!tls) return grpc.ServerCredentials.createInsecure();
  return grpc.ServerCredentials.createSsl(
    tls.clientCa ? readFileSync(tls.clientCa) : null,
    [{ cert_chain: readFileSync(tls.cert), private_key: readFileSync(tls.key) }],
    Boolean(tls.clientCa),
  );
}

type AddedService = {
  definition: grpc.ServiceDefinition;
  implementation: grpc.UntypedServiceImplementation;
};

/**
 * Server reflection's libraries (@grpc/reflection, @grpc/proto-loader and protobufjs), required
 * on the first reflection call: ~2 MB of heap and their code that few sidecars ever need.
 */
const requireOnUse = createRequire(import.meta.url);

/** What ReflectionService.addToServer adds for a package, recorded instead of added. */
function reflectionServices(pkg: PackageDefinition): AddedService[] {
  const { ReflectionService } = requireOnUse("@grpc/reflection") as typeof Reflection;
  const added: AddedService[] = [];
  new ReflectionService(pkg).addToServer({
    addService: (definition, implementation) => added.push({ definition, implementation }),
  });
  return added;
}

/** The reflection services (v1, then v1alpha: the order ReflectionService adds them in). */
const REFLECTION_SERVICES = [
  "grpc.reflection.v1.ServerReflection",
  "grpc.reflection.v1alpha.ServerReflection",
];
const REFLECTION_METHOD = "ServerReflectionInfo";

/** The definition of reflection service `i`, its (de)serializers taken from `real()` when used. */
function lazyReflectionDefinition(i: number, real: () => AddedService[]): grpc.ServiceDefinition {
  const method = () => real()[i]!.definition[REFLECTION_METHOD]!;
  return {
    [REFLECTION_METHOD]: {
      path: `/${REFLECTION_SERVICES[i]}/${REFLECTION_METHOD}`,
      requestStream: true,
      responseStream: true,
      originalName: "serverReflectionInfo",
      requestSerialize: (value: unknown) => method().requestSerialize(value),
      requestDeserialize: (bytes: Buffer) => method().requestDeserialize(bytes),
      responseSerialize: (value: unknown) => method().responseSerialize(value),
      responseDeserialize: (bytes: Buffer) => method().responseDeserialize(bytes),
    },
  };
}

/**
 * Server reflection, loaded and indexed on its first call: parsing our .proto files and encoding
 * every descriptor took ~110 ms of a ~300 ms start, and its libraries ~2 MB of resident heap, for
 * a service few sidecars are ever asked. Both services are registered at start with definitions
 * written here; the real handlers, over our package, are built when a reflection call arrives
 * (before its first message is decoded).
 */
export function addLazyReflection(
  server: Pick<grpc.Server, "addService">,
  load: () => PackageDefinition,
  onError: ErrorHook,
): void {
  let real: AddedService[] | undefined;
  const loaded = () => {
    real ??= reflectionServices(load());
    return real;
  };
  REFLECTION_SERVICES.forEach((_, i) => {
    const definition = lazyReflectionDefinition(i, loaded);
    const implementation: grpc.UntypedServiceImplementation = {};
    for (const [name, method] of Object.entries(definition)) {
      implementation[name] = (call: grpc.ServerDuplexStream<unknown, unknown>) => {
        try {
          loaded();
        } catch (cause) {
          // grpc-js would answer a bare UNKNOWN and log nothing: say what broke.
          const err = new RpcError(Code.Internal, "server reflection is unavailable; see the sidecar's log");
          onError(method.path.slice(1), err, cause, requestIdFrom(undefined));
          call.emit("error", Object.assign(new Error(err.message), { code: grpc.status.INTERNAL }));
          return;
        }
        (real![i]!.implementation[name] as (call: unknown) => void)(call);
      };
    }
    server.addService(definition, implementation);
  });
}

/** Starts the gRPC listener. */
export async function startGrpcListener(options: GrpcListenerOptions): Promise<GrpcListener> {
  const parsed = parseListenAddress(options.address, "gRPC address");
  const server = new grpc.Server({
    "grpc.max_receive_message_length": options.maxMessageBytes,
    "grpc.max_concurrent_streams": options.maxConcurrentStreams,
    "grpc.max_connection_idle_ms": options.maxConnectionIdleMs,
    // grpc-js's channelz bookkeeping (per-call counters and traces for a channelz service we do
    // not serve) was ~5% of the bytes a check allocates, and garbage is what sets resident memory.
    "grpc.enable_channelz": 0,
  });
  for (const binding of options.bindings) {
    const { definition, implementation } = toGrpcService(binding, options.onError, options.onDone);
    server.addService(definition, implementation);
  }
  options.health.addToServer(server);
  const protoFiles = ["rolecall/v1/policy.proto", "rolecall/v1/catalog.proto", "rolecall/v1/admin.proto"];
  const protoDir = join(packageRoot(), "proto");
  // Loaded on the first reflection call; a missing file must still stop the start, not that call.
  for (const file of [...protoFiles.map((f) => join(protoDir, f)), HEALTH_PROTO_PATH]) {
    if (!existsSync(file)) throw new Error(`${file} is missing; reinstall rolecall`);
  }
  addLazyReflection(
    server,
    () =>
      (requireOnUse("@grpc/proto-loader") as typeof ProtoLoader).loadSync(
        [...protoFiles, HEALTH_PROTO_PATH],
        {
          keepCase: true,
          includeDirs: [protoDir],
        },
      ),
    options.onError,
  );

  if (parsed.kind === "unix" && existsSync(parsed.path)) rmSync(parsed.path); // a stale socket from a crash
  const target = parsed.kind === "unix" ? `unix:${parsed.path}` : formatHostPort(parsed.host, parsed.port);
  // A socket is created with the umask's mode: make it 0600 from the start, not a moment later.
  const umask = parsed.kind === "unix" ? process.umask(0o177) : undefined;
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(target, credentials(options.tls), (err, boundPort) =>
        err ? reject(err) : resolve(boundPort),
      );
    });
  } finally {
    if (umask !== undefined) process.umask(umask);
  }
  if (parsed.kind === "unix") chmodSync(parsed.path, 0o600); // only this user's services may call
  const address = parsed.kind === "unix" ? target : formatHostPort(parsed.host, port);

  return {
    address,
    close: (graceMs) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => server.forceShutdown(), graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}
