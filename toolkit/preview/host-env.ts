import * as path from "node:path";

const REPO_ROOT = path.resolve(__dirname, "..", "..");

/**
 * The environment of a process that runs a program under this toolkit with `-r ts-node/register/transpile-only`:
 * the toolkit's registration (this repository's tsconfig) leaves the program's own files to the program's
 * registration, and packages the program does not ship itself (@pulumi/*) resolve from this repository.
 */
export function hostEnvironment(programDir: string): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {
        ...process.env,
        TS_NODE_PROJECT: path.join(REPO_ROOT, "tsconfig.json"),
    };
    // The toolkit's registration must leave the program's own files to the program's registration.
    const relative = path.relative(REPO_ROOT, path.resolve(programDir)).split(path.sep).join("/");
    if (relative !== "") {
        const escaped = relative.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
        env.TS_NODE_IGNORE = `(?:^|/)node_modules/,^${escaped}/`;
    }
    // Modules the program does not ship itself (@pulumi/*) resolve from this repository, as in the fixtures.
    env.NODE_PATH = [path.join(REPO_ROOT, "node_modules"), process.env.NODE_PATH].filter(Boolean).join(path.delimiter);
    return env;
}
