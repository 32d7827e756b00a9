/** Structured JSON logs (pino) to stdout; one logger per process, children per component. */
import { type Logger, pino } from "pino";

/** Creates the process logger at a level (`info` by default). */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: "rolecall" } });
}

export type { Logger };
