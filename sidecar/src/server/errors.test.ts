import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { StoreError } from "../store/store-error.js";
import { toRpcError } from "./errors.js";

describe("toRpcError", () => {
  it("maps domain codes, a locked store and unknown faults", () => {
    expect(toRpcError(new StoreError("FAILED_PRECONDITION", "role held by 2 users")).code).toBe(
      Code.FailedPrecondition,
    );
    const busy = Object.assign(new Error("database is locked"), { code: "SQLITE_BUSY" });
    expect(toRpcError(busy)).toMatchObject({
      code: Code.Unavailable,
      message: expect.stringContaining("retry"),
    });
    expect(toRpcError(Object.assign(new Error("x"), { code: "toString" })).code).toBe(Code.Internal);
    expect(toRpcError(new TypeError("boom")).message).not.toContain("boom");
  });
});
