import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { TABLES, type TableName, type TableSpec } from "./tables";

export interface StorageArgs {
    kmsKeyArn: pulumi.Input<string>;
    deletionProtection: boolean;
    pointInTimeRecovery: boolean;
}

/**
 * The platform's DynamoDB tables (infra/tables.ts holds the model): on-demand billing, encrypted with
 * the stack key, point-in-time recovery and deletion protection per stack, TTL and streams where the
 * model asks for them.
 */
export class Storage extends pulumi.ComponentResource {
    public readonly tables: Record<TableName, aws.dynamodb.Table>;

    constructor(name: string, args: StorageArgs, opts?: pulumi.ComponentResourceOptions) {
        super("notify:storage:Storage", name, {}, opts);
        const tables = {} as Record<TableName, aws.dynamodb.Table>;
        for (const [tableName, spec] of Object.entries(TABLES) as [TableName, TableSpec][]) {
            tables[tableName] = new aws.dynamodb.Table(
                `${name}-${tableName}`,
                {
                    billingMode: "PAY_PER_REQUEST",
                    hashKey: spec.hashKey,
                    rangeKey: spec.rangeKey,
                    attributes: Object.entries(spec.attributes).map(([attr, type]) => ({ name: attr, type })),
                    globalSecondaryIndexes: spec.indexes.map((index) => ({
                        name: index.name,
                        keySchemas: [
                            { attributeName: index.hashKey, keyType: "HASH" },
                            ...(index.rangeKey ? [{ attributeName: index.rangeKey, keyType: "RANGE" }] : []),
                        ],
                        projectionType: index.projection,
                        nonKeyAttributes: index.nonKeyAttributes,
                    })),
                    localSecondaryIndexes: (spec.localIndexes ?? []).map((index) => ({
                        name: index.name,
                        rangeKey: index.rangeKey,
                        projectionType: index.projection,
                        nonKeyAttributes: index.nonKeyAttributes,
                    })),
                    serverSideEncryption: { enabled: true, kmsKeyArn: args.kmsKeyArn },
                    pointInTimeRecovery: { enabled: args.pointInTimeRecovery },
                    deletionProtectionEnabled: args.deletionProtection,
                    ttl: spec.ttlAttribute ? { attributeName: spec.ttlAttribute, enabled: true } : undefined,
                    streamEnabled: spec.stream !== undefined,
                    streamViewType: spec.stream,
                },
                { parent: this, protect: args.deletionProtection },
            );
        }
        this.tables = tables;
        this.registerOutputs(Object.fromEntries(Object.entries(tables).map(([k, t]) => [`${k}TableName`, t.name])));
    }
}
