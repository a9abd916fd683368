/**
 * The layout's arrows, checked on every tracked TypeScript file: entry points → toolkit → (program, pack);
 * index.ts → infra → handlers; tests → anything; nothing outside test/ imports test/.
 */
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as ts from "typescript";

const ROOT = path.resolve(__dirname, "..");

/** Which top-level homes each home may import (itself always). */
const MAY_IMPORT: Record<string, string[]> = {
    "index.ts": ["infra", "handlers"],
    infra: ["handlers"],
    handlers: [],
    policy: [],
    toolkit: ["index.ts", "infra", "handlers", "policy"],
    scripts: ["toolkit"],
    test: ["index.ts", "infra", "handlers", "policy", "toolkit", "scripts"],
};

function homeOf(file: string): string {
    const first = file.split("/")[0];
    return first === file ? file : first;
}

interface ImportEdge {
    from: string;
    to: string;
}

/** Relative imports (static, dynamic, require) of a file, resolved to repository paths. */
function relativeImports(file: string, text: string): ImportEdge[] {
    // preProcessFile finds static imports, `import()` and `require()` calls alike.
    const specs = new Set(ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName));
    return [...specs]
        .filter((s) => s.startsWith("."))
        .map((s) => ({ from: file, to: path.relative(ROOT, path.resolve(ROOT, path.dirname(file), s)) }));
}

function violations(edges: ImportEdge[]): string[] {
    return edges
        .filter((e) => {
            const from = homeOf(e.from);
            const to = homeOf(e.to);
            if (from === to || !(from in MAY_IMPORT)) return false;
            return !MAY_IMPORT[from].includes(to);
        })
        .map((e) => `${e.from} imports ${e.to}`);
}

describe("layout: dependencies point one way", () => {
    const files = execFileSync("git", ["ls-files", "*.ts"], { cwd: ROOT, encoding: "utf8" })
        .split("\n")
        .filter((f) => f && fs.existsSync(path.join(ROOT, f)) && !f.startsWith("test/fixtures/"));
    const edges = files.flatMap((f) => relativeImports(f, fs.readFileSync(path.join(ROOT, f), "utf8")));

    it("finds the imports it judges (the checker reads real edges)", () => {
        expect(edges.some((e) => e.from === "index.ts" && e.to.startsWith("infra/"))).to.equal(true);
        expect(edges.some((e) => e.from.startsWith("toolkit/") && e.to.startsWith("policy/"))).to.equal(true);
    });

    it("no file outside test/ imports test/, policy/ imports only itself, the program never imports the toolkit", () => {
        expect(violations(edges)).to.deep.equal([]);
    });

    it("flags an edge that breaks the rules", () => {
        const bad = [
            ...relativeImports("toolkit/x.ts", 'import { a } from "../test/helpers";'),
            ...relativeImports("policy/x.ts", 'const g = require("../toolkit/gate/gate");'),
            ...relativeImports("handlers/x.ts", 'import type { T } from "../infra/tables";'),
            ...relativeImports("infra/x.ts", 'const m = await import("../toolkit/preview/preview");'),
        ];
        expect(violations(bad)).to.deep.equal([
            "toolkit/x.ts imports test/helpers",
            "policy/x.ts imports toolkit/gate/gate",
            "handlers/x.ts imports infra/tables",
            "infra/x.ts imports toolkit/preview/preview",
        ]);
    });
});
