/** Builds extension/dist/ from extension/src/; resolves when every file is written. */
export declare function buildExtension(): Promise<void>;
