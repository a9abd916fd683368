/**
 * The local API's HTTP side (toolkit/local-api) over the Api fixture program's routes, as shipped: curl
 * signs SigV4 requests (an implementation independent of the server's verifier), fetch carries JWTs.
 * Checks what API Gateway would do at the edge — 403 for a missing, foreign or stale signature or a
 * tampered body, 401 for a missing, foreign-key or expired token, 404 for no route — and that the
 * closure sees the payload 2.0 event with the authorizer context.
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as YAML from "yaml";
import { devIssuer, LOCAL_AUDIENCE } from "../../toolkit/local-api/jwt";
import { apiRoutes, matchRoute } from "../../toolkit/local-api/routes";
import { localCredentials, startRouteServer } from "../../toolkit/local-api/server";
import { loadProgram } from "../../toolkit/local-cloud/program";
import { curl } from "./curl";

const ROOT = path.resolve(__dirname, "..", "..");

describe("local API server (fixture routes, real HTTP clients)", function () {
    const credentials = localCredentials();
    const issuer = devIssuer();
    let dir: string;
    let server: { url: string; close(): Promise<void> };
    const lines: string[] = [];
    let url = "";

    before(async function () {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "notify-local-api-"));
        const project = YAML.parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8"));
        project.main = path.join(ROOT, "test", "fixtures", "api-program", "index.ts");
        fs.writeFileSync(path.join(dir, "Pulumi.yaml"), YAML.stringify(project));
        fs.copyFileSync(path.join(ROOT, "Pulumi.dev.yaml"), path.join(dir, "Pulumi.dev.yaml"));
        const program = await loadProgram({ programDir: dir, stack: "dev" });
        server = await startRouteServer({
            routes: apiRoutes(program),
            credentials,
            issuer,
            stage: "dev",
            environment: (fn) => fn.environment,
            print: (line) => lines.push(line),
        });
        url = server.url;
    });
    after(async function () {
        await server?.close();
        fs.rmSync(dir, { recursive: true, force: true });
    });

    const sigv4 = () => ({ key: credentials.accessKeyId, secret: credentials.secretAccessKey });

    it("reads the routes from the preview (route -> integration -> function) and matches paths like HTTP API", async function () {
        const program = await loadProgram({ programDir: dir, stack: "dev" });
        const routes = apiRoutes(program);
        expect(routes.map((r) => [r.routeKey, r.auth, r.fn.name]).sort()).to.deep.equal([
            ["GET /v1/fixture/me/{item}", "jwt", "fixture-whoami-fn"],
            ["POST /v1/fixture/echo", "iam", "fixture-echo-fn"],
        ]);
        expect(matchRoute(routes, "GET", "/v1/fixture/me/a%20b")?.pathParameters).to.deep.equal({ item: "a b" });
        expect(matchRoute(routes, "GET", "/v1/fixture/me/")).to.equal(undefined);
        expect(matchRoute(routes, "GET", "/v1/fixture/me/a/b")).to.equal(undefined);
        expect(matchRoute(routes, "PUT", "/v1/fixture/echo")).to.equal(undefined);
    });

    it("IAM route: a SigV4-signed request reaches the closure with the caller in the authorizer context", async function () {
        const answer = await curl(`${url}/v1/fixture/echo`, {
            method: "POST",
            sigv4: sigv4(),
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ message: "hello" }),
        });
        expect(answer.status, answer.body).to.equal(200);
        expect(JSON.parse(answer.body)).to.deep.equal({ caller: credentials.userArn, echo: "echo: hello" });
    });

    it("IAM route: 403 without a signature, with another secret, or with a body other than the one signed", async function () {
        const unsigned = await curl(`${url}/v1/fixture/echo`, { method: "POST", body: '{"message":"x"}' });
        expect(unsigned.status).to.equal(403);
        expect(JSON.parse(unsigned.body)).to.deep.equal({ message: "Forbidden" });
        const wrongSecret = await curl(`${url}/v1/fixture/echo`, {
            method: "POST",
            sigv4: { key: credentials.accessKeyId, secret: "not-the-secret" },
            body: '{"message":"x"}',
        });
        expect(wrongSecret.status).to.equal(403);
        const unknownKey = await curl(`${url}/v1/fixture/echo`, {
            method: "POST",
            sigv4: { key: "AKIAOTHER", secret: credentials.secretAccessKey },
            body: '{"message":"x"}',
        });
        expect(unknownKey.status).to.equal(403);
        // A signature copied onto another body: the payload hash no longer matches.
        const headers = await signedHeadersOf(`${url}/v1/fixture/echo`, '{"message":"signed"}', sigv4());
        const tampered = await fetch(`${url}/v1/fixture/echo`, { method: "POST", headers, body: '{"message":"evil"}' });
        expect(tampered.status).to.equal(403);
        const replayed = await fetch(`${url}/v1/fixture/echo`, {
            method: "POST",
            headers,
            body: '{"message":"signed"}',
        });
        expect(replayed.status).to.equal(200);
        expect(lines.join("\n")).to.include("SigV4 refused: signature does not match");
    });

    it("JWT route: a dev token reaches the closure as claims and scopes; 401 without, with a foreign or an expired token", async function () {
        const token = await issuer.mint("user-42");
        const ok = await fetch(`${url}/v1/fixture/me/book?x=1`, { headers: { authorization: `Bearer ${token}` } });
        expect(ok.status).to.equal(200);
        expect(await ok.json()).to.deep.equal({
            sub: "user-42",
            item: "book",
            scopes: ["notify/inbox", "notify/devices", "notify/preferences"],
        });
        const none = await fetch(`${url}/v1/fixture/me/book`);
        expect(none.status).to.equal(401);
        expect(await none.json()).to.deep.equal({ message: "Unauthorized" });
        const foreign = await devIssuer().mint("user-42");
        expect(
            (await fetch(`${url}/v1/fixture/me/book`, { headers: { authorization: `Bearer ${foreign}` } })).status,
        ).to.equal(401);
        const expired = await issuer.mint("user-42", { expiresInSeconds: -60 });
        expect(
            (await fetch(`${url}/v1/fixture/me/book`, { headers: { authorization: `Bearer ${expired}` } })).status,
        ).to.equal(401);
        // A SigV4 signature is no token for a JWT route.
        expect((await curl(`${url}/v1/fixture/me/book`, { sigv4: sigv4() })).status).to.equal(401);
    });

    it("answers 404 like API Gateway for a path or method without a route", async function () {
        const missing = await fetch(`${url}/v1/nothing-here`);
        expect(missing.status).to.equal(404);
        expect(await missing.json()).to.deep.equal({ message: "Not Found" });
        expect((await fetch(`${url}/v1/fixture/echo`)).status).to.equal(404);
    });

    it("serves the web inbox page and its script under /inbox/ with a same-origin CSP, nothing else", async function () {
        const page = await fetch(`${url}/inbox/`);
        expect(page.status).to.equal(200);
        expect(page.headers.get("content-type")).to.include("text/html");
        expect(page.headers.get("content-security-policy")).to.include("default-src 'self'");
        expect(await page.text()).to.include('<script src="inbox.js"');
        expect((await fetch(`${url}/inbox/inbox.js`)).status).to.equal(200);
        expect((await fetch(`${url}/inbox/..%2fserver.ts`)).status).to.equal(404);
        expect((await fetch(`${url}/inbox/missing.js`)).status).to.equal(404);
    });

    it("mints tokens the JWT authorizer settings accept: issuer, audience, HS256, expiry", async function () {
        const token = await issuer.mint("u-1");
        const { claims } = await issuer.verify(token);
        expect(claims.sub).to.equal("u-1");
        expect(claims.aud).to.equal(LOCAL_AUDIENCE);
        expect(Number(claims.exp) - Number(claims.iat)).to.equal(12 * 3600);
    });
});

/** Headers of a SigV4-signed POST as curl makes them (read back from a one-shot local listener). */
async function signedHeadersOf(
    target: string,
    body: string,
    key: { key: string; secret: string },
): Promise<Record<string, string>> {
    const http = await import("node:http");
    let captured: Record<string, string> = {};
    const sink = http.createServer((req, res) => {
        captured = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
        req.resume();
        req.on("end", () => res.end("{}"));
    });
    await new Promise<void>((resolve) => sink.listen(0, "127.0.0.1", resolve));
    const { port } = sink.address() as import("node:net").AddressInfo;
    try {
        // Same host header as the real target, so the signature is valid there.
        const host = new URL(target).host;
        await curl(`http://127.0.0.1:${port}${new URL(target).pathname}`, {
            method: "POST",
            sigv4: key,
            headers: { host, "content-type": "application/json" },
            body,
        });
    } finally {
        await new Promise<void>((resolve) => sink.close(() => resolve()));
    }
    const { "content-length": _length, connection: _connection, ...headers } = captured;
    return headers;
}
