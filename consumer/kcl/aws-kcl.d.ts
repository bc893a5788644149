// aws-kcl ships no types; this covers the one call we make.
declare module 'aws-kcl' {
  function kcl(
    recordProcessor: object,
    inputFile?: NodeJS.ReadableStream,
    outputFile?: NodeJS.WritableStream,
    errorFile?: NodeJS.WritableStream,
  ): { run(): void };
  export = kcl;
}
