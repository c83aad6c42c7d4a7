/** What electron-vite (Vite) writes into the main-process bundle when it builds it. */
interface ImportMetaEnv {
  /** True in a bundle built by `electron-vite dev`, false in `electron-vite build`. */
  readonly DEV: boolean;
}

interface ImportMeta {
  readonly env: ImportMetaEnv;
}
