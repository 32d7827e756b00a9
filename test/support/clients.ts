/**
 * Clients a real caller would use: a stock @grpc/grpc-js client built from our .proto files with
 * proto-loader (no rolecall code involved), and a Connect client from connect-node.
 */
import { join } from "node:path";
import type { DescService } from "@bufbuild/protobuf";
import { type Client, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";

const PROTO_DIR = join(import.meta.dirname, "..", "..", "proto");

const definition = loadSync(
  ["rolecall/v1/policy.proto", "rolecall/v1/catalog.proto", "rolecall/v1/admin.proto"],
  {
    includeDirs: [PROTO_DIR],
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  },
);
const v1 = (
  grpc.loadPackageDefinition(definition) as unknown as {
    rolecall: { v1: Record<string, grpc.ServiceClientConstructor> };
  }
).rolecall.v1;

/** A unary call as a promise: `call(client, "CheckPermission", req, metadata?)`. */
export function unary<T = Record<string, unknown>>(
  client: grpc.Client,
  method: string,
  request: object,
  options: { token?: string; deadlineMs?: number; metadata?: Record<string, string> } = {},
): Promise<T> {
  const metadata = new grpc.Metadata();
  if (options.token) metadata.set("authorization", `Bearer ${options.token}`);
  for (const [k, v] of Object.entries(options.metadata ?? {})) metadata.set(k, v);
  const fn = (client as unknown as Record<string, (...args: unknown[]) => void>)[method];
  if (!fn) throw new Error(`no method ${method}`);
  return new Promise((resolve, reject) => {
    fn.call(
      client,
      request,
      metadata,
      { deadline: Date.now() + (options.deadlineMs ?? 5_000) },
      (err: grpc.ServiceError | null, res: T) => (err ? reject(err) : resolve(res)),
    );
  });
}

/**
 * Stock grpc-js clients for the three services; cleartext unless given credentials (TLS tests).
 * `address` may be `host:port` or `unix:/path`.
 */
export function grpcClients(
  address: string,
  creds: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
  channelOptions: grpc.ChannelOptions = {},
) {
  return {
    policy: new v1.PolicyService!(address, creds, channelOptions),
    catalog: new v1.CatalogService!(address, creds, channelOptions),
    admin: new v1.AdminService!(address, creds, channelOptions),
    close() {
      this.policy.close();
      this.catalog.close();
      this.admin.close();
    },
  };
}

/** A Connect (JSON over HTTP/1.1) client for a service, optionally with a bearer token and extra headers. */
export function connectClient<S extends DescService>(
  service: S,
  baseUrl: string,
  options: { token?: string; headers?: Record<string, string> } = {},
): Client<S> {
  const transport = createConnectTransport({
    baseUrl,
    httpVersion: "1.1",
    interceptors: [
      (next) => (req) => {
        if (options.token) req.header.set("authorization", `Bearer ${options.token}`);
        for (const [k, v] of Object.entries(options.headers ?? {})) req.header.set(k, v);
        return next(req);
      },
    ],
  });
  return createClient(service, transport);
}
