// `npm run sandbox [-- --stack dev|prod] [--request file.json | --requests N] [--verbose]`: the platform end to end, offline.
// `npm run sandbox -- --serve [--port N]`: the HTTP API on 127.0.0.1 (toolkit/local-api).
import { sandboxCommand } from "../toolkit/sandbox/cli";

sandboxCommand(process.argv.slice(2));
