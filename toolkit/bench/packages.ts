/**
 * Package size per function, three ways:
 * - default: what CallbackFunction ships without codePathOptions: the serialized `__index.js` plus every
 *   package of `dependencies` and their dependencies, as `pulumi.runtime.computeCodePaths()` lists them
 *   from the repository (the same call CallbackFunction makes);
 * - ours: the archive the program really builds (its code asset, read from the mock-runtime run);
 * - floor: an esbuild-minified bundle of the same handler factory, with what the function gets from its
 *   runtime left external like the program leaves it out: the AWS SDK (nodejs22.x ships it) and the
 *   Powertools packages (the official layer ships them).
 * All three are zipped the same way (zip.ts), so the ratios compare like with like.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { LoadedProgram, ShippedFunction } from "../local-cloud/program";
import { buildZip, entriesOfDirectory, type ZipEntry } from "./zip";
import { POWERTOOLS_PACKAGES } from "../../infra/powertools";
import { ME_ROUTE_FACTORIES } from "../../infra/routes/me";
import { PRODUCER_ROUTE_FACTORIES } from "../../infra/routes/producer";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");

export interface PackageSizes {
    function: string;
    /** The handler module and factory the function is built from (e.g. handlers/pushSender.ts#pushSender). */
    handler: string;
    defaultBytes: number;
    defaultFiles: number;
    oursBytes: number;
    oursFiles: number;
    floorBytes: number;
    /** Uncompressed: ours' entries and the floor's bundle. */
    oursRawBytes: number;
    floorRawBytes: number;
    /** ours / floor. */
    ratio: number;
}

export interface DefaultArchive {
    /** Files of the packages the default packaging adds (paths inside the archive: node_modules/...). */
    entries: ZipEntry[];
    packages: string[];
}

/** The dependency part of the default archive, computed the way CallbackFunction does, from the repo dir. */
export async function defaultArchiveDependencies(): Promise<DefaultArchive> {
    const cwd = process.cwd();
    process.chdir(REPO_ROOT); // computeCodePaths reads package.json and node_modules from the working directory
    try {
        const paths = await pulumi.runtime.computeCodePaths();
        const entries: ZipEntry[] = [];
        const packages: string[] = [];
        for (const [name, asset] of paths) {
            const onDisk = await ((asset as any).path as Promise<string> | string);
            if (typeof onDisk !== "string") throw new Error(`computeCodePaths: ${name} is not a file archive`);
            packages.push(name.replace(/^node_modules\//, ""));
            entries.push(...entriesOfDirectory(path.resolve(REPO_ROOT, onDisk), name));
        }
        return { entries, packages };
    } finally {
        process.chdir(cwd);
    }
}

/** The API's route functions: route name -> its handler factory (exported from a handlers/api/ module). */
const ROUTE_FACTORIES: Partial<Record<string, (...args: never[]) => unknown>> = {
    ...PRODUCER_ROUTE_FACTORIES,
    ...ME_ROUTE_FACTORIES,
};

/**
 * The factory a function ships: a processor `push-sender-fn` -> handlers/pushSender.ts exporting
 * `pushSender`; an API route `me-inbox-list-fn` -> the factory its route module names, in handlers/api/.
 */
export function handlerOf(fn: ShippedFunction): { file: string; exportName: string } {
    const base = fn.name.replace(/-fn$/, "");
    const route = ROUTE_FACTORIES[base];
    const exportName = route ? route.name : base.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    const candidates = route
        ? fs.readdirSync(path.join(REPO_ROOT, "handlers", "api")).map((f) => path.join(REPO_ROOT, "handlers", "api", f))
        : [path.join(REPO_ROOT, "handlers", `${exportName}.ts`)];
    const exported = new RegExp(`export function ${exportName}\\b`);
    const file = candidates.find((f) => fs.existsSync(f) && exported.test(fs.readFileSync(f, "utf8")));
    if (!file)
        throw new Error(
            `${fn.name}: expected its factory as 'export function ${exportName}' in ${candidates.join(", ")}`,
        );
    return { file, exportName };
}

/** The minified bundle of the function's factory, with the AWS SDK left to the runtime. */
export async function floorBundle(fn: ShippedFunction): Promise<string> {
    const esbuild = await import("esbuild");
    const { file, exportName } = handlerOf(fn);
    const out = await esbuild.build({
        stdin: {
            contents: `exports.handler = require(${JSON.stringify(file)}).${exportName}();`,
            resolveDir: REPO_ROOT,
            loader: "js",
            sourcefile: `${fn.name}-entry.js`,
        },
        bundle: true,
        minify: true,
        platform: "node",
        target: "node22",
        format: "cjs",
        external: ["@aws-sdk/*", ...POWERTOOLS_PACKAGES],
        write: false,
        logLevel: "silent",
    });
    return out.outputFiles[0].text;
}

/** The entries of the archive the program builds for this function (text assets and files on disk). */
export function oursEntries(fn: ShippedFunction): ZipEntry[] {
    return Object.keys(fn.archiveEntries).map((name) => ({
        name,
        data: name === "__index.js" ? Buffer.from(fn.code) : fs.readFileSync(path.join(REPO_ROOT, name)),
    }));
}

export async function measurePackages(program: LoadedProgram, dependencies: DefaultArchive): Promise<PackageSizes[]> {
    const shared = new Map<string, Buffer>();
    const rows: PackageSizes[] = [];
    for (const fn of [...program.functions].sort((a, b) => a.name.localeCompare(b.name))) {
        const { file, exportName } = handlerOf(fn);
        const index: ZipEntry = { name: "__index.js", data: Buffer.from(fn.code) };
        const defaultZip = buildZip([index, ...dependencies.entries], shared);
        shared.delete("__index.js"); // differs per function
        const ours = oursEntries(fn);
        const oursZip = buildZip(ours);
        const floor = Buffer.from(await floorBundle(fn));
        const floorZip = buildZip([{ name: "index.js", data: floor }]);
        rows.push({
            function: fn.name,
            handler: `${path.relative(REPO_ROOT, file)}#${exportName}`,
            defaultBytes: defaultZip.length,
            defaultFiles: dependencies.entries.length + 1,
            oursBytes: oursZip.length,
            oursFiles: ours.length,
            floorBytes: floorZip.length,
            oursRawBytes: ours.reduce((total, e) => total + e.data.length, 0),
            floorRawBytes: floor.length,
            ratio: oursZip.length / floorZip.length,
        });
    }
    return rows;
}
