// mjml 4 ships no type declarations; only the entry point used here is declared.
declare module 'mjml' {
  interface MjmlError {
    formattedMessage: string;
  }
  export default function mjml2html(
    input: string,
    options?: { validationLevel?: 'strict' | 'soft' | 'skip'; minify?: boolean; keepComments?: boolean },
  ): { html: string; errors: MjmlError[] };
}
