import { describe, expect, it } from "vitest";
import { closestKey, didYouMean, editDistance } from "./closest-key.js";

describe("editDistance", () => {
  it("counts insertions, deletions, substitutions and adjacent swaps, ignoring case", () => {
    expect(editDistance("view-contact", "view-contacts")).toBe(1);
    expect(editDistance("veiw-contacts", "view-contacts")).toBe(1);
    expect(editDistance("CONTACTS_READ", "contacts_read")).toBe(0);
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(editDistance("", "abc")).toBe(3);
  });
  it("stops early past the limit", () => {
    expect(editDistance("abcdefgh", "zyxwvuts", 2)).toBe(3);
  });
});

describe("closestKey", () => {
  const keys = [
    "calabrio-one/view-contacts",
    "calabrio-one/view-scored-contacts",
    "calabrio-one/edit-contacts",
    "cxengage/CONTACTS_READ",
    "cxengage/CONTACTS_UPDATE",
    "zoom-contact-center/RptWallboard:Read",
    "zoom-contact-center/RptWallboard:Edit",
    "maxcontact/view-contact",
  ];

  it("suggests the key a typo most likely meant", () => {
    expect(closestKey("calabrio-one/view-contact", keys)).toBe("calabrio-one/view-contacts");
    expect(closestKey("cxengage/CONTACT_READ", keys)).toBe("cxengage/CONTACTS_READ");
    expect(closestKey("zoom-contact-center/rptwallboard:read", keys)).toBe(
      "zoom-contact-center/RptWallboard:Read",
    );
    expect(closestKey("cxengag/CONTACTS_READ", keys)).toBe("cxengage/CONTACTS_READ");
  });

  it("prefers a key of the same system over a nearer key of another", () => {
    // maxcontact/view-contact is an exact local match, but the caller asked about calabrio-one.
    expect(closestKey("calabrio-one/view-contact", keys)).toBe("calabrio-one/view-contacts");
  });

  it("compares a local input with local parts", () => {
    expect(closestKey("CONTACTS_REA", keys)).toBe("cxengage/CONTACTS_READ");
  });

  it("returns null when nothing is reasonably close", () => {
    expect(closestKey("calabrio-one/delete-everything", keys)).toBeNull();
    expect(closestKey("xyz", keys)).toBeNull();
    expect(closestKey("anything", [])).toBeNull();
  });

  it("breaks ties alphabetically so the answer is stable", () => {
    expect(closestKey("s/ab", ["s/ac", "s/aa"])).toBe("s/aa");
    expect(closestKey("s/ab", ["s/aa", "s/ac"])).toBe("s/aa");
  });

  it("formats a suffix for messages", () => {
    expect(didYouMean("calabrio-one/view-contact", keys)).toBe(
      " (did you mean 'calabrio-one/view-contacts'?)",
    );
    expect(didYouMean("nothing-like-it", keys)).toBe("");
  });
});
