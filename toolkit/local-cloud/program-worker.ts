// Child-process entry of loadProgram(): argv = <programDir> <stack> <result.json>.
// Runs the offline preview (toolkit/preview/preview.ts) and adds to each resource the outputs the mock
// runtime gave it (physical names, ARNs, queue URLs): the harness maps those to emulator resources.
import * as fs from "node:fs";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import { runPreview } from "../preview/preview";

const outputsByUrn = new Map<string, Record<string, unknown>>();
const register = MockMonitor.prototype.registerResource;
MockMonitor.prototype.registerResource = function (
    this: MockMonitor,
    req: any,
    callback: (err: any, res: any) => void,
) {
    return register.call(this, req, (err: any, response: any) => {
        if (!err && response) outputsByUrn.set(response.getUrn(), response.getObject()?.toJavaScript() ?? {});
        callback(err, response);
    });
};

const [programDir, stack, out] = process.argv.slice(2);
runPreview({ programDir, stack }).then(
    (result) => {
        const resources = result.resources.map((r) => ({ ...r, outputs: outputsByUrn.get(r.urn) ?? {} }));
        fs.writeFileSync(out, JSON.stringify({ ...result, resources }));
    },
    (err) => {
        process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(1);
    },
);
