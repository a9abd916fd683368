/**
 * `npm run sandbox -- --serve`: the platform's HTTP API on this machine. The local cloud (emulators,
 * data plane, stand-ins) runs the program's *shipped* closures; every route of the program's API
 * (Route → Integration → Function, read from its preview) is served on 127.0.0.1 with API Gateway's
 * behaviour at the edges: SigV4 verification for AWS_IAM routes (403 like API Gateway), JWT verification
 * for JWT routes (401), the payload 2.0 event with the authorizer context, the answer mapped back. After
 * a producer route accepts a request, the channel queues are drained so the senders deliver at once.
 * The web inbox (./inbox/) is served under /inbox/.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { CHANNELS as PROGRAM_CHANNELS } from "../../handlers/core/channels";
import { captureStdout, type LocalPlatform, REGION, startPlatform } from "../local-cloud/platform";
import type { LoadedFunction, ShippedFunction } from "../local-cloud/program";
import { DEMO_USER, TEMPLATES } from "../sandbox/workload";
import { gatewayAnswer, type HttpAnswer, httpAnswerOf, httpApiEvent } from "./event";
import { bearerToken, type DevIssuer, devIssuer } from "./jwt";
import { apiRoutes, type LocalRoute, matchRoute } from "./routes";
import { type LocalCredentials, verifySigV4 } from "./sigv4";

export interface LocalApiOptions {
    stack: string;
    /** 0 (default): a free port. */
    port?: number;
    /** The dev JWT key (base64url, ≥ 32 bytes); default: a fresh one. */
    jwtSecret?: string;
    /** Each request and its deliveries, one line each. */
    print?: (line: string) => void;
    /** Also print the functions' log lines. */
    verbose?: boolean;
    /** Each answer with its timing, before it is written (the bench's latency phase reads it). */
    onAnswer?: (answer: AnswerTiming) => void;
}

/** What the server measured for one request: all of it, and for a function's answer its parts. */
export interface AnswerTiming {
    method: string;
    path: string;
    statusCode: number;
    totalMs: number;
    /** The route function's call (its first call: module load + factory + the call). */
    functionMs?: number;
    /** The channel queues drained after an accepted POST (on AWS: asynchronous, not in the answer). */
    deliveryMs?: number;
}

export interface LocalApi {
    url: string;
    stack: string;
    credentials: LocalCredentials;
    issuer: DevIssuer;
    sampleUserId: string;
    sampleToken: string;
    routes: LocalRoute[];
    platform: LocalPlatform;
    close(): Promise<void>;
}

const ACCOUNT_ID = "000000000000";
/** HTTP API's payload limit. */
const MAX_BODY_BYTES = 10 * 1024 * 1024;
const INBOX_DIR = path.join(__dirname, "inbox");
const STATIC_TYPES: Record<string, string> = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
};

export async function startLocalApi(options: LocalApiOptions): Promise<LocalApi> {
    const platform = await startPlatform({ stack: options.stack });
    try {
        const routes = apiRoutes(platform.program);
        if (routes.length === 0) throw new Error(`the ${options.stack} program declares no API route`);
        await platform.seedTemplates(TEMPLATES);
        await platform.seedUsers([DEMO_USER]);
        const credentials = localCredentials();
        const issuer = devIssuer(options.jwtSecret);
        const server = await startRouteServer({
            ...options,
            routes,
            credentials,
            issuer,
            stage: options.stack,
            environment: (fn) => withLocalSecrets(fn.name, platform.plane.rewriteEnv(fn.environment)),
            afterAccepted: () => deliver(platform, options),
        });
        return {
            url: server.url,
            stack: options.stack,
            credentials,
            issuer,
            sampleUserId: DEMO_USER.userId,
            sampleToken: await issuer.mint(DEMO_USER.userId),
            routes,
            platform,
            async close() {
                await server.close();
                await platform.close();
            },
        };
    } catch (err) {
        await platform.close().catch(() => undefined);
        throw err;
    }
}

/**
 * The preview hides secret values ("[secret]"): the secrets a route function needs get local values of
 * their shape, one per server run. An unknown secret stops the server with its name.
 */
const LOCAL_SECRETS: Record<string, string> = {
    INBOX_CURSOR_KEY: randomBytes(32).toString("base64"),
};

function withLocalSecrets(fnName: string, env: Record<string, string>): Record<string, string> {
    const out = { ...env };
    for (const [name, value] of Object.entries(env)) {
        if (value !== "[secret]") continue;
        if (!(name in LOCAL_SECRETS)) throw new Error(`${fnName}: no local value for its secret ${name}`);
        out[name] = LOCAL_SECRETS[name];
    }
    return out;
}

/** A fresh local access key: printed by `--serve`, the only key the server accepts. */
export function localCredentials(): LocalCredentials {
    return {
        accessKeyId: `AKIALOCAL${randomBytes(6).toString("hex").toUpperCase()}`,
        secretAccessKey: randomBytes(30).toString("base64url"),
        userArn: `arn:aws:iam::${ACCOUNT_ID}:user/local-producer`,
        accountId: ACCOUNT_ID,
    };
}

export interface RouteServerOptions {
    routes: LocalRoute[];
    credentials: LocalCredentials;
    issuer: DevIssuer;
    stage: string;
    /** The environment a route's function runs with (its program environment, mapped to the emulators). */
    environment: (fn: ShippedFunction) => Record<string, string>;
    /** Runs after a producer (IAM) route accepted a POST, before the answer is sent. */
    afterAccepted?: () => Promise<void>;
    port?: number;
    print?: (line: string) => void;
    verbose?: boolean;
    onAnswer?: (answer: AnswerTiming) => void;
}

/** The HTTP side alone: routes, authorizers, events, the inbox page; 127.0.0.1 only. */
export async function startRouteServer(options: RouteServerOptions): Promise<{ url: string; close(): Promise<void> }> {
    const handler = requestHandler(options);
    const server = http.createServer((req, res) => void handler(req, res));
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(options.port ?? 0, "127.0.0.1", resolve);
    });
    const { port } = server.address() as AddressInfo;
    return {
        url: `http://127.0.0.1:${port}`,
        close: async () => {
            server.closeAllConnections();
            await new Promise<void>((resolve) => server.close(() => resolve()));
        },
    };
}

type ServerState = RouteServerOptions;

/**
 * One request at a time (the functions share process.env and the stand-ins, as the program loader
 * requires): each waits for the one before it.
 */
function requestHandler(state: ServerState) {
    const loaded = new Map<string, LoadedFunction>();
    const fnOf = (route: LocalRoute) => {
        if (!loaded.has(route.fn.name)) loaded.set(route.fn.name, route.fn.load(state.environment(route.fn)));
        return loaded.get(route.fn.name)!;
    };
    let queue: Promise<unknown> = Promise.resolve();
    return (req: http.IncomingMessage, res: http.ServerResponse) => {
        const turn = queue.then(async () => {
            const started = Date.now();
            const answer: TimedAnswer = await answerRequest(state, req, fnOf).catch((err) => {
                state.print?.(`error: ${(err as Error).stack ?? err}`);
                return gatewayAnswer(500, "Internal Server Error");
            });
            const totalMs = Date.now() - started;
            state.onAnswer?.({
                method: req.method ?? "GET",
                path: (req.url ?? "/").split("?")[0],
                statusCode: answer.statusCode,
                totalMs,
                ...answer.timing,
            });
            res.writeHead(answer.statusCode, { ...answer.headers, "content-length": answer.body.length });
            res.end(answer.body);
            const fn = answer.timing
                ? `; function ${answer.timing.functionMs} ms, delivery ${answer.timing.deliveryMs} ms`
                : "";
            state.print?.(`${req.method} ${req.url} -> ${answer.statusCode} (${totalMs} ms${fn})`);
        });
        queue = turn.catch(() => undefined);
    };
}

async function readBody(req: http.IncomingMessage): Promise<Buffer | undefined> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) return undefined;
        chunks.push(chunk);
    }
    return Buffer.concat(chunks);
}

/** The answer, and for a function's answer how long the function (first call: its cold start) and the delivery took. */
type TimedAnswer = HttpAnswer & { timing?: { functionMs: number; deliveryMs: number } };

async function answerRequest(
    state: ServerState,
    req: http.IncomingMessage,
    fnOf: (route: LocalRoute) => LoadedFunction,
): Promise<TimedAnswer> {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const method = (req.method ?? "GET").toUpperCase();
    if (url.pathname === "/inbox" || url.pathname.startsWith("/inbox/")) return staticFile(url.pathname);
    const body = await readBody(req);
    if (!body) return gatewayAnswer(413, "Request Entity Too Large");
    const match = matchRoute(state.routes, method, url.pathname);
    if (!match) return gatewayAnswer(404, "Not Found");
    const authorizer = await authorize(state, match.route, req, url, body);
    if ("statusCode" in authorizer) return authorizer;
    const event = httpApiEvent({
        routeKey: match.route.routeKey,
        method,
        rawPath: url.pathname,
        rawQueryString: url.search.slice(1),
        headers: req.headers,
        body,
        pathParameters: match.pathParameters,
        sourceIp: req.socket.remoteAddress?.replace(/^::ffff:/, "") ?? "127.0.0.1",
        authorizer,
        apiId: "local",
        stage: state.stage,
        accountId: ACCOUNT_ID,
        now: new Date(),
    });
    const lines: string[] = [];
    const invoked = Date.now();
    const result = await captureStdout(lines, () => fnOf(match.route).invoke(event));
    const functionMs = Date.now() - invoked;
    if (state.verbose) for (const line of lines) state.print?.(`  ${match.route.fn.name}: ${line}`);
    const answer = httpAnswerOf(result);
    if (match.route.auth === "iam" && method === "POST" && answer.statusCode >= 200 && answer.statusCode < 300)
        await state.afterAccepted?.();
    return { ...answer, timing: { functionMs, deliveryMs: Date.now() - invoked - functionMs } };
}

/** The authorizer context API Gateway would add, or its refusal. */
async function authorize(
    state: ServerState,
    route: LocalRoute,
    req: http.IncomingMessage,
    url: URL,
    body: Buffer,
): Promise<NonNullable<ReturnType<typeof httpApiEvent>["requestContext"]["authorizer"]> | HttpAnswer> {
    if (route.auth === "jwt") {
        const token = bearerToken(req.headers.authorization);
        if (!token) return gatewayAnswer(401, "Unauthorized", { "www-authenticate": "Bearer" });
        try {
            return { jwt: await state.issuer.verify(token) };
        } catch {
            return gatewayAnswer(401, "Unauthorized", { "www-authenticate": 'Bearer error="invalid_token"' });
        }
    }
    const query: Record<string, string | string[]> = {};
    for (const [k, v] of url.searchParams) query[k] = k in query ? [...[query[k]].flat(), v] : v;
    const headers = Object.fromEntries(
        Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(",") : String(v)]),
    );
    const verdict = await verifySigV4(
        { method: req.method ?? "GET", path: url.pathname, query, headers, body },
        [state.credentials],
        REGION,
    );
    if (!verdict.ok) {
        state.print?.(`  SigV4 refused: ${verdict.reason}`);
        return gatewayAnswer(403, "Forbidden");
    }
    const c = verdict.credentials;
    const userId = `AIDALOCAL${c.accessKeyId.slice(-8)}`;
    return {
        iam: {
            accessKey: c.accessKeyId,
            accountId: c.accountId,
            callerId: userId,
            principalOrgId: null,
            userArn: c.userArn,
            userId,
        },
    };
}

/** Every channel queue the program has, drained through its sender (the event sources, at once). */
async function deliver(platform: LocalPlatform, options: LocalApiOptions): Promise<void> {
    for (const channel of PROGRAM_CHANNELS) {
        const drained = await platform.drain(channel);
        if (drained.invocations === 0) continue;
        options.print?.(
            `  ${channel}: ${drained.acknowledged} message(s) handled by ${drained.function} in ${drained.invocations} invocation(s)${drained.errors.length ? `, ${drained.errors.length} error(s)` : ""}`,
        );
        if (options.verbose) for (const line of drained.output) options.print?.(`    ${line}`);
    }
}

function staticFile(pathname: string): HttpAnswer {
    if (pathname === "/inbox") return { statusCode: 301, headers: { location: "/inbox/" }, body: Buffer.alloc(0) };
    const name = pathname === "/inbox/" ? "index.html" : pathname.slice("/inbox/".length);
    const type = STATIC_TYPES[path.extname(name)];
    if (!/^[a-z0-9-]+\.[a-z]+$/.test(name) || !type) return gatewayAnswer(404, "Not Found");
    const file = path.join(INBOX_DIR, name);
    if (!fs.existsSync(file)) return gatewayAnswer(404, "Not Found");
    return {
        statusCode: 200,
        headers: {
            "content-type": type,
            "cache-control": "no-store",
            "content-security-policy": "default-src 'self'; style-src 'self'; script-src 'self'; connect-src 'self'",
        },
        body: fs.readFileSync(file),
    };
}
