// The optional secrets the program reads outside Pulumi.yaml's typed schema, for the README's config
// reference (scripts/config-reference.ts may import only toolkit/, the program's list lives in infra/).
import { SECRET_SETTINGS } from "../../infra/config";

export function outOfSchemaSecrets(): Record<string, string> {
    return { ...SECRET_SETTINGS };
}
