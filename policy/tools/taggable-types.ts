/**
 * Derives the list of taggable resource types from the installed @pulumi/aws package: a resource is
 * taggable when its constructor forwards a `tags` input (`resourceInputs["tags"] = args?.tags`).
 *
 * The list is generated into policy/taggable-types.json (not computed when the pack loads: scanning
 * ~1,600 modules would slow every `pulumi preview`). A test compares the file with the installed
 * package, so upgrading @pulumi/aws without regenerating fails `npm test`.
 *
 * Regenerate: npx ts-node --transpile-only policy/tools/taggable-types.ts
 */
import * as fs from "node:fs";
import * as path from "node:path";

export function collectTaggableTypes(awsPackageDir: string): string[] {
    const types = new Set<string>();
    const walk = (dir: string, depth: number): void => {
        if (depth > 3) {
            return; // the package is at most two module levels deep; bounded walk
        }
        for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
            const full = path.join(dir, entry.name);
            if (entry.isDirectory()) {
                if (entry.name !== "node_modules" && entry.name !== "types") {
                    walk(full, depth + 1);
                }
            } else if (entry.name.endsWith(".js")) {
                const source = fs.readFileSync(full, "utf8");
                const typeMatch = /static __pulumiType = '([^']+)'/.exec(source);
                if (typeMatch && source.includes('resourceInputs["tags"] = args?.tags')) {
                    types.add(typeMatch[1]);
                }
            }
        }
    };
    walk(awsPackageDir, 0);
    return [...types].sort();
}

export function awsPackageDir(): string {
    return path.dirname(require.resolve("@pulumi/aws/package.json"));
}

export const taggableTypesFile = path.join(__dirname, "..", "taggable-types.json");

if (require.main === module) {
    const pkg = JSON.parse(fs.readFileSync(path.join(awsPackageDir(), "package.json"), "utf8"));
    const types = collectTaggableTypes(awsPackageDir());
    fs.writeFileSync(taggableTypesFile, `${JSON.stringify({ awsPackageVersion: pkg.version, types }, null, 1)}\n`);
    console.log(`${types.length} taggable types from @pulumi/aws ${pkg.version} -> ${taggableTypesFile}`);
}
