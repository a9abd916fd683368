/**
 * A structured JSON logger with the keys Powertools for AWS Lambda writes (level, message, timestamp,
 * service, cold_start, function_request_id, xray_trace_id, plus appended keys), in-house so that no
 * package ships in the function archives. Plain closures: no class, no `this` (closure serialization).
 */
import type { LambdaContext } from "./lambda";

export type LogLevel = "DEBUG" | "INFO" | "WARN" | "ERROR";
const RANK: Record<LogLevel, number> = { DEBUG: 10, INFO: 20, WARN: 30, ERROR: 40 };

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
    now?: () => Date;
}

export function parseLogLevel(level: string | undefined): LogLevel {
    const upper = (level ?? "INFO").toUpperCase();
    return upper === "DEBUG" || upper === "WARN" || upper === "ERROR" ? upper : "INFO";
}

/** Errors become {name, message, stack}; everything else is kept as it is. */
function serializable(value: unknown): unknown {
    if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
    return value;
}

export function createLogger(options: LoggerOptions): Logger {
    const threshold = RANK[parseLogLevel(options.level)];
    const write = options.write ?? ((line: string) => void process.stdout.write(line));
    const now = options.now ?? (() => new Date());
    const state = {
        coldStart: true,
        invocations: 0,
        context: {} as Record<string, unknown>,
        keys: {} as Record<string, unknown>,
    };

    const emit = (level: LogLevel, message: string, extra?: Record<string, unknown>) => {
        if (RANK[level] < threshold) return;
        const line: Record<string, unknown> = {
            level,
            message,
            timestamp: now().toISOString(),
            service: options.service,
            ...state.context,
            ...state.keys,
        };
        for (const [k, v] of Object.entries(extra ?? {})) line[k] = serializable(v);
        const trace = process.env._X_AMZN_TRACE_ID?.match(/Root=([^;]+)/)?.[1];
        if (trace) line.xray_trace_id = trace;
        let text: string;
        try {
            text = JSON.stringify(line);
        } catch {
            text = JSON.stringify({
                level,
                message,
                timestamp: line.timestamp,
                service: options.service,
                note: "unserializable extra keys dropped",
            });
        }
        write(`${text}\n`);
    };

    return {
        debug: (m, e) => emit("DEBUG", m, e),
        info: (m, e) => emit("INFO", m, e),
        warn: (m, e) => emit("WARN", m, e),
        error: (m, e) => emit("ERROR", m, e),
        appendKeys: (keys) => {
            for (const [k, v] of Object.entries(keys)) if (v !== undefined) state.keys[k] = v;
        },
        removeKeys: (names) => {
            for (const n of names) delete state.keys[n];
        },
        addContext: (context) => {
            state.invocations += 1;
            state.keys = {};
            state.context = {
                cold_start: state.invocations === 1,
                function_request_id: context?.awsRequestId,
                function_name: context?.functionName,
                function_memory_size: context?.memoryLimitInMB,
                function_arn: context?.invokedFunctionArn,
            };
        },
    };
}
