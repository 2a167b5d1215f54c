export { DecodeError } from './decode-error.js';
export { Reader, type TaggedFields } from './reader.js';
export { uvarintSize, varintSize, Writer } from './writer.js';
