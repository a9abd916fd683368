import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface CostBudgetArgs {
    /** Budget names are unique per account: `notify-<stack>-monthly-cost`. */
    budgetName: string;
    /** Monthly budget in USD. */
    monthlyLimitUsd: number;
    /** Notify when the month's *forecast* cost reaches this percentage of the budget. */
    forecastPercent: number;
    /** Notify when the month's *actual* cost reaches this percentage of the budget. */
    actualPercent: number;
    /**
     * The cost-allocation tags that select this stack's costs: every value must match (the provider's
     * defaultTags put them on every taggable resource). They must be activated as cost-allocation tags
     * in the Billing console, or the budget sees no cost.
     */
    costAllocationTags: Record<string, string>;
    /** Budgets publishes both notifications here. */
    alarmTopicArn: pulumi.Input<string>;
}

/** Problems with the budget's settings, for the caller to raise before it creates anything. */
export function budgetProblems(args: Omit<CostBudgetArgs, "budgetName" | "alarmTopicArn">): string[] {
    const problems: string[] = [];
    if (!(Number.isFinite(args.monthlyLimitUsd) && args.monthlyLimitUsd > 0)) {
        problems.push(`budget.monthlyLimitUsd must be a positive amount, got ${args.monthlyLimitUsd}`);
    }
    for (const key of ["forecastPercent", "actualPercent"] as const) {
        // Budgets accepts percentage thresholds above 100 (an overrun alert), up to 1000 here.
        if (!(args[key] > 0 && args[key] <= 1000))
            problems.push(`budget.${key} must be in (0, 1000], got ${args[key]}`);
    }
    if (Object.keys(args.costAllocationTags ?? {}).length === 0) {
        problems.push("budget.costAllocationTags is empty: the budget would watch the whole account");
    }
    return problems;
}

/**
 * A monthly AWS Budgets cost budget over this stack's costs only (its cost-allocation tags, ANDed), with
 * a FORECASTED and an ACTUAL notification to the alarm topic: the forecast warns while there is time to
 * act, the actual confirms the overrun.
 */
export class CostBudget extends pulumi.ComponentResource {
    public readonly budget: aws.budgets.Budget;

    constructor(name: string, args: CostBudgetArgs, opts?: pulumi.ComponentResourceOptions) {
        super("notify:monitoring:CostBudget", name, {}, opts);
        const problems = budgetProblems(args);
        if (problems.length > 0) throw new Error(`CostBudget: ${problems.join("; ")}`);

        const tagFilters = Object.entries(args.costAllocationTags).map(([key, value]) => ({
            tags: { key, values: [value], matchOptions: ["EQUALS"] },
        }));
        const notification = (notificationType: "FORECASTED" | "ACTUAL", threshold: number) => ({
            notificationType,
            comparisonOperator: "GREATER_THAN",
            threshold,
            thresholdType: "PERCENTAGE",
            subscriberSnsTopicArns: [args.alarmTopicArn],
        });
        this.budget = new aws.budgets.Budget(
            `${name}-monthly-cost`,
            {
                name: args.budgetName,
                budgetType: "COST",
                timeUnit: "MONTHLY",
                limitAmount: args.monthlyLimitUsd.toFixed(2),
                limitUnit: "USD",
                // One tag alone is a plain filter; two or more must all match (an AND of one root each).
                filterExpression: tagFilters.length === 1 ? tagFilters[0] : { ands: tagFilters },
                notifications: [
                    notification("FORECASTED", args.forecastPercent),
                    notification("ACTUAL", args.actualPercent),
                ],
            },
            { parent: this },
        );
        this.registerOutputs({ budgetName: this.budget.name });
    }
}
