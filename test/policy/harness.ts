/**
 * Builds what the offline preview records (PreviewResult) so a test can run the pack through the gate,
 * which hands each policy the engine's argument shapes (see toolkit/gate/gate.ts and the parity test in
 * gate.test.ts that compares the gate with @pulumi/policy's own analyzer functions).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type GateReport, type GateViolation, runGate } from "../../toolkit/gate/gate";
import type { PreviewResource, PreviewResult } from "../../toolkit/preview/types";

export const project = "notify";
export const defaultTags = { Environment: "prod", Application: "notify-platform", Owner: "team", CostCenter: "CC-1" };

export function urnOf(stack: string, type: string, name: string): string {
    return `urn:pulumi:${stack}::${project}::${type}::${name}`;
}

export interface Res extends PreviewResource {
    ignoreChanges?: string[];
}

/** A custom resource under the stack, using the explicit provider "main" unless told otherwise. */
export function res(
    type: string,
    name: string,
    inputs: Record<string, any> = {},
    extra: Partial<Res> & { stack?: string } = {},
): Res {
    const stack = extra.stack ?? "prod";
    const { stack: _s, ...rest } = extra;
    return {
        type,
        name,
        urn: urnOf(stack, type, name),
        custom: true,
        parent: urnOf(stack, "pulumi:pulumi:Stack", `${project}-${stack}`),
        provider: urnOf(stack, "pulumi:providers:aws", "main"),
        inputs,
        dependencies: [],
        propertyDependencies: {},
        ...rest,
    };
}

/** `child.inputs[property]` computed from `target` (what `bucket: bucket.id` records). */
export function dependsOn(child: Res, property: string, target: Res): Res {
    child.propertyDependencies[property] = [...(child.propertyDependencies[property] ?? []), target.urn];
    child.dependencies = [...new Set([...child.dependencies, target.urn])];
    return child;
}

export interface GateOptionsForTest {
    stack?: string;
    now?: Date;
    /** The provider's defaultTags; null: no defaultTags. */
    tags?: Record<string, string> | null;
    /** Record defaultTags as an object instead of @pulumi/aws's JSON string. */
    tagsAsObject?: boolean;
}

/** A PreviewResult with the stack resource and the explicit provider (JSON-string defaultTags, as @pulumi/aws sends them). */
export function previewOf(resources: Res[], options: GateOptionsForTest = {}): PreviewResult {
    const stack = options.stack ?? "prod";
    const tags = options.tags === undefined ? { ...defaultTags, Environment: stack } : options.tags;
    const provider: Res = {
        type: "pulumi:providers:aws",
        name: "main",
        urn: urnOf(stack, "pulumi:providers:aws", "main"),
        custom: true,
        parent: urnOf(stack, "pulumi:pulumi:Stack", `${project}-${stack}`),
        inputs: {
            region: "eu-west-1",
            ...(tags ? { defaultTags: options.tagsAsObject ? { tags } : JSON.stringify({ tags }) } : {}),
        },
        dependencies: [],
        propertyDependencies: {},
    };
    return {
        project,
        stack,
        resources: [
            {
                type: "pulumi:pulumi:Stack",
                name: `${project}-${stack}`,
                urn: urnOf(stack, "pulumi:pulumi:Stack", `${project}-${stack}`),
                custom: false,
                inputs: {},
                dependencies: [],
                propertyDependencies: {},
            },
            provider,
            ...resources,
        ],
        outputs: {},
    };
}

/** Writes a policy config to a temp file (the gate reads files, as the CLI does). */
export function configFile(config: object): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "policy-config-"));
    const file = path.join(dir, "config.json");
    fs.writeFileSync(file, JSON.stringify(config));
    return file;
}

/** Runs the gate over `resources` with `config` (default: everything mandatory). */
export function gate(
    resources: Res[],
    config: object = { all: "mandatory" },
    options: GateOptionsForTest = {},
): GateReport {
    return runGate(previewOf(resources, options), {
        stack: options.stack ?? "prod",
        configFile: configFile(config),
        now: options.now,
    });
}

/** The violations of one policy, as "name: message" lines (easy to assert on). */
export function violationsOf(report: GateReport, policy: string): string[] {
    return report.violations
        .filter((v: GateViolation) => v.policy === policy)
        .map((v) => `${v.resourceName}: ${v.message}`);
}

export const key = res("aws:kms/key:Key", "key", { enableKeyRotation: true });
export const keyArn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
