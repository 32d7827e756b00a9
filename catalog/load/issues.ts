/**
 * The problem report of the catalog loader: one `CatalogIssue` per problem, collected in an
 * `IssueList` while every phase runs, and thrown together as one `CatalogError`. The wording
 * helpers every phase uses for "got ..." live here so all messages read the same.
 */

/** One problem found in the catalog: the file, the entry's local id when there is one, and what is wrong. */
export interface CatalogIssue {
  /** The data file, as given to `buildCatalog` or relative to the working directory by `loadCatalog`. */
  readonly file: string;
  /** Local id of the permission, surface, role, license or category concerned; absent for file-level problems. */
  readonly id?: string;
  /** What is wrong, starting with what it concerns: `permission 'CONTACTS_READ': requires unknown permission ...`. */
  readonly message: string;
}

/** `file: message`, the way a person reads an issue. */
export function formatCatalogIssue(issue: CatalogIssue): string {
  return `${issue.file}: ${issue.message}`;
}

/** The catalog is invalid; `issues` lists every problem found, in file order. */
export class CatalogError extends Error {
  override readonly name = "CatalogError";
  /** Every problem found, grouped by file in the order the files were read. */
  readonly issues: readonly CatalogIssue[];

  constructor(issues: readonly CatalogIssue[]) {
    const n = issues.length;
    super(
      `invalid catalog: ${n} problem${n === 1 ? "" : "s"}\n${issues.map((i) => `  ${formatCatalogIssue(i)}`).join("\n")}`,
    );
    this.issues = issues;
  }
}

/** Collects the issues of every file, in the order the phases find them. */
export class IssueList {
  /** Every issue so far. */
  readonly list: CatalogIssue[] = [];
  /** Records a problem of `file`; `id` is the entry's local id, absent for file-level problems. */
  add(file: string, id: string | undefined, message: string): void {
    this.list.push(id === undefined ? { file, message } : { file, id, message });
  }
}

/** A short description of a value for "got ..." in messages. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "nothing (the field is missing)";
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return value === "" ? "an empty string" : `'${value}'`;
  if (typeof value === "object") return "an object";
  return `${typeof value} ${String(value)}`;
}

/** The message of a thrown value, whatever was thrown. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
