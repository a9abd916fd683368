/**
 * The README's config reference, generated from Pulumi.yaml's schema, the optional secrets the program
 * reads outside that schema (infra/config.ts SECRET_SETTINGS, via toolkit/preview), and the two stack files.
 * `npx ts-node --transpile-only scripts/config-reference.ts` rewrites the block between the markers;
 * test/readme.test.ts fails when the README and Pulumi.yaml disagree.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { outOfSchemaSecrets } from "../toolkit/preview/secret-settings";

const ROOT = path.resolve(__dirname, "..");
export const START = "<!-- config-reference:start -->";
export const END = "<!-- config-reference:end -->";

export function configReference(): string {
    const project = YAML.parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8"));
    const stack = (name: string) =>
        YAML.parse(fs.readFileSync(path.join(ROOT, `Pulumi.${name}.yaml`), "utf8")).config ?? {};
    const [dev, prod] = [stack("dev"), stack("prod")];
    const cell = (config: Record<string, unknown>, key: string) =>
        config[`${project.name}:${key}`] === undefined ? "" : `\`${String(config[`${project.name}:${key}`])}\``;
    const rows = ["| key | type | default | dev | prod | description |", "|---|---|---|---|---|---|"];
    for (const [key, schema] of Object.entries<any>(project.config)) {
        const fallback = schema.default === undefined ? "**required**" : `\`${JSON.stringify(schema.default)}\``;
        const type = `${schema.type}${schema.secret ? " (secret)" : ""}`;
        rows.push(
            `| \`${key}\` | ${type} | ${fallback} | ${cell(dev, key)} | ${cell(prod, key)} | ${String(schema.description).replace(/\|/g, "\\|")} |`,
        );
    }
    for (const [key, description] of Object.entries(outOfSchemaSecrets())) {
        if (key in project.config)
            throw new Error(`${key} is both in Pulumi.yaml's schema and an out-of-schema secret`);
        const set = (config: Record<string, any>) => (config[`${project.name}:${key}`]?.secure ? "(set, secret)" : "");
        rows.push(
            `| \`${key}\` | string (secret, not in the schema) | unset | ${set(dev)} | ${set(prod)} | ${description.replace(/\|/g, "\\|")} Set with \`pulumi config set --secret ${key}\`. |`,
        );
    }
    return rows.join("\n");
}

export function readmeWithReference(readme: string): string {
    const start = readme.indexOf(START);
    const end = readme.indexOf(END);
    if (start < 0 || end < start) throw new Error(`README.md has no ${START} … ${END} block`);
    return `${readme.slice(0, start + START.length)}\n${configReference()}\n${readme.slice(end)}`;
}

if (require.main === module) {
    const file = path.join(ROOT, "README.md");
    fs.writeFileSync(file, readmeWithReference(fs.readFileSync(file, "utf8")));
}
