/**
 * A small XML reader for unit tests, which run in Node without a DOM: elements with their attributes,
 * children and text, as lib/editor/sheetNotes.ts reads them (the browser gives it DOMParser's elements).
 * Enough for well-formed files without entities beyond the five predefined ones; not for production.
 */
import type { XmlElement } from "@/lib/editor/sheetNotes";

type Node = XmlElement & { children: Node[]; textContent: string; attributes: Map<string, string> };

const TOKEN = /<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<!DOCTYPE[^>]*>|<\/([\w:.-]+)\s*>|<([\w:.-]+)((?:\s+[\w:.-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>|([^<]+)/g;
const ATTRIBUTE = /([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;
const ENTITIES: Record<string, string> = { "&lt;": "<", "&gt;": ">", "&amp;": "&", "&quot;": '"', "&apos;": "'" };

function element(tagName: string, attributes: Map<string, string>): Node {
  return { tagName, attributes, children: [], textContent: "", getAttribute: (name) => attributes.get(name) ?? null };
}

/** The root element of `xml`; throws on a closing tag that does not match. */
export function parseXml(xml: string): XmlElement {
  const root = element("#document", new Map());
  const open: Node[] = [root];
  for (const [, closing, tag, attrs, selfClosing, text] of xml.matchAll(TOKEN)) {
    const parent = open[open.length - 1];
    if (text !== undefined) {
      const decoded = text.replace(/&(lt|gt|amp|quot|apos);/g, (e) => ENTITIES[e]);
      for (const el of open) el.textContent += decoded;
    } else if (closing !== undefined) {
      if (parent.tagName !== closing) throw new Error(`</${closing}> closes <${parent.tagName}>`);
      open.pop();
    } else if (tag !== undefined) {
      const el = element(tag, new Map([...(attrs ?? "").matchAll(ATTRIBUTE)].map(([, name, a, b]) => [name, a ?? b])));
      parent.children.push(el);
      if (!selfClosing) open.push(el);
    }
  }
  if (open.length !== 1 || root.children.length !== 1) throw new Error("not one well-formed root element");
  return root.children[0];
}
