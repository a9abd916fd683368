import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/**
 * An IAM role an AWS service assumes on this account's behalf, with its one inline policy. The trust
 * policy requires aws:SourceAccount, so another account cannot make the service act with this role
 * (the confused-deputy guard AWS recommends for service roles).
 */
export function serviceRole(
    name: string,
    args: { service: string; description: string; statements: pulumi.Input<aws.iam.PolicyStatement>[] },
    parent: pulumi.Resource,
): aws.iam.Role {
    const account = aws.getCallerIdentityOutput({}, { parent }).accountId;
    const role = new aws.iam.Role(
        `${name}-role`,
        {
            description: args.description,
            assumeRolePolicy: pulumi.jsonStringify({
                Version: "2012-10-17",
                Statement: [
                    {
                        Effect: "Allow",
                        Principal: { Service: args.service },
                        Action: "sts:AssumeRole",
                        Condition: { StringEquals: { "aws:SourceAccount": account } },
                    },
                ],
            }),
        },
        { parent },
    );
    new aws.iam.RolePolicy(
        `${name}-policy`,
        { role: role.id, policy: pulumi.jsonStringify({ Version: "2012-10-17", Statement: args.statements }) },
        { parent },
    );
    return role;
}
