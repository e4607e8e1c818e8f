// The parts of verovio's JavaScript toolkit the sheet uses (the package ships no type declarations).
declare module "verovio/wasm" {
  export default function createVerovioModule(options?: Record<string, unknown>): Promise<unknown>;
}

declare module "verovio/esm" {
  export class VerovioToolkit {
    constructor(module: unknown);
    setOptions(options: Record<string, unknown>): void;
    loadData(data: string): boolean;
    getPageCount(): number;
    renderToSVG(pageNo?: number, xmlDeclaration?: boolean): string;
    renderToTimemap(options?: Record<string, unknown>): import("@/lib/timemap").TimemapEntry[];
    /** An element's MEI attributes (a note's "loc", "head.shape", ...), as strings. */
    getElementAttr(xmlId: string): Record<string, string>;
    redoLayout(options?: Record<string, unknown>): void;
    getLog(): string;
    getVersion(): string;
  }
}
