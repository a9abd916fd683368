/**
 * Issue 11's "cold and warm latency of POST /v1/notifications, measured locally": the local HTTP API
 * (`npm run sandbox -- --serve`: the program's shipped route functions on the local cloud, 127.0.0.1)
 * is started, and this process sends SigV4-signed requests to it one at a time. The first POST is the
 * cold one (the route function's module load + factory + its first DynamoDB and SNS calls, in a process
 * where the SDK is already loaded); N warm POSTs follow with distinct notificationIds and the cheapest
 * channel list (["inapp"]), then the status read `GET /v1/notifications/{id}` the same way. Each request
 * carries the client-observed time and the server's own split: the function's call and the inline
 * delivery (the local server drains the channel queues before answering an accepted POST; on AWS that is
 * asynchronous and not in the answer). Reported with samples and spread, never asserted.
 */
import { REGION } from "../local-cloud/platform";
import { type AnswerTiming, type LocalApi, startLocalApi } from "../local-api/server";
import { signRequest } from "../local-api/sigv4";
import { type Spread, spread } from "./stats";

/** `--api-requests`: warm requests per route (bounded in work, like every phase). */
export const API_REQUESTS = { min: 1, max: 500, default: 30 } as const;

export interface RequestSample {
    status: number;
    clientMs: number;
    functionMs?: number;
    deliveryMs?: number;
}

export interface RouteLatency {
    route: string;
    /** The first request to the route's function in this process (n=1). */
    cold: RequestSample;
    /** The warm requests that got a 2xx answer, with their spread. */
    warm: { requests: number; ok: number; statuses: Record<string, number>; clientMs: Spread; functionMs: Spread };
}

export interface ApiLatencyResult {
    stack: string;
    channels: string[];
    post: RouteLatency & { warmDeliveryMs: Spread };
    get: RouteLatency;
    note: string;
}

const CHANNELS = ["inapp"];
const NOTE =
    "one process: client and server share the event loop, one request at a time; cold = first call of the route function in a process that already loaded the SDK (fresh-process cold loads are in coldLoads); clientMs of a POST includes the local inline delivery (deliveryMs), functionMs does not; on AWS add API Gateway (IAM authorization) and Lambda's own cold start";

/** Warm samples as the report shows them: 2xx ones in the spread, every status counted. */
export function warmFigures(samples: RequestSample[]): RouteLatency["warm"] & { deliveryMs: Spread } {
    const ok = samples.filter((s) => s.status >= 200 && s.status < 300);
    const statuses: Record<string, number> = {};
    for (const s of samples) statuses[s.status] = (statuses[s.status] ?? 0) + 1;
    const of = (pick: (s: RequestSample) => number | undefined) =>
        spread(ok.map(pick).filter((v): v is number => v !== undefined));
    return {
        requests: samples.length,
        ok: ok.length,
        statuses,
        clientMs: of((s) => s.clientMs),
        functionMs: of((s) => s.functionMs),
        deliveryMs: of((s) => s.deliveryMs),
    };
}

/** Sends signed requests and pairs each answer with the server's own timing of it. */
function client(api: LocalApi, answers: AnswerTiming[]) {
    return async (method: "GET" | "POST", path: string, body?: unknown): Promise<RequestSample> => {
        const url = `${api.url}${path}`;
        const payload = body === undefined ? undefined : JSON.stringify(body);
        const headers = await signRequest(api.credentials, REGION, {
            method,
            url,
            headers: payload ? { "content-type": "application/json" } : {},
            body: payload,
        });
        answers.length = 0;
        const t0 = performance.now();
        const res = await fetch(url, { method, headers, body: payload });
        await res.arrayBuffer();
        const clientMs = performance.now() - t0;
        const server = answers.find((a) => a.method === method && a.path === path);
        return { status: res.status, clientMs, functionMs: server?.functionMs, deliveryMs: server?.deliveryMs };
    };
}

function requireOk(what: string, sample: RequestSample): RequestSample {
    if (sample.status < 200 || sample.status >= 300) throw new Error(`${what} answered ${sample.status}`);
    return sample;
}

async function measure(api: LocalApi, answers: AnswerTiming[], requests: number, runId: string) {
    const send = client(api, answers);
    const notification = (i: number) => ({
        notificationId: `apibench-${runId}-${i}`,
        userId: api.sampleUserId,
        channels: CHANNELS,
        title: "Bench",
        body: `Latency sample ${i}`,
    });
    const postCold = requireOk("the first POST", await send("POST", "/v1/notifications", notification(0)));
    const posts: RequestSample[] = [];
    for (let i = 1; i <= requests; i++) posts.push(await send("POST", "/v1/notifications", notification(i)));
    const statusPath = (i: number) => `/v1/notifications/${notification(i).notificationId}`;
    const getCold = requireOk("the first GET", await send("GET", statusPath(0)));
    const gets: RequestSample[] = [];
    for (let i = 1; i <= requests; i++) gets.push(await send("GET", statusPath(i)));
    const { deliveryMs, ...postWarm } = warmFigures(posts);
    const { deliveryMs: _none, ...getWarm } = warmFigures(gets);
    return {
        post: { route: "POST /v1/notifications", cold: postCold, warm: postWarm, warmDeliveryMs: deliveryMs },
        get: { route: "GET /v1/notifications/{id}", cold: getCold, warm: getWarm },
    };
}

/** The phase: its own local API and local cloud, closed on every path; a failure is the caller's to report. */
export async function measureApiLatency(options: { stack: string; requests: number }): Promise<ApiLatencyResult> {
    const answers: AnswerTiming[] = [];
    const api = await startLocalApi({ stack: options.stack, onAnswer: (a) => answers.push(a) });
    try {
        const runId = Date.now().toString(36);
        const measured = await measure(api, answers, options.requests, runId);
        return { stack: options.stack, channels: CHANNELS, ...measured, note: NOTE };
    } finally {
        await api.close();
    }
}
