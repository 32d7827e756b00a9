#!/usr/bin/env node
// Readiness probe: asks grpc.health.v1 Check over the sidecar's gRPC listener (a unix socket
// too, which Kubernetes' own grpc probe cannot reach) and exits 0 only on SERVING.
//   node deploy/grpc-health-probe.mjs unix:/var/run/rolecall/rolecall.sock [SERVICE]
// Exit 1: not serving or no answer within 2 s; exit 2: usage.
import * as grpc from "@grpc/grpc-js";

const [address, service = ""] = process.argv.slice(2);
if (!address) {
  process.stderr.write("usage: grpc-health-probe.mjs ADDRESS [SERVICE]\n");
  process.exit(2);
}
// HealthCheckRequest {service} encoded by hand (field 1, length-delimited): no .proto needed.
const name = Buffer.from(service, "utf8");
const request = name.length === 0 ? Buffer.alloc(0) : Buffer.concat([Buffer.from([0x0a, name.length]), name]);
const client = new grpc.Client(address, grpc.credentials.createInsecure());
const identity = (b) => b;
client.makeUnaryRequest(
  "/grpc.health.v1.Health/Check",
  identity,
  identity,
  request,
  { deadline: Date.now() + 2_000 },
  (err, answer) => {
    client.close();
    // HealthCheckResponse {status: SERVING} is `08 01`.
    const serving = !err && answer?.length === 2 && answer[0] === 0x08 && answer[1] === 0x01;
    if (!serving)
      process.stderr.write(`not serving: ${err ? err.message : `status bytes ${answer?.toString("hex")}`}\n`);
    process.exit(serving ? 0 : 1);
  },
);
