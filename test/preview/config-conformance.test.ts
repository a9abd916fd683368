/**
 * The engine's own test cases for project and stack config, as a table: pulumi/pulumi
 * sdk/go/common/workspace/project_test.go (TestStackConfig*, TestProjectConfig*, TestNamespaced*,
 * TestUntyped*, TestProjectValidation*) and config_test.go (TestValidateStackConfigValues,
 * TestValidateStackConfigAndApplyProjectConfig), run through the offline preview's reader
 * (readProject + resolveStackConfig over real files), expecting the engine's messages and values.
 *
 * Not ported: cases about decryption (decrypt errors, batch-decrypt caching) and a malformed object
 * value, which no YAML stack file can produce; the offline preview has no decrypter.
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { readProject, resolveStackConfig, SECRET_PLACEHOLDER } from "../../toolkit/preview/preview";

interface Case {
    name: string;
    project: string;
    stack: string;
    /** The engine's error (a substring of ours, which adds the file and a fix). */
    error?: string;
    /** Values the program then sees, and how many keys there are in all. */
    values?: Record<string, string>;
    count?: number;
}

const cases: Case[] = [
    {
        name: "TestStackConfigIsInheritedFromProjectConfig",
        project: "name: test\nruntime: dotnet\nconfig:\n  instanceSize: t3.micro\n  instanceCount: 20\n  protect: true",
        stack: "config:\n  test:instanceSize: t4.large",
        values: { "test:instanceSize": "t4.large", "test:instanceCount": "20", "test:protect": "true" },
        count: 3,
    },
    {
        name: "TestNamespacedConfigValuesAreInheritedCorrectly",
        project:
            'name: test\nruntime: dotnet\nconfig:\n  aws:region: us-west-1\n  pulumi:disable-default-providers: ["*"]\n  instanceSize: t3.micro',
        stack: "config:\n  test:instanceSize: t4.large",
        values: {
            "test:instanceSize": "t4.large",
            "aws:region": "us-west-1",
            "pulumi:disable-default-providers": '["*"]',
        },
        count: 3,
    },
    {
        name: "TestLoadingStackConfigWithoutNamespacingTheProject",
        project: "name: test\nruntime: dotnet\nconfig:\n  aws:region: us-west-1\n  instanceSize: t3.micro",
        stack: "config:\n  instanceSize: t4.large",
        values: { "test:instanceSize": "t4.large", "aws:region": "us-west-1" },
        count: 2,
    },
    {
        name: "TestUntypedProjectConfigValuesAreNotValidated",
        project: "name: test\nruntime: dotnet\nconfig:\n  instanceSize: t3.micro\n  aws:region: us-west-1",
        stack: "config:\n  instanceSize: 9999\n  aws:region: 42",
        values: { "test:instanceSize": "9999", "aws:region": "42" },
        count: 2,
    },
    {
        name: "TestUntypedProjectConfigValuesWithOnlyDefaultOrOnlyValue",
        project:
            "name: test\nruntime: dotnet\nconfig:\n  instanceSize:\n    default: t3.micro\n  region:\n    value: us-west-1",
        stack: "config:\n  aws:answer: 42",
        values: { "test:instanceSize": "t3.micro", "test:region": "us-west-1", "aws:answer": "42" },
        count: 3,
    },
    {
        name: "TestUntypedStackConfigValuesDoNeedProjectDeclaration",
        project: "name: test\nruntime: dotnet\nconfig:\n  createVpc: true",
        stack: "config:\n  instanceSize: 42",
        values: { "test:instanceSize": "42", "test:createVpc": "true" },
        count: 2,
    },
    {
        name: "TestNamespacedProjectConfigShouldNotBeExplicitlyTyped",
        project:
            "name: test\nruntime: dotnet\nconfig:\n  aws:region:\n    type: string\n    value:\n      region: us-west-1",
        stack: "config: {}",
        error: "Configuration key 'aws:region' is not namespaced by the project and should not define a type",
    },
    {
        name: "TestProjectConfigCannotHaveBothValueAndDefault",
        project:
            "name: test\nruntime: dotnet\nconfig:\n  instanceSize:\n    type: string\n    default: t3.micro\n    value: t4.large",
        stack: "config: {}",
        error: "project config 'instanceSize' cannot have both a 'default' and 'value' attribute",
    },
    {
        name: "TestProjectConfigCannotBeTypedArrayWithoutItems",
        project:
            "name: test\nruntime: dotnet\nconfig:\n  instanceSize:\n    type: array\n    default: [t3.micro, t4.large]",
        stack: "config: {}",
        error: "The configuration key 'instanceSize' declares an array but does not specify the underlying type via the 'items' attribute",
    },
    {
        name: "TestNamespacedProjectConfigShouldNotBeProvideDefault",
        project: "name: test\nruntime: dotnet\nconfig:\n  aws:region:\n    default: us-west-1",
        stack: "config: {}",
        error: "Configuration key 'aws:region' is not namespaced by the project and should not define a default value. Did you mean to use the 'value' attribute instead of 'default'?",
    },
    {
        name: "TestUntypedProjectConfigObjectValuesPassedDownToStack",
        project:
            "name: test\nruntime: dotnet\nconfig:\n  instanceSize:\n    value:\n      hello: world\n  aws:config:\n    value:\n      region: us-west-1",
        stack: "config:\n  aws:whatever: 42",
        values: {
            "test:instanceSize": '{"hello":"world"}',
            "aws:config": '{"region":"us-west-1"}',
            "aws:whatever": "42",
        },
        count: 3,
    },
    {
        name: "TestStackConfigErrorsWhenStackValueIsNotCorrectlyTyped",
        project:
            "name: test\nruntime: dotnet\nconfig:\n  values:\n    type: array\n    items:\n      type: string\n    default: [value]",
        stack: "config:\n  test:values: someValue\n",
        error: "Stack 'dev' with configuration key 'values' must be of type 'array<string>'",
    },
    {
        name: "TestStackConfigIntegerTypeIsCorrectlyValidated (valid)",
        project: "name: test\nruntime: dotnet\nconfig:\n  importantNumber:\n    type: integer\n",
        stack: "config:\n  test:importantNumber: 20\n",
        values: { "test:importantNumber": "20" },
    },
    {
        name: "TestStackConfigIntegerTypeIsCorrectlyValidated (invalid)",
        project: "name: test\nruntime: dotnet\nconfig:\n  importantNumber:\n    type: integer\n",
        stack: "config:\n  test:importantNumber: hello\n",
        error: "Stack 'dev' with configuration key 'importantNumber' must be of type 'integer'",
    },
    {
        name: "TestStackConfigErrorsWhenMissingStackValueForConfigTypeWithNoDefault",
        project: "name: test\nruntime: dotnet\nconfig:\n  values:\n    type: array\n    items:\n      type: string",
        stack: "",
        error: "Stack 'dev' is missing configuration value 'values'",
    },
    {
        name: "TestStackConfigErrorsWhenMissingTwoStackValueForConfigTypeWithNoDefault",
        project:
            "name: test\nruntime: dotnet\nconfig:\n  another:\n    type: string\n  values:\n    type: array\n    items:\n      type: string",
        stack: "",
        error: "Stack 'dev' is missing configuration values 'another' and 'values'",
    },
    {
        name: "TestStackConfigErrorsWhenMissingMultipleStackValueForConfigTypeWithNoDefault",
        project:
            "name: test\nruntime: dotnet\nconfig:\n  hello:\n    type: integer\n  values:\n    type: array\n    items:\n      type: string\n  world:\n    type: string",
        stack: "",
        error: "Stack 'dev' is missing configuration values 'hello', 'values' and 'world'",
    },
    {
        name: "TestStackConfigDoesNotErrorWhenProjectHasNotDefinedConfig",
        project: "name: test\nruntime: dotnet",
        stack: "config:\n  hello: 21\n  world: 42\n  another: 42",
        values: { "test:hello": "21", "test:world": "42", "test:another": "42" },
        count: 3,
    },
    {
        name: "TestStackConfigSecretIsCorrectlyValidated (valid)",
        project: "name: test\nruntime: dotnet\nconfig:\n  importantNumber:\n    type: integer\n    secret: true\n",
        stack: "config:\n  test:importantNumber:\n    secure: MjA=\n",
        values: { "test:importantNumber": SECRET_PLACEHOLDER },
    },
    {
        name: "TestStackConfigSecretIsCorrectlyValidated (invalid)",
        project: "name: test\nruntime: dotnet\nconfig:\n  importantNumber:\n    type: integer\n    secret: true\n",
        stack: "config:\n  test:importantNumber: 20\n",
        error: "Stack 'dev' with configuration key 'importantNumber' must be encrypted as it's secret",
    },
    {
        name: "TestValidateStackConfigAndApplyProjectConfig/Typed Config (nested keys, secret, default)",
        project:
            "name: testProject\nruntime: nodejs\nconfig:\n  testInt:\n    type: integer\n  testNested1.float:\n    type: integer\n  testNested2.bool:\n    type: boolean\n  testSecret:\n    type: string\n    secret: true\n  testDefault:\n    type: integer\n    default: 1",
        stack: "config:\n  testProject:testInt: 1\n  testProject:testNested1:\n    float: 1.0\n  testProject:testNested2:\n    bool: true\n  testProject:testSecret:\n    secure: dGVzdFZhbHVl",
        values: {
            "testProject:testInt": "1",
            "testProject:testDefault": "1",
            "testProject:testNested1": '{"float":1}',
        },
        count: 5,
    },
    {
        name: "TestValidateStackConfigValues/Type Mismatch (type 'number' is not a config type)",
        project: "name: proj\nruntime: nodejs\nconfig:\n  typeKey:\n    type: number",
        stack: "config:\n  proj:typeKey: not-a-number",
        error: "Stack 'dev' with configuration key 'typeKey' must be of type 'number'",
    },
    {
        name: "TestProjectValidationFailsForIncorrectDefaultValueType (integer)",
        project: "name: test\nruntime: dotnet\nconfig:\n  instanceSize:\n    type: integer\n    default: hello",
        stack: "config: {}",
        error: "The default value specified for configuration key 'instanceSize' is not of the expected type 'integer'",
    },
    {
        name: "TestProjectValidationFailsForIncorrectDefaultValueType (array<array<string>>)",
        project:
            "name: test\nruntime: dotnet\nconfig:\n  values:\n    type: array\n    items:\n      type: array\n      items:\n        type: string\n    default: [hello]",
        stack: "config: {}",
        error: "The default value specified for configuration key 'values' is not of the expected type 'array<array<string>>'",
    },
    {
        name: "TestProjectValidationSucceedsForCorrectDefaultValueType",
        project:
            "name: test\nruntime: dotnet\nconfig:\n  instanceSize:\n    type: integer\n    default: 1\n  values:\n    type: array\n    items:\n      type: array\n      items:\n        type: string\n    default: [[hello]]",
        stack: "config: {}",
        values: { "test:instanceSize": "1", "test:values": '[["hello"]]' },
    },
    {
        name: "TestProjectValidationForNameAndRuntime (runtime)",
        project: "name: a-project",
        stack: "config: {}",
        error: "project is missing a 'runtime' attribute",
    },
    {
        name: "issue 9: a secret key with a default, missing from the stack, is filled in plain and rejected",
        project:
            'name: notify\nruntime: nodejs\nconfig:\n  apnsSigningKey:\n    type: string\n    secret: true\n    default: ""',
        stack: "config:\n  aws:region: eu-west-1",
        error: "Stack 'dev' with configuration key 'apnsSigningKey' must be encrypted as it's secret",
    },
];

function resolve(c: Case) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "notify-config-"));
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), c.project);
    fs.writeFileSync(path.join(dir, "Pulumi.dev.yaml"), c.stack);
    return resolveStackConfig(dir, readProject(dir), "dev");
}

describe("stack config as the engine validates it (pulumi/pulumi workspace tests)", function () {
    for (const c of cases) {
        it(c.name, function () {
            if (c.error) {
                expect(() => resolve(c)).to.throw(c.error);
                return;
            }
            const { values } = resolve(c);
            expect(values).to.include(c.values);
            if (c.count !== undefined) expect(Object.keys(values)).to.have.length(c.count);
        });
    }
});

describe("the committed stacks under the ported rules", function () {
    const root = path.resolve(__dirname, "..", "..");
    for (const stack of ["dev", "prod"]) {
        it(`Pulumi.${stack}.yaml passes and gets Pulumi.yaml's defaults as plain values`, function () {
            const project = readProject(root);
            const { values, secretKeys } = resolveStackConfig(root, project, stack);
            expect(values["notify:environment"]).to.equal(stack);
            expect(values["notify:application"]).to.equal("notify-platform"); // a schema default
            expect(secretKeys).to.deep.equal([]);
        });
    }

    it("declares no secret key in the typed schema (an optional secret there always fails)", function () {
        const project = readProject(root);
        const secret = Object.entries(project.config).filter(([, t]) => t.secret);
        expect(secret.map(([k]) => k)).to.deep.equal([]);
    });
});
