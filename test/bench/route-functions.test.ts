import { expect } from "chai";
import { firstRouteCall } from "../../toolkit/bench/coldload";
import { handlerOf } from "../../toolkit/bench/packages";
import type { ShippedFunction } from "../../toolkit/local-cloud/program";
import type { LocalRoute } from "../../toolkit/local-api/routes";

const shipped = (name: string) => ({ name }) as ShippedFunction;

describe("bench: the API's route functions", () => {
    it("finds a route function's factory through its route module, a processor's by its name", () => {
        expect(handlerOf(shipped("me-inbox-list-fn"))).to.include({ exportName: "listInbox" });
        expect(handlerOf(shipped("me-inbox-list-fn")).file).to.match(/handlers\/api\/me\.ts$/);
        expect(handlerOf(shipped("api-post-notification-fn")).file).to.match(/handlers\/api\/producer\.ts$/);
        expect(handlerOf(shipped("push-sender-fn"))).to.include({ exportName: "pushSender" });
    });

    it("refuses a function whose factory it cannot find, naming where it looked", () => {
        expect(() => handlerOf(shipped("no-such-thing-fn"))).to.throw(/noSuchThing.*handlers\/noSuchThing\.ts/);
    });

    it("makes a route's first cold call an HTTP API request with its path parameters and its authorizer's identity", () => {
        const route = (routeKey: string, auth: "iam" | "jwt") =>
            ({ routeKey, method: routeKey.split(" ")[0], auth }) as unknown as LocalRoute;
        const read = firstRouteCall(route("POST /v1/me/inbox/{id}/read", "jwt")) as Record<string, any>;
        expect(read).to.deep.include({ version: "2.0", rawPath: "/v1/me/inbox/cold-start-1/read" });
        expect(read.pathParameters).to.deep.equal({ id: "cold-start-1" });
        expect(read.requestContext.authorizer.jwt.claims.sub).to.equal("cold-start-nobody");
        const status = firstRouteCall(route("GET /v1/notifications/{id}", "iam")) as Record<string, any>;
        expect(status.requestContext.authorizer.iam.userArn).to.match(/^arn:aws:sts::/);
        expect(status.requestContext.http.method).to.equal("GET");
    });
});
