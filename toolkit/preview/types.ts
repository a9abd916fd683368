/** What the offline preview (scripts/preview.ts) records of a program, and what the policy gate reads. */
export interface PreviewResource {
    /** e.g. "aws:sqs/queue:Queue", or a component's type token such as "notify:messaging:Messaging". */
    type: string;
    /** The logical name given to the constructor. */
    name: string;
    urn: string;
    /** false for component resources. */
    custom: boolean;
    /** URN of the parent (the stack for top-level resources). */
    parent?: string;
    /** URN of the explicit provider resource, if one was passed (resources: `provider`, components: `providers`). */
    provider?: string;
    /** Resolved inputs as the engine would send them (secrets replaced by "[secret]"; unknowns absent). */
    inputs: Record<string, any>;
    /** URNs this resource depends on (explicit dependsOn plus resources whose outputs feed its inputs). */
    dependencies: string[];
    /** Per-input-property dependencies (property name -> URNs). */
    propertyDependencies: Record<string, string[]>;
    /** Resource options the engine sees and policies may judge. */
    ignoreChanges?: string[];
    protect?: boolean;
}

/** Something the offline preview answered with a stand-in or could not look into: "partial coverage". */
export interface CoverageGap {
    kind: "stand-in invoke" | "unanswered invoke" | "remote component";
    /** The invoke token or the component's type token. */
    token: string;
    /** How many calls (invokes) or which resource names (components). */
    count: number;
    names: string[];
    detail: string;
}

export interface PreviewResult {
    project: string;
    stack: string;
    /** In registration order; includes the stack resource itself ("pulumi:pulumi:Stack"). */
    resources: PreviewResource[];
    /** Stack outputs; a value unknown during preview is "output<string>" (as the CLI prints it). */
    outputs: Record<string, any>;
    /** Invokes answered by the provider's own algorithm (token -> calls). */
    computedInvokes?: Record<string, number>;
    /** Empty when the preview saw everything a real preview would. */
    coverage?: CoverageGap[];
}
