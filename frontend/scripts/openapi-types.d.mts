export const SCHEMA_FILE: string;
export const TYPES_FILE: string;
export function typesFor(schema: unknown): Promise<string>;
