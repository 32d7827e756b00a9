/** The page's signed-in user, as the page declares it in `<meta name="rolecall-subject" content="TENANT/USER">`. */
import { parseSubject, type Subject } from "../messages.js";

/** The raw `content` of the subject meta tag, or null. */
export function readSubjectText(doc: Document = document): string | null {
  return doc.querySelector('meta[name="rolecall-subject"]')?.getAttribute("content") ?? null;
}

/** The page's subject, or undefined when the page declares none (then there is no overlay). */
export function readPageSubject(doc: Document = document): Subject | undefined {
  return parseSubject(readSubjectText(doc));
}
