export { ErrorCodes } from './codes.js';
export type { ErrorCode, ErrorCodeName } from './codes.js';
export { OverseerError, isOverseerError } from './overseer-error.js';
export type { OverseerErrorOptions } from './overseer-error.js';
