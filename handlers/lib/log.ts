/**
 * The processors' structured logger: Powertools for AWS Lambda (TypeScript) Logger behind the small
 * interface the handlers call. Powertools writes the documented keys (level, message, timestamp,
 * service, cold_start, function_request_id, function_name, function_arn, function_memory_size,
 * sampling_rate, xray_trace_id, plus appended keys); in Lambda the package comes from the official
 * layer (infra/powertools.ts), in tests and the local cloud from node_modules. Create a logger inside a
 * callbackFactory or handler, never at deploy time (the closure serializer cannot capture its instance).
 */
import { Console } from "node:console";
import { Logger as PowertoolsLogger } from "@aws-lambda-powertools/logger";
import type { LogAttributes } from "@aws-lambda-powertools/logger/types";
import type { LambdaContext } from "./lambda";

export type LogLevel = "DEBUG" | "INFO" | "WARN" | "ERROR";

export interface Logger {
    debug(message: string, extra?: Record<string, unknown>): void;
    info(message: string, extra?: Record<string, unknown>): void;
    warn(message: string, extra?: Record<string, unknown>): void;
    error(message: string, extra?: Record<string, unknown>): void;
    /** Keys on every following line until removed or reset (e.g. notificationId, channel). */
    appendKeys(keys: Record<string, unknown>): void;
    removeKeys(names: string[]): void;
    /** Starts an invocation: request id, cold start flag, trace id; clears the previous invocation's keys. */
    addContext(context: Partial<LambdaContext> | undefined): void;
}

export interface LoggerOptions {
    service: string;
    level?: string;
    /** Where lines go; process.stdout.write unless a test captures them. */
    write?: (line: string) => void;
}

export function parseLogLevel(level: string | undefined): LogLevel {
    const upper = (level ?? "INFO").toUpperCase();
    return upper === "DEBUG" || upper === "WARN" || upper === "ERROR" ? upper : "INFO";
}

/**
 * A console whose two streams are one writer. Lambda sends stdout and stderr to the same log stream;
 * Powertools prints WARN/ERROR through console.warn/error (stderr), so one stream keeps the lines in
 * order and lets the local cloud and the tests read every line where they read the rest.
 */
export function lineConsole(write?: (line: string) => void): Console {
    const stream = write
        ? {
              write: (chunk: string) => {
                  write(String(chunk));
                  return true;
              },
          }
        : { write: (chunk: string) => process.stdout.write(chunk) };
    return new Console({
        stdout: stream as unknown as NodeJS.WritableStream,
        stderr: stream as unknown as NodeJS.WritableStream,
        ignoreErrors: false,
    });
}

/** Powertools keeps its console in a field its types mark private; both utilities print through it. */
export function routeOutput(utility: object, write?: (line: string) => void): void {
    (utility as { console: Console }).console = lineConsole(write);
}

export function createLogger(options: LoggerOptions): Logger {
    const logger = new PowertoolsLogger({ serviceName: options.service, logLevel: parseLogLevel(options.level) });
    routeOutput(logger, options.write);
    const at = (level: "debug" | "info" | "warn" | "error") => (message: string, extra?: Record<string, unknown>) =>
        extra ? logger[level](message, extra as LogAttributes) : logger[level](message);
    return {
        debug: at("debug"),
        info: at("info"),
        warn: at("warn"),
        error: at("error"),
        appendKeys: (keys) => {
            const defined = Object.fromEntries(Object.entries(keys).filter(([, v]) => v !== undefined));
            logger.appendKeys(defined as LogAttributes);
        },
        removeKeys: (names) => logger.removeKeys(names),
        addContext: (context) => {
            logger.resetKeys();
            // Powertools takes aws-lambda's full Context type; it reads only these fields of it.
            const { awsRequestId, functionName, functionVersion, memoryLimitInMB, invokedFunctionArn } = context ?? {};
            const fields = { awsRequestId, functionName, functionVersion, memoryLimitInMB, invokedFunctionArn };
            logger.addContext(fields as unknown as Parameters<PowertoolsLogger["addContext"]>[0]);
        },
    };
}
