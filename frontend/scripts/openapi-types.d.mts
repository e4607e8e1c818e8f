export const SCHEMA_FILE: string;
export const TYPES_FILE: string;
export const PIPELINE_FILE: string;
export const PIPELINE_PATH: string;
export const REVISION_FILE: string;
export function typesFor(schema: unknown): Promise<string>;
export function pipelineFor(schema: unknown): string;
export function revisionFor(schema: unknown): string;
