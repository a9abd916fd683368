// `npm start [-- --stack <name>] [--json <file>] [--program <dir>] [--no-gate]`: the offline preview + policy gate.
import { previewCommand } from "../toolkit/preview/cli";

previewCommand(process.argv.slice(2));
