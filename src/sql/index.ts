/** SQL management language: parse scripts into statements, render results as ksqlDB's CLI does. No I/O. */
export type * from './ast.js';
export type * from './results.js';
export { parseScript } from './parser.js';
export { tokenize, sqlError, type Token, type TokenKind, type SqlErrorDetails } from './lexer.js';
export * from './render.js';
export * from './formatDetection.js';
