import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { loadProgram, type LoadedProgram } from "../../toolkit/local-cloud/program";

const FIXTURE = path.join(__dirname, "..", "fixtures", "callback-program");

describe("harness: program under the mock runtime", function () {
    this.timeout(120_000);
    let program: LoadedProgram;

    before(async () => {
        program = await loadProgram({ programDir: FIXTURE, stack: "test" });
    });

    it("records every resource with its inputs", () => {
        expect(program.resources.map((r) => r.type)).to.include.members([
            "pulumi:pulumi:Stack",
            "aws:sqs/queue:Queue",
            "aws:iam/role:Role",
            "aws:lambda/function:Function",
        ]);
        const [queue] = program.ofType("aws:sqs/queue:Queue");
        expect(queue.inputs.visibilityTimeoutSeconds).to.equal(60);
        // The mock runtime's outputs come along: the physical name, ARN and URL the env vars refer to.
        expect(queue.outputs.url).to.equal(program.fn("greeter").environment.INBOX_URL);
        expect(queue.outputs.arn).to.match(/^arn:aws:sqs:eu-west-1:\d{12}:inbox-/);
    });

    it("caches one run per program and stack", async () => {
        expect(await loadProgram({ programDir: FIXTURE, stack: "test" })).to.equal(program);
    });

    it("extracts the serialized closure, with local modules copied in and packages required", () => {
        const fn = program.fn("greeter");
        expect(fn.code).to.contain("nobody to greet"); // greeting.ts, serialized by value
        expect(fn.code).not.to.match(/require\(["']\.\/greeting["']\)/);
        expect(fn.code).to.contain('require("@aws-sdk/client-sqs")');
        expect(fn.archiveEntries).to.deep.equal({ "__index.js": Buffer.byteLength(fn.code) });
        expect(fn.archiveBytes).to.equal(Buffer.byteLength(fn.code));
        expect(fn.timeoutSeconds).to.equal(10);
    });

    it("exposes the environment the program gave the function (mock URLs)", () => {
        const env = program.fn("greeter").environment;
        expect(env.GREETING_STYLE).to.equal("plain");
        expect(env.INBOX_URL).to.match(/^https:\/\/sqs\.eu-west-1\.amazonaws\.com\/\d{12}\/inbox-/);
    });

    it("loads the shipped module from a temp dir and runs its handler with its env, then restores process.env", async () => {
        const fn = program.fn("greeter");
        delete process.env.INBOX_URL;
        const loaded = fn.load({ ...fn.environment, INBOX_URL: "http://127.0.0.1:1/queue/inbox" });
        expect(fs.readFileSync(path.join(loaded.dir, "__index.js"), "utf8")).to.equal(fn.code);
        expect(fs.realpathSync(path.join(loaded.dir, "node_modules"))).to.equal(fs.realpathSync("node_modules"));
        const out = await loaded.invoke({ who: "Ada" });
        expect(out).to.deep.equal({
            message: "Hello, Ada!", // the stack config value, captured at deploy time
            styleAtColdStart: "plain",
            inboxUrl: "http://127.0.0.1:1/queue/inbox",
            clientIsSqs: true,
        });
        expect(process.env.INBOX_URL).to.equal(undefined);
    });

    it("gives each load its own cold start, and surfaces handler errors", async () => {
        const fn = program.fn("greeter");
        const first = fn.load();
        const second = fn.load({ ...fn.environment, GREETING_STYLE: "formal" });
        expect(first.dir).not.to.equal(second.dir);
        expect((await second.invoke({ who: "Grace" })).styleAtColdStart).to.equal("formal");
        expect((await first.invoke({ who: "Grace" })).styleAtColdStart).to.equal("plain");
        await first.invoke({ who: "" }).then(
            () => expect.fail("expected the handler to throw"),
            (err) => expect(err.message).to.equal("nobody to greet"),
        );
    });

    it("names the functions when a lookup is ambiguous or empty", () => {
        expect(() => program.fn("no-such-function")).to.throw(
            /0 functions match 'no-such-function' \(functions: greeter\)/,
        );
    });

    it("reports a program that fails to run, and does not cache the failure", async () => {
        const err = await loadProgram({ programDir: FIXTURE, stack: "missing" }).then(
            () => undefined,
            (e) => e as Error,
        );
        expect(err?.message).to.match(/stack 'missing' has no Pulumi\.missing\.yaml/);
    });
});
