// Declarations of generate-client.mjs, for the test that imports it.
export declare const SCHEMA_TYPES_PATH: URL;
export declare function buildDocument(): Promise<Record<string, unknown>>;
export declare function schemaTypes(document: unknown): Promise<string>;
