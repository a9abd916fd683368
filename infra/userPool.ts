import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface UserPoolArgs {
    /** The stack's name: the pool is `notify-<stack>-users`. */
    stack: string;
    /** Refuse to delete the pool (and its users) while on: the prod stacks keep it on. */
    deletionProtection: boolean;
}

/**
 * The app users' identity provider when a stack names none (apiJwtIssuer unset): a Cognito user pool
 * (users sign in with their e-mail address, which Cognito verifies; strong passwords; optional TOTP) and
 * one public app client for the mobile and web apps (no secret, SRP sign-in and refresh tokens only:
 * no password ever crosses the wire, no admin or custom flow). The API's JWT authorizer trusts the pool
 * as issuer and the client id as audience (API Gateway compares `client_id` when a token has no `aud`,
 * as Cognito access tokens do).
 */
export class UserPool extends pulumi.ComponentResource {
    public readonly pool: aws.cognito.UserPool;
    public readonly client: aws.cognito.UserPoolClient;
    /** `https://cognito-idp.<region>.amazonaws.com/<poolId>`: the tokens' `iss`. */
    public readonly issuer: pulumi.Output<string>;

    constructor(name: string, args: UserPoolArgs, opts?: pulumi.ComponentResourceOptions) {
        super("notify:api:UserPool", name, {}, opts);
        const region = aws.getRegionOutput({}, { parent: this }).region;

        this.pool = new aws.cognito.UserPool(
            `${name}-pool`,
            {
                name: `notify-${args.stack}-users`,
                deletionProtection: args.deletionProtection ? "ACTIVE" : "INACTIVE",
                usernameAttributes: ["email"],
                autoVerifiedAttributes: ["email"],
                usernameConfiguration: { caseSensitive: false },
                passwordPolicy: {
                    minimumLength: 12,
                    requireLowercase: true,
                    requireUppercase: true,
                    requireNumbers: true,
                    requireSymbols: true,
                    temporaryPasswordValidityDays: 3,
                },
                mfaConfiguration: "OPTIONAL",
                softwareTokenMfaConfiguration: { enabled: true },
                accountRecoverySetting: { recoveryMechanisms: [{ name: "verified_email", priority: 1 }] },
            },
            { parent: this },
        );
        this.client = new aws.cognito.UserPoolClient(
            `${name}-app-client`,
            {
                name: `notify-${args.stack}-app`,
                userPoolId: this.pool.id,
                // A public client (mobile and browser apps cannot keep a secret).
                generateSecret: false,
                explicitAuthFlows: ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
                supportedIdentityProviders: ["COGNITO"],
                preventUserExistenceErrors: "ENABLED",
                enableTokenRevocation: true,
                accessTokenValidity: 60,
                idTokenValidity: 60,
                refreshTokenValidity: 30,
                tokenValidityUnits: { accessToken: "minutes", idToken: "minutes", refreshToken: "days" },
            },
            { parent: this },
        );
        this.issuer = pulumi.interpolate`https://cognito-idp.${region}.amazonaws.com/${this.pool.id}`;
        this.registerOutputs({ userPoolId: this.pool.id, clientId: this.client.id, issuer: this.issuer });
    }
}
