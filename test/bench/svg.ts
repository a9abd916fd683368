/**
 * A strict little XML parser for the bench's SVG charts: elements, attributes (quoted, unique), text with
 * the five predefined entities or numeric references, comments. Throws on anything malformed (an unclosed
 * or mismatched tag, a bare "&" or "<", an unquoted or repeated attribute, text outside the root).
 */
export interface XmlElement {
    name: string;
    attributes: Record<string, string>;
    children: XmlElement[];
    text: string;
}

const NAME = /[A-Za-z_:][-A-Za-z0-9_:.]*/y;

function checkText(s: string, at: number): string {
    if (s.includes("<")) throw new Error(`bare "<" in text near ${at}`);
    return s.replace(/&([^;\s]*);?/g, (m, ref: string) => {
        if (!m.endsWith(";")) throw new Error(`unterminated entity near ${at}`);
        const named: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };
        if (ref in named) return named[ref];
        if (/^#[0-9]+$/.test(ref)) return String.fromCodePoint(Number(ref.slice(1)));
        if (/^#x[0-9a-fA-F]+$/.test(ref)) return String.fromCodePoint(Number.parseInt(ref.slice(2), 16));
        throw new Error(`unknown entity &${ref}; near ${at}`);
    });
}

export function parseXml(source: string): XmlElement {
    let i = source.startsWith("<?xml") ? source.indexOf("?>") + 2 : 0;
    const stack: XmlElement[] = [];
    let root: XmlElement | undefined;
    const name = () => {
        NAME.lastIndex = i;
        const m = NAME.exec(source);
        if (!m) throw new Error(`expected a name at ${i}`);
        i += m[0].length;
        return m[0];
    };
    const spaces = () => {
        while (/\s/.test(source[i] ?? "")) i++;
    };
    while (i < source.length) {
        const lt = source.indexOf("<", i);
        const chunk = source.slice(i, lt === -1 ? source.length : lt);
        if (stack.length > 0) stack[stack.length - 1].text += checkText(chunk, i);
        else if (chunk.trim()) throw new Error(`text outside the root element at ${i}`);
        if (lt === -1) break;
        i = lt;
        if (source.startsWith("<!--", i)) {
            const end = source.indexOf("-->", i);
            if (end === -1) throw new Error("unterminated comment");
            i = end + 3;
        } else if (source[i + 1] === "/") {
            i += 2;
            const closing = name();
            spaces();
            if (source[i] !== ">") throw new Error(`malformed end tag at ${i}`);
            i++;
            const open = stack.pop();
            if (!open || open.name !== closing) throw new Error(`</${closing}> does not close <${open?.name}>`);
        } else {
            i++;
            const element: XmlElement = { name: name(), attributes: {}, children: [], text: "" };
            for (;;) {
                spaces();
                if (source.startsWith("/>", i) || source[i] === ">") break;
                const attr = name();
                spaces();
                if (source[i] !== "=") throw new Error(`attribute ${attr} without a value at ${i}`);
                i++;
                spaces();
                const quote = source[i];
                if (quote !== '"' && quote !== "'") throw new Error(`unquoted attribute ${attr} at ${i}`);
                const end = source.indexOf(quote, i + 1);
                if (end === -1) throw new Error(`unterminated attribute ${attr}`);
                if (attr in element.attributes) throw new Error(`repeated attribute ${attr}`);
                element.attributes[attr] = checkText(source.slice(i + 1, end), i);
                i = end + 1;
            }
            if (stack.length > 0) stack[stack.length - 1].children.push(element);
            else if (root) throw new Error("a second root element");
            else root = element;
            if (source.startsWith("/>", i)) i += 2;
            else {
                i++;
                stack.push(element);
            }
        }
    }
    if (stack.length > 0) throw new Error(`<${stack[stack.length - 1].name}> is never closed`);
    if (!root) throw new Error("no root element");
    return root;
}

export function findAll(element: XmlElement, match: (e: XmlElement) => boolean): XmlElement[] {
    return [...(match(element) ? [element] : []), ...element.children.flatMap((c) => findAll(c, match))];
}
