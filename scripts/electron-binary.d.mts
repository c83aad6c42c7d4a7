export declare const PROJECT_ROOT: string;
export declare function findElectronBinary(
  env?: Record<string, string | undefined>,
  root?: string,
): { path: string } | { missing: string };
