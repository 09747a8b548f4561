// Parse the Mermaid diagram on stdin with mermaid's own parser (the library GitHub renders diagrams with);
// print {"diagramType": ...} or the parse error, exit 1 on an error. jsdom stands in for the browser DOM
// that mermaid's module expects at import; parsing itself draws nothing.
import { JSDOM } from "jsdom";
import { readFileSync } from "node:fs";

const dom = new JSDOM("<!doctype html><html><body></body></html>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import("mermaid");
mermaid.initialize({ startOnLoad: false });
try {
  const result = await mermaid.parse(readFileSync(0, "utf8"));
  console.log(JSON.stringify({ diagramType: result.diagramType }));
} catch (error) {
  console.error(String(error?.message ?? error));
  process.exit(1);
}
