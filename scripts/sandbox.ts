// `npm run sandbox [-- --stack dev|prod] [--request file.json | --requests N] [--verbose]`: the platform end to end, offline.
import { sandboxCommand } from "../toolkit/sandbox/cli";

sandboxCommand(process.argv.slice(2));
