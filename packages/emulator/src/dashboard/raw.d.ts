// Files imported with `?raw` become strings: Vite does it in tests, the raw plugin in tsdown.config.ts in the build.
declare module '*?raw' {
  const text: string;
  export default text;
}
