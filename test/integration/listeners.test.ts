/**
 * The gRPC listener in the shapes an operator deploys it: on a unix socket only this user may
 * open, behind TLS, behind mutual TLS, and with server reflection for grpcurl-style tools. Each
 * case drives the real sidecar process with a stock grpc-js client.
 */
import { execFileSync } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { grpcClients, unary } from "../support/clients.js";
import { type SidecarProcess, startSidecarProcess } from "../support/sidecar-process.js";

const ROOT = join(import.meta.dirname, "..", "..");
const DAVE_UPDATE = { tenant_id: "demo", user_id: "dave", permission: "cxengage/CONTACTS_UPDATE" };

/** dave's demo denial: proves the call reached the engine, not just the socket. */
async function expectDaveDenied(clients: ReturnType<typeof grpcClients>): Promise<void> {
  const res = await unary(clients.policy, "CheckPermission", DAVE_UPDATE, { deadlineMs: 5_000 });
  expect(res).toMatchObject({ allowed: false, reason: "REASON_NOT_GRANTED" });
  expect(Number(res.revision)).toBeGreaterThan(0);
}

/** The error a refused call ends with (it must be refused, not answered). */
async function refusal(clients: ReturnType<typeof grpcClients>): Promise<grpc.ServiceError> {
  const outcome = await unary(clients.policy, "CheckPermission", DAVE_UPDATE, { deadlineMs: 3_000 }).then(
    (res) => ({ answered: res }),
    (err: grpc.ServiceError) => err,
  );
  expect(outcome).not.toHaveProperty("answered");
  return outcome as grpc.ServiceError;
}

describe("gRPC on a unix socket, with reflection", () => {
  let dir: string;
  let socketPath: string;
  let sidecar: SidecarProcess;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "rolecall-sock-"));
    socketPath = join(dir, "rolecall.sock");
    sidecar = await startSidecarProcess({ args: ["--grpc-addr", `unix:${socketPath}`] });
  });
  afterAll(async () => {
    await sidecar?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("creates the socket with mode 0600", () => {
    expect(sidecar.grpcAddress).toBe(`unix:${socketPath}`);
    const st = statSync(socketPath);
    expect(st.isSocket()).toBe(true);
    // Any bit beyond the owner's read/write would let another local user call the sidecar.
    expect((st.mode & 0o777).toString(8)).toBe("600");
  });

  it("answers a stock grpc-js client dialling unix:/path", async () => {
    const clients = grpcClients(`unix:${socketPath}`);
    try {
      await expectDaveDenied(clients);
    } finally {
      clients.close();
    }
  });

  // Reflection is what grpcurl and Postman use to discover the API without the .proto files.
  const reflectionProto = loadSync(
    ["grpc/reflection/v1/reflection.proto", "grpc/reflection/v1alpha/reflection.proto"],
    {
      includeDirs: [join(ROOT, "node_modules/@grpc/reflection/build/proto")],
      keepCase: true,
      defaults: true,
      oneofs: true,
    },
  );
  const reflectionPkg = (
    grpc.loadPackageDefinition(reflectionProto) as unknown as {
      grpc: { reflection: Record<"v1" | "v1alpha", { ServerReflection: grpc.ServiceClientConstructor }> };
    }
  ).grpc.reflection;

  interface ReflectionResponse {
    list_services_response?: { service: { name: string }[] };
    file_descriptor_response?: { file_descriptor_proto: Buffer[] };
    error_response?: { error_code: number; error_message: string };
  }

  /** One request on the bidirectional ServerReflectionInfo stream; resolves with the first answer. */
  function reflect(version: "v1" | "v1alpha", request: object): Promise<ReflectionResponse> {
    const client = new reflectionPkg[version].ServerReflection(
      `unix:${socketPath}`,
      grpc.credentials.createInsecure(),
    );
    const info = (
      client as unknown as Record<
        string,
        (opts: grpc.CallOptions) => grpc.ClientDuplexStream<object, ReflectionResponse>
      >
    ).ServerReflectionInfo!;
    return new Promise<ReflectionResponse>((resolve, reject) => {
      const call = info.call(client, { deadline: Date.now() + 5_000 });
      call.on("data", (res: ReflectionResponse) => {
        resolve(res);
        call.end();
      });
      call.on("error", reject);
      call.on("end", () => reject(new Error("reflection stream ended without an answer")));
      call.write(request);
    }).finally(() => client.close());
  }

  it.each(["v1", "v1alpha"] as const)("lists rolecall's services over reflection %s", async (version) => {
    const res = await reflect(version, { list_services: "*" });
    const names = res.list_services_response?.service.map((s) => s.name) ?? [];
    expect(names).toEqual(
      expect.arrayContaining([
        "rolecall.v1.PolicyService",
        "rolecall.v1.CatalogService",
        "rolecall.v1.AdminService",
        "grpc.health.v1.Health",
      ]),
    );
  });

  it("serves the file descriptor of PolicyService by symbol", async () => {
    const res = await reflect("v1", { file_containing_symbol: "rolecall.v1.PolicyService" });
    expect(res.error_response).toBeUndefined();
    const files = res.file_descriptor_response?.file_descriptor_proto ?? [];
    expect(files.length).toBeGreaterThan(0);
    // A serialized FileDescriptorProto holds its package, service and method names as plain
    // strings. (@grpc/reflection names the file after the package, not after policy.proto.)
    const text = Buffer.concat(files).toString("latin1");
    expect(text).toContain("rolecall.v1");
    expect(text).toContain("PolicyService");
    expect(text).toContain("CheckPermission");
    expect(text).toContain(".rolecall.v1.CheckPermissionResponse");
  });
});

describe("gRPC over TLS and mutual TLS", () => {
  let dir: string;
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  const ecKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "rolecall-tls-"));
    // The server's certificate is self-signed, for the names the client dials.
    openssl(
      "req",
      "-x509",
      ...ecKey,
      "-keyout",
      "server.key",
      "-out",
      "server.crt",
      "-days",
      "1",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
    );
    // Client certificates come from a separate CA the sidecar is told to trust, and from a
    // second CA it is not.
    writeFileSync(file("client.ext"), "extendedKeyUsage=clientAuth\n");
    for (const ca of ["client-ca", "rogue-ca"]) {
      openssl(
        "req",
        "-x509",
        ...ecKey,
        "-keyout",
        `${ca}.key`,
        "-out",
        `${ca}.crt`,
        "-days",
        "1",
        "-subj",
        `/CN=${ca}`,
      );
      const leaf = ca === "client-ca" ? "client" : "rogue";
      openssl(
        "req",
        ...ecKey,
        "-keyout",
        `${leaf}.key`,
        "-out",
        `${leaf}.csr`,
        "-subj",
        `/CN=${leaf}-service`,
      );
      openssl(
        "x509",
        "-req",
        "-in",
        `${leaf}.csr`,
        "-CA",
        `${ca}.crt`,
        "-CAkey",
        `${ca}.key`,
        "-CAcreateserial",
        "-out",
        `${leaf}.crt`,
        "-days",
        "1",
        "-extfile",
        "client.ext",
      );
    }
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const serverCa = () => readFileSync(file("server.crt"));
  const withClientCert = (leaf: string) =>
    grpc.credentials.createSsl(
      serverCa(),
      readFileSync(file(`${leaf}.key`)),
      readFileSync(file(`${leaf}.crt`)),
    );

  describe("TLS", () => {
    let sidecar: SidecarProcess;
    beforeAll(async () => {
      sidecar = await startSidecarProcess({
        args: ["--tls-cert", file("server.crt"), "--tls-key", file("server.key")],
      });
    });
    afterAll(async () => {
      await sidecar?.stop();
    });

    it("serves a client that trusts the server's certificate", async () => {
      const clients = grpcClients(sidecar.grpcAddress, grpc.credentials.createSsl(serverCa()));
      try {
        await expectDaveDenied(clients);
      } finally {
        clients.close();
      }
    });

    it("does not speak cleartext on the TLS port", async () => {
      const clients = grpcClients(sidecar.grpcAddress);
      try {
        expect((await refusal(clients)).code).toBe(grpc.status.UNAVAILABLE);
      } finally {
        clients.close();
      }
    });

    it("is refused by a client that does not trust the certificate", async () => {
      const clients = grpcClients(
        sidecar.grpcAddress,
        grpc.credentials.createSsl(readFileSync(file("rogue-ca.crt"))),
      );
      try {
        expect((await refusal(clients)).code).toBe(grpc.status.UNAVAILABLE);
      } finally {
        clients.close();
      }
    });
  });

  describe("mutual TLS", () => {
    let sidecar: SidecarProcess;
    beforeAll(async () => {
      sidecar = await startSidecarProcess({
        args: [
          "--tls-cert",
          file("server.crt"),
          "--tls-key",
          file("server.key"),
          "--tls-client-ca",
          file("client-ca.crt"),
        ],
      });
    });
    afterAll(async () => {
      await sidecar?.stop();
    });

    it("serves a client whose certificate the client CA signed", async () => {
      const clients = grpcClients(sidecar.grpcAddress, withClientCert("client"));
      try {
        await expectDaveDenied(clients);
      } finally {
        clients.close();
      }
    });

    it("refuses a client without a certificate", async () => {
      const clients = grpcClients(sidecar.grpcAddress, grpc.credentials.createSsl(serverCa()));
      try {
        expect((await refusal(clients)).code).toBe(grpc.status.UNAVAILABLE);
      } finally {
        clients.close();
      }
    });

    it("refuses a client whose certificate another CA signed", async () => {
      const clients = grpcClients(sidecar.grpcAddress, withClientCert("rogue"));
      try {
        expect((await refusal(clients)).code).toBe(grpc.status.UNAVAILABLE);
      } finally {
        clients.close();
      }
    });
  });
});

describe("connection and deadline limits an operator sets", () => {
  let sidecar: SidecarProcess;
  let clients: ReturnType<typeof grpcClients>;

  beforeAll(async () => {
    sidecar = await startSidecarProcess({ args: ["--max-idle-ms", "300", "--max-timeout-ms", "400"] });
    clients = grpcClients(sidecar.grpcAddress);
  });
  afterAll(async () => {
    clients?.close();
    await sidecar?.stop();
  });

  it("closes a connection idle past --max-idle-ms; the client reconnects on its next call", async () => {
    await expectDaveDenied(clients);
    const channel = clients.policy.getChannel();
    expect(channel.getConnectivityState(false)).toBe(grpc.connectivityState.READY);
    // grpc-js clients keep an idle channel 30 minutes: turning IDLE within seconds is the server's GOAWAY.
    const started = Date.now();
    while (
      channel.getConnectivityState(false) === grpc.connectivityState.READY &&
      Date.now() - started < 5_000
    )
      await new Promise((r) => setTimeout(r, 50));
    expect(channel.getConnectivityState(false)).toBe(grpc.connectivityState.IDLE);
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
    await expectDaveDenied(clients);
  });

  it("closes a raw socket that never speaks HTTP/2 after --max-idle-ms too", async () => {
    const url = new URL(`http://${sidecar.grpcAddress}`);
    const started = Date.now();
    const socket = connect(Number(url.port), url.hostname);
    socket.on("data", () => {});
    socket.on("error", () => {});
    const closed = await Promise.race([
      once(socket, "close").then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 5_000)),
    ]);
    socket.destroy();
    expect(closed).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
  });

  it("holds a min_revision wait no longer than --max-timeout-ms, whatever deadline the caller set", async () => {
    const started = Date.now();
    const outcome = await unary(
      clients.policy,
      "CheckPermission",
      { ...DAVE_UPDATE, min_revision: "999999999" },
      { deadlineMs: 3_600_000 },
    ).catch((err: grpc.ServiceError) => err);
    expect(outcome).toMatchObject({
      code: grpc.status.UNAVAILABLE,
      details: expect.stringMatching(/not yet 999999999/),
    });
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
