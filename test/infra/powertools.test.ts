/**
 * Powertools from its official layer: one pin for the layer and the npm packages, every function
 * configured with the layer and shipping none of the packages, and the shipped closures (run as
 * serialized) writing the documented log keys and EMF metrics through Powertools.
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import {
    POWERTOOLS_LAYER_VERSION,
    POWERTOOLS_NPM_VERSION,
    POWERTOOLS_PACKAGES,
    powertoolsLayerArn,
} from "../../infra/powertools";
import { type LoadedProgram, loadProgram } from "../../toolkit/local-cloud/program";

const ROOT = path.resolve(__dirname, "..", "..");
const readJson = (file: string) => JSON.parse(fs.readFileSync(path.join(ROOT, file), "utf8"));

describe("Powertools: one pin, the official layer, closure-only archives", function () {
    let program: LoadedProgram;
    before(async function () {
        this.timeout(120_000);
        program = await loadProgram({ stack: "dev" });
    });

    it("package.json and package-lock.json hold exactly the pinned npm version of every Powertools package", function () {
        const manifest = readJson("package.json");
        const lock = readJson("package-lock.json");
        for (const name of POWERTOOLS_PACKAGES.filter((p) => !p.endsWith("/commons")))
            expect(manifest.dependencies[name], name).to.equal(POWERTOOLS_NPM_VERSION);
        for (const name of POWERTOOLS_PACKAGES)
            expect(lock.packages[`node_modules/${name}`]?.version, name).to.equal(POWERTOOLS_NPM_VERSION);
    });

    it("builds the layer ARN of the commercial, GovCloud and China publishers", function () {
        expect(powertoolsLayerArn("eu-west-1")).to.equal(
            `arn:aws:lambda:eu-west-1:094274105915:layer:AWSLambdaPowertoolsTypeScriptV2:${POWERTOOLS_LAYER_VERSION}`,
        );
        expect(powertoolsLayerArn("us-gov-west-1")).to.match(
            /^arn:aws-us-gov:lambda:us-gov-west-1:165093116878:layer:/,
        );
        expect(powertoolsLayerArn("us-gov-east-1")).to.match(
            /^arn:aws-us-gov:lambda:us-gov-east-1:165087284144:layer:/,
        );
        expect(powertoolsLayerArn("cn-north-1")).to.match(/^arn:aws-cn:lambda:cn-north-1:498634801083:layer:/);
    });

    it("refuses regions where the pinned layer version is not published, and non-regions", function () {
        expect(() => powertoolsLayerArn("me-south-1")).to.throw(/at version 46/);
        expect(() => powertoolsLayerArn("cn-northwest-1")).to.throw(/cn-north-1 only/);
        expect(() => powertoolsLayerArn("eu-west-1; DROP")).to.throw(/not an AWS region/);
    });

    it("configures every function with the layer and ships no Powertools file in its archive", function () {
        const functions = program.ofType("aws:lambda/function:Function");
        // Four channel senders, feedback, device maintenance, campaign runner, and the API's nine route functions.
        expect(functions).to.have.length(16);
        for (const fn of functions) {
            expect(fn.inputs.layers, fn.name).to.deep.equal([powertoolsLayerArn("eu-west-1")]);
            const shipped = program.fn(fn.name);
            expect(Object.keys(shipped.archiveEntries), fn.name).to.deep.equal(["__index.js"]);
            // The closure names the package, to be resolved from the layer's /opt/nodejs/node_modules.
            expect(shipped.code, fn.name).to.include('require("@aws-lambda-powertools/logger")');
            expect(shipped.code, fn.name).to.not.include("class Logger extends");
        }
    });

    it("writes the documented log keys and an EMF line from the shipped e-mail sender", async function () {
        const written: string[] = [];
        const write = process.stdout.write;
        const env = {
            ...program.fn("email-sender").environment,
            AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand",
            _X_AMZN_TRACE_ID: "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
            // Nothing may be called for a batch without one valid request; a call would fail at once.
            AWS_ENDPOINT_URL: "http://127.0.0.1:9",
            AWS_ACCESS_KEY_ID: "test",
            AWS_SECRET_ACCESS_KEY: "test",
        };
        const fn = program.fn("email-sender").load(env);
        const record = { messageId: "m-1", body: "not json", attributes: {}, messageAttributes: {} };
        process.stdout.write = ((chunk: string | Uint8Array) => {
            written.push(String(chunk));
            return true;
        }) as typeof process.stdout.write;
        let result: { batchItemFailures: unknown[] };
        try {
            result = await fn.invoke({ Records: [record] });
        } finally {
            process.stdout.write = write;
        }
        expect(result.batchItemFailures).to.deep.equal([]);
        const lines = written
            .join("")
            .split("\n")
            .filter((l) => l.startsWith("{"))
            .map((l) => JSON.parse(l));
        const logLine = lines.find((l) => l.messageId === "m-1" && l.level);
        expect(logLine, "the rejected request is logged").to.not.equal(undefined);
        expect(logLine).to.include({
            level: "ERROR",
            service: "notify-dev",
            cold_start: true,
            function_name: "email-sender-fn",
            xray_trace_id: "1-5759e988-bd862e3fe1be46a994272793",
            channel: "email",
        });
        expect(logLine.function_request_id).to.be.a("string").and.not.empty;
        const emf = lines.find((l) => l._aws && l.RejectedRequests === 1);
        expect(emf, "the RejectedRequests EMF line").to.include({ channel: "email", messageId: "m-1" });
        expect(emf._aws.CloudWatchMetrics[0].Dimensions).to.deep.equal([["service", "channel"]]);
    });
});
